"""Security headers on what a browser shows (viewer pages, landing page, API answers and errors), the
frame_ancestors setting, and a viewer config no document- or client-given string can break out of."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import pdf_bytes
from conftest import QUIET

HOSTILE = '<!--<script>alert(1)</script> </script><script>alert(2)</script>& \u2028 "q"'


@pytest.fixture(scope="module")
def api(quiet_server) -> Prizm:
    return Prizm(quiet_server.url)


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_page_policy(r: requests.Response, frame_ancestors: list[str]) -> None:
    assert r.status_code == 200
    policy = directives(r.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, nothing from elsewhere
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == frame_ancestors
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_viewer_and_landing_pages_carry_a_page_policy(api):
    sid = api.session_with(pdf_bytes())
    assert_page_policy(api.get(f"/viewer/{sid}"), ["'self'"])
    assert_page_policy(api.get("/"), ["'self'"])


def test_frame_ancestors_is_a_setting(make_server):
    server = make_server(frame_ancestors="'self' https://app.example.com", **QUIET)
    api = Prizm(server.url)
    assert_page_policy(api.get(f"/viewer/{api.session_with(pdf_bytes())}"), ["'self'", "https://app.example.com"])


@pytest.mark.parametrize("path", ["/PCCIS/V1/Service/Current/Info", "/viewer/static/js/viewer.js",
                                  "/no/such/url", f"{V1}/u{'A' * 86}"])
def test_every_answer_has_nosniff_and_no_referrer(api, path):
    r = api.get(path)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" in r.headers


class _Scripts(HTMLParser):
    """The script elements of a page as an HTML parser sees them."""

    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.comments: list[str] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._open = dict(attrs)
            self.scripts.append((self._open, ""))

    def handle_data(self, data):
        if self._open is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._open = None

    def handle_comment(self, data):
        self.comments.append(data)


def test_viewer_config_cannot_change_the_page_structure(api):
    sid = api.session_with(pdf_bytes(), body={"attachmentDisplayName": HOSTILE})
    stopped = api.session_with(pdf_bytes())
    api.post(f"{V1}/u{stopped}/Notification/SessionStopped", json={"httpStatus": 410, "endUserMessage": HOSTILE})
    for session, key in ((sid, "documentName"), (stopped, "error")):
        page = api.get(f"/viewer/{session}").text
        start = page.index('<script id="pageturn-config"')
        payload = page[page.index(">", start) + 1:page.index("</script>", start)]
        assert "<" not in payload and ">" not in payload and "&" not in payload  # nothing the HTML parser reads
        config = json.loads(payload)
        value = config[key] if key == "documentName" else config[key]["message"]
        assert value.replace("\u2028", " ").split() == HOSTILE.replace("\u2028", " ").split()
        parser = _Scripts()
        parser.feed(page)
        scripts = [attrs.get("id") or attrs.get("src") for attrs, _ in parser.scripts]
        assert len(scripts) == 2 and scripts[0] == "pageturn-config"
        # the viewer's modules, or their bundle when it is built (scripts/build_viewer.py)
        assert re.fullmatch(r"static/js/viewer\.js|static/dist/viewer\.js\?v=[0-9a-f]{12}", scripts[1]), scripts
        assert not any("script" in comment for comment in parser.comments)
        assert re.search(r"alert\(", page.split('id="pageturn-config"')[0]) is None
