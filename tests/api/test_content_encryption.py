"""pageContentEncryption over real HTTP: PrizmDoc's wire shape (iv, Accusoft-Data-Encrypted, Accusoft-Data-SK,
AES-CBC bodies) with the session's own key, which only its viewer page carries."""
from __future__ import annotations

import base64
import io
import json
import os
import re

import pytest
from PIL import Image

from api.prizm import V1, Prizm
from docgen import make_pdf
from pageturn.core.content_crypto import decrypt

PDF, FACTS = make_pdf()


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def _iv() -> tuple[bytes, str]:
    raw = os.urandom(16)
    return raw, base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _viewer_key(api: Prizm, sid: str) -> bytes | None:
    page = api.get(f"/viewer/{sid}").text
    config = json.loads(re.search(r'<script id="pageturn-config" type="application/json">(.*?)</script>', page,
                                  re.S).group(1))
    key = (config.get("encryption") or {}).get("key")
    return base64.b64decode(key) if key else None


def _open(r, key: bytes, iv: bytes) -> bytes:
    assert r.status_code == 200, (r.status_code, r.text[:200])
    assert r.headers["Accusoft-Data-Encrypted"] == "true"
    content_key = decrypt(key, iv, base64.b64decode(r.headers["Accusoft-Data-SK"]))
    assert len(content_key) == 32
    return decrypt(content_key, iv, r.content)


def test_encrypted_session_pages_and_text(api):
    sid = api.session_with(PDF, "pdf", body={"pageContentEncryption": True})
    plain_sid = api.session_with(PDF, "pdf")
    assert api.get(f"{V1}/u{sid}").json()["pageContentEncryption"] is True
    key = _viewer_key(api, sid)
    assert key is not None and len(key) == 32 and _viewer_key(api, plain_sid) is None
    doc = {"DocumentID": "u" + sid}

    # without an iv nothing of the content is sent
    for path, params in (("/PCCIS/V1/Page/q/0", {"ContentType": "svgb"}), ("/PCCIS/V1/Page/q/0", {}),
                         ("/PCCIS/V1/Document/q/0-0/Text", {}), ("/PCCIS/V1/Page/q/0/100x100", {}),
                         ("/PCCIS/V1/Page/q/0/Tile/0/0/64/64", {})):
        r = api.get(path, params={**doc, **params})
        assert r.status_code == 480 and r.json()["errorDetails"]["at"] == "iv", path
    bad = api.get("/PCCIS/V1/Page/q/0", params={**doc, "ContentType": "svgb", "iv": "not-an-iv"})
    assert bad.status_code == 480

    attributes = api.get("/PCCIS/V1/Page/q/0/Attributes", params=doc)
    assert attributes.status_code == 200 and attributes.headers["Accusoft-Data-Encrypted"] == "true"
    assert attributes.json()["imageWidth"] > 0  # the attributes themselves are not encrypted

    plain_svg = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + plain_sid, "ContentType": "svgb"})
    assert plain_svg.headers["Accusoft-Data-Encrypted"] == "false"
    iv, iv_text = _iv()
    r = api.get("/PCCIS/V1/Page/q/0", params={**doc, "ContentType": "svgb", "iv": iv_text})
    assert b"<svg" not in r.content and r.headers["Content-Type"].startswith("text/plain; charset=x-user-defined")
    svg = _open(r, key, iv)
    assert svg.startswith(b"<?xml") or svg.startswith(b"<svg")
    assert len(svg) == len(plain_svg.content)  # the same page (ids differ only by the cached file's path)
    # a second request (served from the cache) under another iv and content key decrypts to the same page
    iv2, iv2_text = _iv()
    again = api.get("/PCCIS/V1/Page/q/0", params={**doc, "ContentType": "svgb", "iv": iv2_text})
    assert again.content != r.content and _open(again, key, iv2) == svg

    iv, iv_text = _iv()
    r = api.get("/PCCIS/V1/Document/q/0-1/Text", params={**doc, "iv": iv_text})
    assert b"pages" not in r.content
    pages = json.loads(_open(r, key, iv))["pages"]
    assert FACTS.pages[0].texts[0].text in pages[0]["text"]

    for path, params in (("/PCCIS/V1/Page/q/0", {"ContentType": "png"}), ("/PCCIS/V1/Page/q/0/100x100", {}),
                         ("/PCCIS/V1/Page/q/0/Tile/0/0/64/64", {})):
        iv, iv_text = _iv()
        png = _open(api.get(path, params={**doc, **params, "iv": iv_text}), key, iv)
        assert Image.open(io.BytesIO(png)).format == "PNG", path


def test_the_key_is_per_session(api):
    first = api.session_with(PDF, "pdf", body={"pageContentEncryption": True})
    second = api.session_with(PDF, "pdf", body={"pageContentEncryption": True})
    assert _viewer_key(api, first) != _viewer_key(api, second)
    iv, iv_text = _iv()
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + first, "ContentType": "svgb", "iv": iv_text})
    with pytest.raises(ValueError):  # the other session's key unwraps nothing (bad padding)
        content_key = decrypt(_viewer_key(api, second), iv, base64.b64decode(r.headers["Accusoft-Data-SK"]))
        decrypt(content_key, iv, r.content).decode("utf-8")
