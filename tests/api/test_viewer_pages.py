"""The viewer's pages as the server sends them: landing page, per-session config, static files."""
from __future__ import annotations

import json
import re

import pytest
import requests

from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes

STORAGES = ("dir", "s3")  # every test here runs on the directory store and on S3 (conftest.storage)


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def _config(api, sid: str) -> dict:
    r = api.get(f"/viewer/{sid}")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    match = re.search(r'<script id="pageturn-config" type="application/json">(.*?)</script>', r.text, re.S)
    return json.loads(match.group(1))


def test_landing_page_and_static_files(api):
    r = api.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()
    scripts = re.findall(r'src="([^"]+\.js)"', api.get(f"/viewer/{api.create()}").text)
    assert scripts and all(not s.startswith("http") for s in scripts)  # nothing from a CDN
    for script in scripts:
        assert api.get(script if script.startswith("/") else "/viewer/" + script).status_code == 200


def test_session_config_has_mode_permissions_and_name(api):
    sid = api.session_with(pdf_bytes(), body={"attachmentDisplayName": "Quarterly </script> report"})
    config = _config(api, sid)
    assert config["viewingSessionId"] == sid and config["mode"] == "view"
    assert config["permissions"] == {"print": True, "download": True}
    assert config["documentName"] == "Quarterly </script> report"  # escaped inside the page, intact in JSON
    pair = api.create()
    api.put(f"/v2/viewingSessions/{pair}/sourceFile/original", data=docx_bytes("a"))
    assert _config(api, pair)["mode"] == "compare"


def test_unusable_session_config_carries_its_message(api):
    sid = api.session_with(pdf_bytes())
    api.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": "Gone for tea"})
    assert _config(api, sid)["error"] == {"status": 418, "message": "Gone for tea"}


@pytest.mark.parametrize("path", ["/viewer/static/../../app.py", "/viewer/static/%2e%2e/%2e%2e/app.py",
                                  "/viewer/..%2f..%2fapp.py"])
def test_no_path_traversal_out_of_the_viewer(api, path):
    r = requests.get(api.base + path)
    assert r.status_code in (400, 403, 404)
    assert "build_app" not in r.text
