"""The viewing-session URLs over real HTTP: every error row of the spec page and a session's full life."""
from __future__ import annotations

import base64
import re

import pytest

from api.prizm import V1, Prizm, error_code
from api.samples import docx_bytes, pdf_bytes

STORAGES = ("dir", "s3")  # every test here runs on the directory store and on S3 (conftest.storage)

PDF = pdf_bytes()


@pytest.fixture(scope="module")
def api(server) -> Prizm:
    return Prizm(server.url)


# ---- creation --------------------------------------------------------------------------------------------

def test_create_answers_unguessable_url_safe_id_and_affinity_token(api):
    r = api.post(V1, json={}, headers={"Accusoft-Affinity-Hint": "doc-42"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{80,}", body["viewingSessionId"])  # >= 480 bits of base64url
    assert len(base64.b64decode(body["affinityToken"])) == 32
    assert body["viewingSessionId"] != api.create()


def test_get_echoes_every_property_with_defaults(api):
    sid = api.create({"tenantId": "my app", "externalId": "doc.docx", "render": {"html5": {"alwaysUseRaster": True}},
                      "countOfInitialPages": 3, "origin": {"ip": "1.2.3.4"}, "serverCaching": "none",
                      "minSecondsAvailable": 1500,
                      "watermarks": [{"type": "text", "opacity": 0.6, "text": "jdoe\nNOT FOR DISTRIBUTION",
                                      "color": "red", "fontFamily": "Consolas", "fontSize": "16pt",
                                      "fontWeight": "bold", "verticalAlign": "bottom",
                                      "horizontalAlign": "right"}]})
    body = api.get(f"{V1}/u{sid}").json()
    assert body["tenantId"] == "my app" and body["externalId"] == "doc.docx"
    assert body["render"]["html5"] == {"alwaysUseRaster": True, "rasterResolution": 150}
    assert body["countOfInitialPages"] == 3 and body["origin"] == {"ip": "1.2.3.4"}
    assert body["watermarks"][0]["text"] == "jdoe\nNOT FOR DISTRIBUTION"
    for key, default in {"password": None, "attachmentIndex": 0, "attachmentDisplayName": None,
                         "documentSource": None, "documentExtension": None, "startConverting": None,
                         "contentType": None, "pageContentEncryption": None}.items():
        assert body[key] == default, key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", body["creationTime"])
    defaults = api.get(f"{V1}/u{api.create()}").json()
    assert defaults["serverCaching"] == "full" and defaults["watermarks"] == []


def test_e_prefixed_base64_id_reaches_the_same_session(api):
    sid = api.create({"tenantId": "encoded"})
    encoded = base64.b64encode(sid.encode()).decode()
    assert api.get(f"{V1}/e{encoded}").json()["tenantId"] == "encoded"


@pytest.mark.parametrize("body,field", [
    ({"render": {"html5": {"alwaysUseRaster": "yes"}}}, "render.html5.alwaysUseRaster"),
    ({"render": {"html5": {"rasterResolution": 0}}}, "render.html5.rasterResolution"),
    ({"serverCaching": "sometimes"}, "serverCaching"),
    ({"countOfInitialPages": -1}, "countOfInitialPages"),
    ({"attachmentIndex": "0"}, "attachmentIndex"),
    ({"documentSource": "ftp"}, "documentSource"),
    ({"tenantId": 5}, "tenantId"),
    ({"watermarks": {"type": "text"}}, "watermarks"),
    ({"watermarks": [{"text": "no type"}]}, "watermarks[0]"),
    ({"origin": "here"}, "origin"),
    ({"documentExtension": ".pdf"}, "documentExtension"),
    ({"startConverting": "later"}, "startConverting"),
    ({"pageContentEncryption": "yes"}, "pageContentEncryption"),
    ({"attachmentIndex": -1}, "attachmentIndex"),
])
def test_create_rejects_invalid_properties_naming_them(api, body, field):
    r = api.post(V1, json=body)
    assert r.status_code == 480
    assert error_code(r) == "InvalidInput"
    assert r.json()["errorDetails"]["at"] == field


def test_encryption_and_attachment_index_are_accepted_and_echoed(api):
    sid = api.create({"pageContentEncryption": True, "attachmentIndex": 2, "attachmentDisplayName": "a.pdf"})
    described = api.get(f"{V1}/u{sid}").json()
    assert described["pageContentEncryption"] is True and described["attachmentIndex"] == 2
    assert described["attachmentDisplayName"] == "a.pdf"


def test_create_rejects_body_that_is_not_json(api):
    r = api.post(V1, data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 480 and error_code(r) == "InvalidInput"
    r = api.post(V1, json=[1, 2])
    assert r.status_code == 480 and error_code(r) == "InvalidInput"


def test_min_seconds_available_needs_server_caching_none(api):
    r = api.post(V1, json={"minSecondsAvailable": 1500})
    assert r.status_code == 480
    assert error_code(r) == "InputNotSupportedWithServerCachineEnabled"
    assert r.json()["errorDetails"]["at"] == "minSecondsAvailable"


def test_http_document_source_needs_external_id(api):
    r = api.post(V1, json={"documentSource": "http"})
    assert r.status_code == 480 and error_code(r) == "MissingInput"


@pytest.mark.parametrize("path", [
    "/PCCIS/V1/ViewingSession/noprefix", "/PCCIS/V1/ViewingSession/u" + "A" * 86,
    "/PCCIS/V1/ViewingSession/e!!notbase64", "/PCCIS/V1/ViewingSession/x123",
])
def test_malformed_or_unknown_ids_answer_500(api, path):
    assert api.get(path).status_code == 500
    assert api.get(path + "/SourceFile").status_code == 500
    assert api.post(path + "/Notification/SessionStarted", json={}).status_code == 500
    assert api.put(path + "/SourceFile", data=PDF).status_code == 500


# ---- sources ----------------------------------------------------------------------------------------------

def test_upload_then_download_byte_identical_with_headers(api):
    sid = api.session_with(PDF)
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Content-Disposition"] == "attachment; filename=SourceFile.pdf; filename*=UTF-8''SourceFile.pdf"
    r = api.get(f"{V1}/u{sid}/SourceFile", params={"ContentDispositionFilename": "MonthlySalesReport"})
    assert "filename=MonthlySalesReport.pdf" in r.headers["Content-Disposition"]
    r = api.get(f"{V1}/u{sid}/SourceFile", params={"ContentDispositionFilename": "Rapport été"})
    assert "filename*=UTF-8''Rapport%20%C3%A9t%C3%A9.pdf" in r.headers["Content-Disposition"]
    r.headers["Content-Disposition"].encode("ascii")  # the header itself stays ASCII


def test_detected_format_wins_over_given_extension(api):
    sid = api.session_with(PDF, "docx")
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.headers["Content-Type"] == "application/pdf"
    docx = docx_bytes("hello")
    sid = api.session_with(docx)
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.headers["Content-Type"].endswith("wordprocessingml.document") and r.content == docx


@pytest.mark.parametrize("ext", [".pdf", "p d f", "pdf!", "../x"])
def test_file_extension_must_be_alphanumeric_without_dot(api, ext):
    sid = api.create()
    r = api.upload(sid, PDF, ext)
    assert r.status_code == 480 and error_code(r) == "InvalidInput"
    assert r.json()["errorDetails"]["at"] == "FileExtension"
    assert api.upload(sid, PDF).status_code == 200  # nothing was attached by the refused upload


def test_text_needs_extension_else_unrecognized_format(api):
    sid = api.create()
    r = api.upload(sid, b"just some plain text\n")
    assert r.status_code == 580
    assert r.headers["Accusoft-Status-Message"] == "Unrecognized File Format"
    assert r.reason == "Unrecognized File Format"
    r = api.upload(sid, b"just some plain text\n", "TXT")  # case-insensitive
    assert r.status_code == 200
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "SourceFile.txt" in r.headers["Content-Disposition"]


def test_second_source_is_refused(api):
    sid = api.session_with(PDF)
    r = api.upload(sid, pdf_bytes("other"))
    assert r.status_code == 480 and error_code(r) == "CannotChangeDocument"
    assert api.get(f"{V1}/u{sid}/SourceFile").content == PDF


def test_empty_upload_is_missing_input(api):
    r = api.upload(api.create(), b"")
    assert r.status_code == 480 and error_code(r) == "MissingInput"


def test_source_file_and_file_id_before_a_document(api):
    sid = api.create()
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.status_code == 480 and error_code(r) == "DocumentNotProvidedYet"
    r = api.get(f"{V1}/u{sid}/FileId")
    assert r.status_code == 480 and error_code(r) == "DocumentNotProvidedYet"


def test_file_id_gives_a_work_file_that_a_second_session_can_use(api):
    sid = api.session_with(PDF)
    body = api.get(f"{V1}/u{sid}/FileId").json()
    assert set(body) == {"fileId", "affinityToken"}
    assert api.get(f"/PCCIS/V1/WorkFile/{body['fileId']}").content == PDF
    second = api.create()
    r = api.put(f"{V1}/u{second}/SourceRef", json={"refType": "workFile", "fileId": body["fileId"]},
                headers={"Accusoft-Affinity-Token": body["affinityToken"]})
    assert r.status_code == 200, r.text
    assert api.get(f"{V1}/u{second}/SourceFile").content == PDF


def _workfile(api, data: bytes, ext: str | None = None) -> str:
    r = api.post("/PCCIS/V1/WorkFile", data=data, params={"FileExtension": ext} if ext else None)
    assert r.status_code == 200, r.text
    return r.json()["fileId"]


@pytest.mark.parametrize("body,code,field", [
    ({}, "MissingInput", "refType"),
    ({"refType": "url"}, "InvalidInput", "refType"),
    ({"refType": "workFile"}, "MissingInput", "fileId"),
    ({"refType": "workFile", "fileId": 7}, "InvalidInput", "fileId"),
    ({"refType": "workFile", "fileId": "A" * 43}, "NotFound", "fileId"),
    ({"refType": "comparison", "original": {"refType": "workFile", "fileId": "A" * 43}}, "MissingInput",
     "revised"),
])
def test_source_ref_errors(api, body, code, field):
    r = api.put(f"{V1}/u{api.create()}/SourceRef", json=body)
    assert r.status_code == 480 and error_code(r) == code
    assert r.json()["errorDetails"]["at"].endswith(field)


def test_source_ref_refuses_non_json_and_second_source(api):
    sid = api.session_with(PDF)
    r = api.put(f"{V1}/u{sid}/SourceRef", data=b"nope")
    assert r.status_code == 480 and error_code(r) == "InvalidInput"
    r = api.put(f"{V1}/u{sid}/SourceRef", json={"refType": "workFile", "fileId": _workfile(api, PDF)})
    assert r.status_code == 480 and error_code(r) == "CannotChangeDocument"
    pair = {"refType": "comparison", "original": {"refType": "workFile", "fileId": _workfile(api, docx_bytes("a"))},
            "revised": {"refType": "workFile", "fileId": _workfile(api, docx_bytes("b"))}}
    r = api.put(f"{V1}/u{sid}/SourceRef", json=pair)
    assert r.status_code == 480 and error_code(r) == "IncorrectUsage"


def test_source_ref_comparison_pair(api):
    original, revised = docx_bytes("one"), docx_bytes("two")
    pair = {"refType": "comparison", "original": {"refType": "workFile", "fileId": _workfile(api, original)},
            "revised": {"refType": "workFile", "fileId": _workfile(api, revised)}}
    sid = api.create()
    assert api.put(f"{V1}/u{sid}/SourceRef", json=pair).status_code == 200
    assert api.get(f"/v2/viewingSessions/{sid}/sourceFile/original").content == original
    r = api.get(f"/v2/viewingSessions/{sid}/sourceFile/revised", params={"contentDispositionFilename": "New"})
    assert r.content == revised and "filename=New.docx" in r.headers["Content-Disposition"]
    r = api.get(f"{V1}/u{sid}/SourceFile")
    assert r.status_code == 480 and error_code(r) == "IncorrectUsage"
    r = api.upload(sid, PDF)
    assert r.status_code == 480 and error_code(r) == "IncorrectUsage"
    pdf_pair = {**pair, "revised": {"refType": "workFile", "fileId": _workfile(api, PDF)}}
    r = api.put(f"{V1}/u{api.create()}/SourceRef", json=pdf_pair)
    assert r.status_code == 480 and error_code(r) == "UnsupportedFormatForComparison"


def test_v2_comparison_uploads_and_their_errors(api):
    assert api.put(f"/v2/viewingSessions/{'A' * 86}/sourceFile/original", data=docx_bytes()).status_code == 404
    assert api.get(f"/v2/viewingSessions/{'A' * 86}/sourceFile/revised").status_code == 404
    sid = api.create()
    r = api.get(f"/v2/viewingSessions/{sid}/sourceFile/original")
    assert r.status_code == 480 and error_code(r) == "DocumentNotProvidedYet"
    r = api.put(f"/v2/viewingSessions/{sid}/sourceFile/original", data=PDF)
    assert r.status_code == 480 and error_code(r) == "UnsupportedFormatForComparison"
    r = api.put(f"/v2/viewingSessions/{sid}/sourceFile/revised", data=b"")
    assert r.status_code == 480 and error_code(r) == "MissingInput"
    original = docx_bytes("original text")
    assert api.put(f"/v2/viewingSessions/{sid}/sourceFile/original", data=original).status_code == 200
    r = api.put(f"/v2/viewingSessions/{sid}/sourceFile/original", data=docx_bytes("again"))
    assert r.status_code == 480 and error_code(r) == "CannotChangeDocument"
    r = api.get(f"/v2/viewingSessions/{sid}/sourceFile/original")
    assert r.content == original and "OriginalSourceFile.docx" in r.headers["Content-Disposition"]
    single = api.session_with(PDF)
    r = api.put(f"/v2/viewingSessions/{single}/sourceFile/revised", data=docx_bytes())
    assert r.status_code == 480 and error_code(r) == "IncorrectUsage"
    r = api.get(f"/v2/viewingSessions/{single}/sourceFile/original")
    assert r.status_code == 480 and error_code(r) == "IncorrectUsage"


# ---- notifications, replacement, delete ---------------------------------------------------------------------

def test_session_started_needs_a_json_body(api):
    sid = api.session_with(PDF)
    assert api.post(f"{V1}/u{sid}/Notification/SessionStarted", data=b"hello").status_code == 500
    r = api.post(f"{V1}/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"},
                 headers={"User-Agent": "Mozilla/5.0"})
    assert r.status_code == 200


def test_stopped_session_answers_its_own_status_line_everywhere(api):
    sid = api.session_with(PDF)
    r = api.post(f"{V1}/u{sid}/Notification/SessionStopped",
                 json={"httpStatus": 418, "endUserMessage": "My custom end user error message"})
    assert r.status_code == 200
    line, headers = api.status_line(f"{V1}/u{sid}")
    assert line == "HTTP/1.1 418 My custom end user error message"
    assert headers["Accusoft-Status-Message"] == "My custom end user error message"
    assert headers["Accusoft-Status-Number"] == "418"
    for path in ("/SourceFile", "/FileId"):
        assert api.get(f"{V1}/u{sid}{path}").status_code == 418
    assert api.post(f"{V1}/u{sid}/Notification/SessionStarted", json={}).status_code == 418


def test_errored_session_still_serves_its_source_file(api):
    sid = api.session_with(PDF)
    r = api.post(f"{V1}/u{sid}/Notification/SessionErrored", json={"httpStatus": 504, "endUserMessage": "Boom"})
    assert r.status_code == 200
    line, headers = api.status_line(f"{V1}/u{sid}")
    assert line == "HTTP/1.1 504 Boom" and headers["Accusoft-Status-Number"] == "504"
    assert api.get(f"{V1}/u{sid}/SourceFile").content == PDF
    assert api.get(f"{V1}/u{sid}/FileId").status_code == 504


def test_stop_with_invalid_body(api):
    sid = api.create()
    r = api.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": "418"})
    assert r.status_code == 480 and r.json()["errorDetails"]["at"] == "httpStatus"
    r = api.post(f"{V1}/u{sid}/Notification/SessionStopped", json={"httpStatus": 418, "endUserMessage": ["x"]})
    assert r.status_code == 480 and r.json()["errorDetails"]["at"] == "endUserMessage"
    assert api.get(f"{V1}/u{sid}").status_code == 200


def test_replacement_keeps_properties_and_source_with_new_password(api):
    sid = api.session_with(PDF, body={"tenantId": "t1", "password": "wrong"})
    api.post(f"{V1}/u{sid}/Notification/SessionErrored", json={"httpStatus": 480, "endUserMessage": "Bad password"})
    r = api.post(f"{V1}/u{sid}/Replacement", json={"tenantId": "t2"})
    assert r.status_code == 480 and error_code(r) == "PropertyNotReplaceable"
    r = api.post(f"{V1}/u{sid}/Replacement", json={"password": "123"})
    assert r.status_code == 200
    new = r.json()["viewingSessionId"]
    assert new != sid
    body = api.get(f"{V1}/u{new}").json()
    assert body["password"] == "123" and body["tenantId"] == "t1"
    assert api.get(f"{V1}/u{new}/SourceFile").content == PDF
    line, _ = api.status_line(f"{V1}/u{sid}")
    assert line == "HTTP/1.1 403 The session is invalid or has expired"


def test_delete_only_for_uncached_sessions_and_removes_private_data(api, server):
    cached = api.session_with(PDF)
    r = api.delete(f"{V1}/u{cached}")
    assert r.status_code == 580 and error_code(r) == "CannotDeleteCachedViewingSession"
    private = pdf_bytes("private document")
    sid = api.session_with(private, body={"serverCaching": "none"})
    file_id = api.get(f"{V1}/u{sid}/FileId").json()["fileId"]
    blobs_before = {p.name for p in (server.data_dir / "blobs").glob("*/*")}
    assert api.delete(f"{V1}/u{sid}").status_code == 204
    line, _ = api.status_line(f"{V1}/u{sid}")
    assert line == "HTTP/1.1 403 The session is invalid or has expired"
    assert api.get(f"{V1}/u{sid}/SourceFile").status_code == 403
    assert api.get(f"/PCCIS/V1/WorkFile/{file_id}").status_code == 404
    blobs_after = {p.name for p in (server.data_dir / "blobs").glob("*/*")}
    assert len(blobs_before - blobs_after) == 1  # the private bytes are gone from disk
    assert api.delete(f"{V1}/u{'B' * 86}").status_code == 404
