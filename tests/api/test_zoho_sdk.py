"""The official Zoho Office Integrator Python SDK (office-integrator-sdk from PyPI) as the client of a real
pageturn server: what an application built on Zoho's Writer API does to preview documents."""
from __future__ import annotations

import io

import pytest
import requests
from officeintegrator.src.com.zoho.api.authenticator.auth import Auth
from officeintegrator.src.com.zoho.officeintegrator import Initializer
from officeintegrator.src.com.zoho.officeintegrator.dc import DataCenter
from officeintegrator.src.com.zoho.officeintegrator.logger import Logger
from officeintegrator.src.com.zoho.officeintegrator.util import StreamWrapper
from officeintegrator.src.com.zoho.officeintegrator.v1 import (DocumentDeleteSuccessResponse, DocumentMeta,
                                                               DocumentSessionDeleteSuccessResponse,
                                                               InvalidConfigurationException, PreviewDocumentInfo,
                                                               PreviewParameters, PreviewResponse, SessionMeta,
                                                               V1Operations)
from officeintegrator.src.com.zoho.officeintegrator.v1.authentication import Authentication

from api.prizm import V1, Prizm
from api.samples import docx_bytes, pdf_bytes

KEYS = "key-a,key-b"
SIX_HOURS_MS = 6 * 3600 * 1000


class ZohoClient:
    """The SDK bound to one server and API key. The SDK keeps one global configuration, so every call
    re-initializes it with this client's key."""

    def __init__(self, base_url: str, apikey: str, log_path: str):
        self.base_url = base_url
        self.apikey = apikey
        self.log_path = log_path

    def ops(self) -> V1Operations:
        auth = Auth.Builder().add_param("apikey", self.apikey).authentication_schema(
            Authentication.TokenFlow()).build()
        Initializer.initialize(DataCenter.Production(self.base_url), [auth],
                               logger=Logger.get_instance(Logger.Levels.INFO, self.log_path))
        return V1Operations()

    def preview(self, data: bytes | None = None, *, name: str | None = None, permissions: dict | None = None,
                url: str | None = None):
        params = PreviewParameters()
        if data is not None:
            params.set_document(StreamWrapper(stream=io.BytesIO(data), name="upload"))
        if url is not None:
            params.set_url(url)
        if name is not None:
            info = PreviewDocumentInfo()
            info.set_document_name(name)
            params.set_document_info(info)
        if permissions is not None:
            params.set_permissions(permissions)
        return self.ops().create_document_preview(params)

    def get_session(self, session_id: str):
        return self.ops().get_session(session_id)

    def delete_session(self, session_id: str):
        return self.ops().delete_session(session_id)

    def get_document(self, document_id: str):
        return self.ops().get_document_info(document_id)

    def delete_document(self, document_id: str):
        return self.ops().delete_document(document_id)


@pytest.fixture(scope="module")
def zoho_server(tmp_path_factory):
    from conftest import ServerProcess
    # sessions are what is tested, not rendering: no LibreOffice, one render worker
    server = ServerProcess(tmp_path_factory.mktemp("data"), {
        "PAGETURN_ZOHO_API_KEYS": KEYS, "PAGETURN_OFFICE_ENABLED": "false", "PAGETURN_RENDER_WORKERS": "1"}).start()
    yield server
    server.stop()


@pytest.fixture
def client(zoho_server, tmp_path):
    def make(apikey: str = "key-a") -> ZohoClient:
        return ZohoClient(zoho_server.url, apikey, str(tmp_path / "sdk.log"))
    return make


def ok(response, kind):
    assert response is not None, "the SDK dropped the answer (not a 200 or 400 JSON reply)"
    assert response.get_status_code() == 200, vars(response.get_object())
    assert isinstance(response.get_object(), kind), type(response.get_object())
    return response.get_object()


def error(response, code: int) -> InvalidConfigurationException:
    assert response is not None, "the SDK dropped the answer (not a 200 or 400 JSON reply)"
    assert response.get_status_code() == 400
    found = response.get_object()
    assert isinstance(found, InvalidConfigurationException), type(found)
    assert found.get_code() == code, vars(found)
    assert found.get_message()
    return found


def test_preview_a_pdf_then_read_and_delete_its_session(client, zoho_server):
    zoho, prizm = client(), Prizm(zoho_server.url)
    data = pdf_bytes("previewed through the Zoho SDK", pages=2)
    made = ok(zoho.preview(data, name="Quarterly report", permissions={"document.print": False}), PreviewResponse)
    session_id, document_id = made.get_session_id(), made.get_document_id()
    base = zoho_server.url + "/writer/officeapi/v1"
    assert made.get_preview_url() == f"{base}/documents/{session_id}/preview"
    assert made.get_session_delete_url() == f"{base}/sessions/{session_id}"
    assert made.get_document_delete_url() == f"{base}/documents/{document_id}"

    # the same id is a PrizmDoc viewing session on the same bytes
    assert prizm.get(f"{V1}/u{session_id}").status_code == 200
    assert prizm.get(f"{V1}/u{session_id}/SourceFile").status_code == 403  # print is off: no source either

    meta = ok(zoho.get_session(session_id), SessionMeta)
    assert meta.get_status() == "inactive"  # nobody opened the preview yet
    info = meta.get_info()
    assert info.get_document_id() == document_id
    assert info.get_session_url() == made.get_preview_url()
    assert info.get_session_delete_url() == made.get_session_delete_url()
    assert info.get_expires_on_ms() - info.get_created_time_ms() == SIX_HOURS_MS
    assert info.get_created_time().endswith("Z") and info.get_expires_on().endswith("Z")

    document = ok(zoho.get_document(document_id), DocumentMeta)
    assert (document.get_document_name(), document.get_document_type()) == ("Quarterly report", "pdf")
    assert document.get_active_sessions_count() == 1

    deleted = ok(zoho.delete_session(session_id), DocumentSessionDeleteSuccessResponse)
    assert deleted.get_session_deleted() is True
    error(zoho.get_session(session_id), 1833)
    error(zoho.delete_session(session_id), 1833)  # deleting twice
    assert ok(zoho.get_document(document_id), DocumentMeta).get_active_sessions_count() == 0

    # its content is gone on the PrizmDoc API too
    assert prizm.status_line(f"{V1}/u{session_id}")[0] == "HTTP/1.1 403 The session is invalid or has expired"
    assert prizm.get(f"{V1}/u{session_id}/SourceFile").status_code == 403


def test_preview_a_docx(client, zoho_server):
    zoho = client()
    data = docx_bytes("A Word document previewed through the Zoho SDK")
    made = ok(zoho.preview(data), PreviewResponse)
    document = ok(zoho.get_document(made.get_document_id()), DocumentMeta)
    assert document.get_document_type() == "docx"
    assert ok(zoho.get_session(made.get_session_id()), SessionMeta).get_info().get_document_id() == \
        made.get_document_id()
    assert Prizm(zoho_server.url).get(f"{V1}/u{made.get_session_id()}/SourceFile").content == data


def test_opening_the_preview_url_makes_the_session_active(client):
    zoho = client()
    made = ok(zoho.preview(pdf_bytes()), PreviewResponse)
    opened = requests.get(made.get_preview_url(), allow_redirects=False)  # a browser: no API key
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/viewer/{made.get_session_id()}")
    assert ok(zoho.get_session(made.get_session_id()), SessionMeta).get_status() == "active"


def test_another_keys_sessions_and_documents_do_not_exist(client):
    owner, other = client("key-a"), client("key-b")
    made = ok(owner.preview(pdf_bytes("tenant a")), PreviewResponse)
    error(other.get_session(made.get_session_id()), 1833)
    error(other.delete_session(made.get_session_id()), 1833)
    error(other.get_document(made.get_document_id()), 1844)
    error(other.delete_document(made.get_document_id()), 1844)
    # nothing the other key did touched them
    assert ok(owner.get_session(made.get_session_id()), SessionMeta).get_status() == "inactive"
    assert ok(owner.get_document(made.get_document_id()), DocumentMeta).get_active_sessions_count() == 1


def test_a_wrong_key_is_refused(client):
    made = ok(client().preview(pdf_bytes()), PreviewResponse)
    wrong = client("not-a-configured-key")
    assert error(wrong.preview(pdf_bytes()), 1846).get_parameter_name() == "apikey"
    error(wrong.get_session(made.get_session_id()), 1846)
    error(wrong.delete_session(made.get_session_id()), 1846)
    error(wrong.get_document(made.get_document_id()), 1846)


def test_preview_without_a_document(client):
    assert error(client().preview(name="nothing to see"), 1837).get_parameter_name() == "document"


def test_unsupported_format(client):
    error(client().preview(b"\x00\x01\x02 these bytes are no document format"), 1852)


def test_deleting_the_document_deletes_its_sessions(client, zoho_server):
    zoho = client()
    made = ok(zoho.preview(pdf_bytes("deleted with its document")), PreviewResponse)
    assert ok(zoho.delete_document(made.get_document_id()), DocumentDeleteSuccessResponse).get_document_deleted()
    error(zoho.get_document(made.get_document_id()), 1844)
    error(zoho.delete_document(made.get_document_id()), 1844)
    error(zoho.get_session(made.get_session_id()), 1833)
    assert Prizm(zoho_server.url).get(f"{V1}/u{made.get_session_id()}/SourceFile").status_code == 403


def test_a_name_with_an_apostrophe_does_not_break_the_sdk(client):
    # the SDK replaces ' by " before parsing JSON, so answers carry the typographic apostrophe instead
    zoho = client()
    made = ok(zoho.preview(pdf_bytes(), name="Bob's \"final\" notes"), PreviewResponse)
    assert ok(zoho.get_document(made.get_document_id()), DocumentMeta).get_document_name() == \
        "Bob\u2019s \"final\" notes"
