"""Unguessable identifiers and the PrizmDoc `u`/`e` id prefixes."""
from __future__ import annotations

import base64
import binascii
import re
import secrets

_ID_CHARS = re.compile(r"[A-Za-z0-9_-]{16,200}")  # fullmatch: `$` would accept a final newline


def new_session_id() -> str:
    """512 random bits, URL-safe (the original's ids are 86 characters too)."""
    return secrets.token_urlsafe(64)


def new_file_id() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_affinity_token() -> str:
    """Opaque base64 of 32 random bytes, as the original."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def is_valid_id(value: str) -> bool:
    return bool(_ID_CHARS.fullmatch(value or ""))


def decode_prefixed_id(value: str) -> str | None:
    """`u{id}` -> id; `e{base64(id)}` -> id; anything else -> None (the caller answers 500)."""
    if not value or len(value) < 2:
        return None
    prefix, rest = value[0], value[1:]
    if prefix == "u":
        candidate = rest
    elif prefix == "e":
        padded = rest + "=" * (-len(rest) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            candidate = raw.decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    else:
        return None
    return candidate if is_valid_id(candidate) else None
