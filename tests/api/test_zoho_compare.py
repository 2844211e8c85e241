"""Zoho's document/compare through the official Python SDK (office-integrator-sdk) against a real server: two
Word documents become a comparison session the viewer shows, whose changes the PrizmDoc revisionData URL lists,
and which the Zoho session URLs read and delete. Raw HTTP covers what the SDK cannot send."""
from __future__ import annotations

import io

import pytest
import requests
from officeintegrator.src.com.zoho.officeintegrator.util import StreamWrapper
from officeintegrator.src.com.zoho.officeintegrator.v1 import (CompareDocumentParameters, CompareDocumentResponse,
                                                               DocumentMeta, DocumentSessionDeleteSuccessResponse,
                                                               InvalidConfigurationException, SessionMeta)

import comparegen
from api.prizm import V1, Prizm
from api.samples import pdf_bytes
from api.test_comparison import walk
from api.test_zoho_sdk import ZohoClient, ok
from loopback import LoopbackServer, QuietHandler

BASE = "/writer/officeapi/v1"


class Files(LoopbackServer):
    """A loopback server for url1/url2: GET /<name> answers the bytes stored under that name."""

    def __init__(self) -> None:
        files: dict[str, bytes] = {}
        self.files = files

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                body = files.get(self.path.lstrip("/"))
                self.send_body(body or b"", status=200 if body is not None else 404)

        super().__init__(Handler)


@pytest.fixture(scope="module")
def files():
    server = Files()
    yield server
    server.close()


@pytest.fixture(scope="module")
def zoho_server(files, tmp_path_factory):
    from conftest import ServerProcess
    server = ServerProcess(tmp_path_factory.mktemp("data"), {
        "PAGETURN_ZOHO_API_KEYS": "key-a,key-b", "PAGETURN_OFFICE_WORKERS": "1", "PAGETURN_RENDER_WORKERS": "1",
        "PAGETURN_FETCH_ALLOW": f"127.0.0.1:{files.port}"}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[bytes, bytes]:
    original, revised = comparegen.PAIRS["word_inserted"].write(tmp_path_factory.mktemp("pair"))
    return original.read_bytes(), revised.read_bytes()


class Zoho(ZohoClient):
    """The preview tests' SDK client, plus the compare call."""

    def compare(self, document1: bytes | None = None, document2: bytes | None = None, *, url1: str | None = None,
                url2: str | None = None, title: str | None = None, lang: str | None = None):
        params = CompareDocumentParameters()
        if document1 is not None:
            params.set_document1(StreamWrapper(stream=io.BytesIO(document1)))
        if document2 is not None:
            params.set_document2(StreamWrapper(stream=io.BytesIO(document2)))
        for setter, value in ((params.set_url1, url1), (params.set_url2, url2), (params.set_title, title),
                              (params.set_lang, lang)):
            if value is not None:
                setter(value)
        return self.ops().compare_document(params)


@pytest.fixture
def zoho(zoho_server, tmp_path):
    def make(apikey: str = "key-a") -> Zoho:
        return Zoho(zoho_server.url, apikey, str(tmp_path / "sdk.log"))
    return make


def error(response, code: int, parameter: str | None = None) -> InvalidConfigurationException:
    assert response is not None, "the SDK dropped the answer (not a 200 or 400 JSON reply)"
    assert response.get_status_code() == 400
    found = response.get_object()
    assert isinstance(found, InvalidConfigurationException), type(found)
    assert found.get_code() == code, vars(found)
    if parameter is not None:
        assert found.get_parameter_name() == parameter, vars(found)
    return found


def session_of(made: CompareDocumentResponse) -> str:
    # the SDK's response model keeps only compare_url and session_delete_url; the id ends the latter
    return made.get_session_delete_url().rsplit("/", 1)[1]


def test_compare_two_word_documents_through_the_sdk(zoho, zoho_server, pair):
    client, prizm = zoho(), Prizm(zoho_server.url)
    made = ok(client.compare(*pair, title="Contract, both versions", lang="en"), CompareDocumentResponse)
    session_id = session_of(made)
    base = zoho_server.url + BASE
    assert made.get_compare_url() == f"{base}/documents/{session_id}/compare"
    assert made.get_session_delete_url() == f"{base}/sessions/{session_id}"

    # the session compares document1 (original) with document2 (revised)
    assert prizm.get(f"/v2/viewingSessions/{session_id}/sourceFile/original").content == pair[0]
    assert prizm.get(f"/v2/viewingSessions/{session_id}/sourceFile/revised").content == pair[1]
    changes, _ = walk(prizm, session_id)
    assert [(c["type"], c["text"]) for c in changes] == [("contentInserted", "red")]

    meta = ok(client.ops().get_session(session_id), SessionMeta)
    assert meta.get_status() == "inactive"
    assert meta.get_info().get_session_url() == made.get_compare_url()
    document = ok(client.ops().get_document_info(meta.get_info().get_document_id()), DocumentMeta)
    assert (document.get_document_name(), document.get_document_type()) == ("Contract, both versions", "docx")

    # a browser opens compare_url (no key): the viewer, in comparison mode
    opened = requests.get(made.get_compare_url(), allow_redirects=False)
    assert opened.status_code == 302 and opened.headers["Location"] == f"{zoho_server.url}/viewer/{session_id}"
    page = requests.get(opened.headers["Location"])
    assert page.status_code == 200 and '"mode":"compare"' in page.text.replace(" ", "")
    assert ok(client.ops().get_session(session_id), SessionMeta).get_status() == "active"
    # a comparison has no preview URL
    assert requests.get(f"{base}/documents/{session_id}/preview", allow_redirects=False).json()["code"] == 1833

    deleted = ok(client.ops().delete_session(session_id), DocumentSessionDeleteSuccessResponse)
    assert deleted.get_session_deleted() is True
    error(client.ops().get_session(session_id), 1833)
    assert prizm.get(f"/v2/viewingSessions/{session_id}/revisionData").status_code == 403
    assert prizm.get(f"{V1}/u{session_id}").status_code == 403


def document_name(client: Zoho, session_id: str) -> str:
    meta = ok(client.ops().get_session(session_id), SessionMeta)
    return ok(client.ops().get_document_info(meta.get_info().get_document_id()), DocumentMeta).get_document_name()


def test_without_a_title_the_names_of_both_documents_name_it(zoho, zoho_server, pair):
    r = raw_compare(zoho_server, {"document1": ("contract-v1.docx", pair[0]),
                                  "document2": ("contract-v2.docx", pair[1])}, {})
    assert r.status_code == 200, r.text
    assert document_name(zoho(), r.json()["session_id"]) == "contract-v1 vs contract-v2"
    # the SDK sends each part named after its field, which names nothing
    assert document_name(zoho(), session_of(ok(zoho().compare(*pair), CompareDocumentResponse))) == "Comparison"


def test_compare_documents_given_by_url(zoho, zoho_server, files, pair):
    files.files.update({"v1.docx": pair[0], "v2.docx": pair[1], "report.pdf": pdf_bytes("not Word")})
    client = zoho()
    made = ok(client.compare(url1=f"{files.url}/v1.docx", url2=f"{files.url}/v2.docx"), CompareDocumentResponse)
    changes, _ = walk(Prizm(zoho_server.url), session_of(made))
    assert [c["type"] for c in changes] == ["contentInserted"]
    # one file and one url
    made = ok(client.compare(pair[0], url2=f"{files.url}/v2.docx"), CompareDocumentResponse)
    assert Prizm(zoho_server.url).get(f"/v2/viewingSessions/{session_of(made)}/sourceFile/revised").content == pair[1]
    error(client.compare(pair[0], url2=f"{files.url}/report.pdf"), 1852, "url2")
    error(client.compare(pair[0], url2=f"{files.url}/missing.docx"), 1831, "url2")


def test_only_word_documents_are_compared(zoho, pair):
    client = zoho()
    error(client.compare(pair[0], pdf_bytes("a PDF is no Word document")), 1852, "document2")
    error(client.compare(pdf_bytes("neither as the first"), pair[1]), 1852, "document1")
    error(client.compare(b"\x00\x01 no format at all", pair[1]), 1852, "document1")


def test_missing_documents_and_wrong_keys(zoho, pair):
    error(zoho().compare(pair[0]), 1837, "document2")
    error(zoho().compare(document2=pair[1]), 1837, "document1")
    error(zoho("not-a-configured-key").compare(*pair), 1846, "apikey")
    error(zoho().compare(*pair, lang="not a language"), 1831, "lang")


def test_another_keys_comparison_does_not_exist(zoho, pair):
    made = ok(zoho("key-a").compare(*pair), CompareDocumentResponse)
    error(zoho("key-b").ops().get_session(session_of(made)), 1833)
    error(zoho("key-b").ops().delete_session(session_of(made)), 1833)
    assert ok(zoho("key-a").ops().get_session(session_of(made)), SessionMeta).get_status() == "inactive"


def raw_compare(server, files: dict, fields: dict, key: str | None = "key-a") -> requests.Response:
    """files: field -> bytes, or (file name, bytes)."""
    parts = {name: data if isinstance(data, tuple) else (f"{name}.docx", data) for name, data in files.items()}
    parts.update({name: (None, value) for name, value in fields.items()})
    return requests.post(server.url + BASE + "/document/compare", params={"apikey": key} if key else None,
                         files=parts)


def test_raw_http_rules(zoho_server, pair):
    r = raw_compare(zoho_server, {"document1": pair[0], "document2": pair[1]}, {"permissions": "{}"})
    assert r.status_code == 400 and r.json()["code"] == 1832 and r.json()["parameter_name"] == "permissions"
    r = raw_compare(zoho_server, {"document1": pair[0], "document2": pair[1]}, {"url2": "http://127.0.0.1:9/x"})
    assert r.status_code == 400 and r.json()["code"] == 1831 and r.json()["parameter_name"] == "url2"
    # the key may come as a form field
    r = raw_compare(zoho_server, {"document1": pair[0], "document2": pair[1]}, {"apikey": "key-b"}, key=None)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"compare_url", "session_id", "session_delete_url"}
    r = requests.get(zoho_server.url + BASE + "/document/compare", params={"apikey": "key-a"})
    assert r.status_code == 400 and r.json()["code"] == 1838
