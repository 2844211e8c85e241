"""E-mail (.eml and Outlook .msg) over real HTTP: message pages, attachments by attachmentIndex and by the
Attachments list's child sessions, nested messages, hostile HTML bodies."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from api.prizm import V1, Prizm, document_text
from api.samples import pdf_bytes
from mailgen import hostile_html_eml, html_inline_image_eml, plain_eml, with_attachments_eml
from msggen import message_tree, msg_file
from officegen import docx_pages
from unit.test_url_fetch import Listener


@pytest.fixture(scope="module")
def api(office_server) -> Prizm:
    return Prizm(office_server.url)



def _docx(tmp_path: Path) -> tuple[bytes, str]:
    path = tmp_path / "letter.docx"
    markers = docx_pages(path, 1)
    return path.read_bytes(), markers[0]



def _attachments(api: Prizm, sid: str) -> list[dict]:
    r = api.get(f"{V1}/u{sid}/Attachments")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "complete"
    return body["attachments"]


def _with_attachments(tmp_path: Path) -> tuple[bytes, str, str]:
    docx, docx_marker = _docx(tmp_path)
    return with_attachments_eml(pdf_bytes("Attached PDF marker echidna"), docx, plain_eml("Forwarded one",
                                "Nested body marker numbat.")), "Attached PDF marker echidna", docx_marker


def test_plain_message_shows_headers_and_body(api):
    sid = api.session_with(plain_eml(), "eml")
    text = document_text(api, sid)
    for expected in ("From:", "Alice Example", "To:", "Bob Example", "Cc:", "Carol", "Subject:", "Plain hello",
                     "Sent:", "2026", "Plain body marker quokka"):
        assert expected in text, expected
    assert _attachments(api, sid) == []


def test_message_is_detected_by_content_without_an_extension(api):
    sid = api.session_with(plain_eml(subject="Detected"))
    assert "Plain body marker quokka" in document_text(api, sid)


def test_html_body_with_inline_image(api):
    data, _ = html_inline_image_eml()
    sid = api.session_with(data, "eml")
    text = document_text(api, sid)
    assert "HTML body marker wombat" in text and "Plain alternative" not in text
    page = Image.open(io.BytesIO(api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid},
                                         timeout=120).content)).convert("RGB")
    reds = sum(1 for r, g, b in page.get_flattened_data() if r > 180 and g < 80 and b < 80)
    assert reds > 500, "the inline cid: image is drawn on the page"
    assert _attachments(api, sid) == []  # an inline image is part of the body, not an attachment


@pytest.mark.storages("dir", "s3")
def test_attachments_listed_and_each_viewable(api, tmp_path, forget_local_copies):
    data, pdf_marker, docx_marker = _with_attachments(tmp_path)
    sid = api.session_with(data, "eml", {"startConverting": "none"})  # nothing read ahead, so that on S3 ...
    forget_local_copies()  # ... the message is read through the bucket for its attachments
    early = _attachments(api, sid)
    text = document_text(api, sid)
    assert "marker platypus" in text
    for name in ("report.pdf", "letter.docx", "forwarded.eml"):
        assert name in text  # the attachment list on the message page, with sizes
    listed = _attachments(api, sid)
    assert [a["displayName"] for a in listed] == ["report.pdf", "letter.docx", "forwarded.eml"]
    assert _attachments(api, sid) == listed == early  # the same child sessions on every poll
    forget_local_copies()
    children = [a["viewingSessionId"] for a in listed]
    assert pdf_marker in document_text(api, children[0])
    assert docx_marker in document_text(api, children[1])
    nested = document_text(api, children[2])
    assert "Nested body marker numbat" in nested and "Forwarded one" in nested
    described = api.get(f"{V1}/u{children[1]}").json()
    assert described["attachmentIndex"] == 2 and described["attachmentDisplayName"] == "letter.docx"
    assert _attachments(api, children[2]) == []  # the nested message has none of its own
    assert _attachments(api, children[0]) == []


def test_attachment_index_on_a_new_session(api, tmp_path):
    data, pdf_marker, docx_marker = _with_attachments(tmp_path)
    for index, marker in ((1, pdf_marker), (2, docx_marker), (3, "Nested body marker numbat")):
        sid = api.session_with(data, "eml", body={"attachmentIndex": index})
        text = document_text(api, sid)
        assert marker in text and "marker platypus" not in text
        assert api.get(f"{V1}/u{sid}").json()["attachmentIndex"] == index
    beyond = api.session_with(data, "eml", body={"attachmentIndex": 4})
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + beyond}, timeout=60)
    assert r.status_code == 580 and r.json()["errorCode"] == "AttachmentNotFound"
    not_mail = api.session_with(pdf_bytes("just a pdf"), "pdf", body={"attachmentIndex": 1})
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + not_mail}, timeout=60)
    assert r.status_code == 580 and r.json()["errorCode"] == "AttachmentNotFound"


def test_documents_without_attachments_answer_an_empty_complete_list(api):
    sid = api.session_with(pdf_bytes("no attachments"), "pdf")
    r = api.get(f"{V1}/u{sid}/Attachments")
    assert r.status_code == 200 and r.json() == {"status": "complete", "attachments": []}


def test_outlook_msg_with_attachments_and_a_nested_message(api, tmp_path):
    docx, docx_marker = _docx(tmp_path)
    inner = message_tree(subject="Inner forwarded", sender_name="Dan", sender_email="dan@example.com",
                         to=[("Eve", "eve@example.com")], body="Inner msg body marker bilby.", top=False)
    data = msg_file(subject="Quarterly figures", sender_name="Alice Example", sender_email="alice@example.com",
                    to=[("Bob Example", "bob@example.com")], cc=[("Carol", "carol@example.com")],
                    body="plain alternative", html="<p>Outlook HTML marker koala.</p>",
                    attachments=[{"name": "letter.docx", "data": docx,
                                  "mime": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
                                 {"name": "Inner forwarded.msg", "message": inner}])
    sid = api.session_with(data)  # detected by content
    text = document_text(api, sid)
    for expected in ("Alice Example", "alice@example.com", "Bob Example", "Carol", "Quarterly figures",
                     "Outlook HTML marker koala", "letter.docx"):
        assert expected in text, expected
    listed = _attachments(api, sid)
    assert [a["displayName"] for a in listed] == ["letter.docx", "Inner forwarded.eml"]
    assert docx_marker in document_text(api, listed[0]["viewingSessionId"])
    inner_text = document_text(api, listed[1]["viewingSessionId"])
    assert "Inner msg body marker bilby" in inner_text and "Dan" in inner_text


def test_hostile_html_body_fetches_nothing(api):
    listener = Listener()
    try:
        sid = api.session_with(hostile_html_eml(f"http://127.0.0.1:{listener.port}"), "eml")
        text = document_text(api, sid)  # the conversion has finished: anything it fetched has connected by now
        assert "Visible hostile marker dingo" in text and "pwned" not in text
        assert listener.connections == 0
    finally:
        listener.close()


def test_a_message_past_the_limits_answers_580(api):
    from email.message import EmailMessage
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.com"
    message["Subject"] = "many"
    message.set_content("too many attachments")
    for i in range(201):  # MailLimits.max_attachments is 200
        message.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{i}.bin")
    sid = api.session_with(message.as_bytes(), "eml")
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid}, timeout=120)
    assert r.status_code == 580 and r.json()["errorCode"] == "ConversionFailed"
    assert _attachments(api, sid) == []  # the list is refused the same way: empty, never a 500


def test_outlook_msg_with_only_a_rich_text_body(api):
    rtf = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 Rich text body marker wallaby.\par}"
    data = msg_file(subject="Rich only", sender_name="Alice", sender_email="alice@example.com",
                    to=[("Bob", "bob@example.com")], body="", rtf=rtf)
    sid = api.session_with(data, "msg")
    assert "message body.rtf" in document_text(api, sid)
    listed = _attachments(api, sid)
    assert [a["displayName"] for a in listed] == ["message body.rtf"]
    assert "Rich text body marker wallaby" in document_text(api, listed[0]["viewingSessionId"])

