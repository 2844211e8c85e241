"""Work files over real HTTP."""
from __future__ import annotations

import time

import pytest

from api.prizm import Prizm, error_code
from api.samples import pdf_bytes

STORAGES = ("dir", "s3")  # every test here runs on the directory store and on S3 (conftest.storage)

BASE = "/PCCIS/V1/WorkFile"


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


def test_create_get_info_delete(api):
    data = pdf_bytes("work file")
    r = api.post(BASE, data=data, params={"FileExtension": "docx"})
    assert r.status_code == 200
    body = r.json()
    assert body["fileExtension"] == "pdf"  # detected format wins
    assert set(body) == {"fileId", "fileExtension", "affinityToken"}
    r = api.get(f"{BASE}/{body['fileId']}")
    assert r.content == data and r.headers["Content-Type"] == "application/pdf"
    info = api.get(f"{BASE}/{body['fileId']}/Info").json()
    assert info["fileId"] == body["fileId"] and info["size"] == len(data) and info["fileExtension"] == "pdf"
    assert api.delete(f"{BASE}/{body['fileId']}").status_code == 204
    assert api.get(f"{BASE}/{body['fileId']}").status_code == 404
    assert api.get(f"{BASE}/{body['fileId']}/Info").status_code == 404


def test_text_work_file_keeps_given_extension(api):
    r = api.post(BASE, data=b"a,b\n1,2\n", params={"FileExtension": "CSV"})
    assert r.json()["fileExtension"] == "csv"


def test_min_seconds_available_extends_lifetime(api):
    r = api.post(BASE, data=b"x" * 10, params={"FileExtension": "txt", "MinSecondsAvailable": str(3 * 86400)})
    info = api.get(f"{BASE}/{r.json()['fileId']}/Info").json()
    expires = time.mktime(time.strptime(info["expirationTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    created = time.mktime(time.strptime(info["createdTime"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert expires - created >= 3 * 86400 - 2


@pytest.mark.parametrize("params,field", [({"FileExtension": ".pdf"}, "FileExtension"),
                                          ({"MinSecondsAvailable": "soon"}, "MinSecondsAvailable"),
                                          ({"MinSecondsAvailable": "-5"}, "MinSecondsAvailable")])
def test_invalid_parameters(api, params, field):
    r = api.post(BASE, data=b"abc", params=params)
    assert r.status_code == 480 and error_code(r) == "InvalidInput"
    assert r.json()["errorDetails"]["at"] == field


def test_unknown_ids_and_traversal_are_not_found(api):
    assert api.get(f"{BASE}/{'Z' * 43}").status_code == 404
    assert api.get(f"{BASE}/..%2F..%2Fmetadata.sqlite3").status_code == 404
