"""Page content encryption (`pageContentEncryption: true`) in PrizmDoc's wire shape, with a key of our own.

Each response body is AES-CBC (PKCS#7) under a fresh random 32-byte content key K and the IV the client sent;
K itself travels in the response as `Accusoft-Data-SK`: base64 of AES-256-CBC(W, same IV, PKCS#7(K)). W, the
wrapping key, is per session: HMAC-SHA256 of the installation's secret and the session id, so every node that
shares the data directory derives the same W without storing it. The viewer page of an encrypted session is
given W (api/viewer.py); nothing else hands it out. What this does and does not protect against: README."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import invalid

IV_BYTES = 16
CONTENT_KEY_BYTES = 32
_LABEL = b"pageturn page content wrapping key v1\x00"


@dataclass(frozen=True)
class Encrypted:
    body: bytes          # AES-CBC(K, iv, PKCS#7(plaintext))
    wrapped_key: str     # Accusoft-Data-SK: base64 of AES-256-CBC(W, iv, PKCS#7(K))


class ContentKeys:
    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("the installation secret is too short")
        self._secret = secret

    def wrapping_key(self, session_id: str) -> bytes:
        return hmac.new(self._secret, _LABEL + session_id.encode("ascii"), hashlib.sha256).digest()

    def encrypt(self, session_id: str, iv: bytes, plaintext: bytes) -> Encrypted:
        content_key = os.urandom(CONTENT_KEY_BYTES)
        return Encrypted(body=_cbc(content_key, iv, plaintext),
                         wrapped_key=base64.b64encode(_cbc(self.wrapping_key(session_id), iv, content_key)).decode())


def _cbc(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """The reverse of _cbc (the tests use it; the viewer does the same with WebCrypto)."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def parse_iv(value: str | None) -> bytes:
    """The `iv` query parameter: 16 bytes in base64url (22 characters unpadded, as PrizmDoc's viewer sends) or
    standard base64, padded or not."""
    if not value or len(value) > 32:
        raise invalid("iv", "16 random bytes in base64url (22 characters)", where="query", received=value)
    text = value.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != IV_BYTES:
        raise invalid("iv", "16 random bytes in base64url (22 characters)", where="query", received=value)
    return raw
