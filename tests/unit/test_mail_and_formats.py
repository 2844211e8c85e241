"""The e-mail reader's limits, the SVG sanitiser and detection of the everyday formats by content."""
from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

import formatgen
from mailgen import plain_eml
from msggen import msg_file
from pageturn.core import formats
from pageturn.engines.derived_input import sanitize_svg
from pageturn.engines.errors import UnreadableDocument
from pageturn.engines.mail import read_message
from pageturn.engines.mail.model import MailLimits, MailTooComplex


def _nested_multipart(depth: int) -> bytes:
    inner = EmailMessage()
    inner.set_content("deep")
    for _ in range(depth):
        outer = EmailMessage()
        outer["Content-Type"] = "multipart/mixed; boundary=b%d" % _
        outer.set_payload([inner])
        inner = outer
    inner["From"] = "a@b.c"
    return inner.as_bytes()


def test_deep_nesting_is_refused():
    with pytest.raises(MailTooComplex):
        read_message(_nested_multipart(30), "eml", MailLimits(max_depth=8))
    assert read_message(_nested_multipart(3), "eml", MailLimits(max_depth=8)).text is not None


def test_too_many_parts_and_too_large_are_refused():
    message = EmailMessage()
    message["From"] = "a@b.c"
    message.set_content("body")
    for i in range(30):
        message.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{i}.bin")
    with pytest.raises(MailTooComplex):
        read_message(message.as_bytes(), "eml", MailLimits(max_attachments=10))
    with pytest.raises(MailTooComplex):
        read_message(plain_eml(), "eml", MailLimits(max_bytes=100))
    assert issubclass(MailTooComplex, UnreadableDocument)  # answered as an unreadable document (580)


def test_damaged_msg_is_unreadable():
    data = bytearray(msg_file(subject="s", sender_name="a", sender_email="a@b.c", to=[("b", "b@c.d")], body="x"))
    with pytest.raises(UnreadableDocument):
        read_message(bytes(data[:700]), "msg")


def test_headers_are_one_line_and_attachment_names_are_not_paths():
    message = EmailMessage()
    message["From"] = "a@b.c"
    message["Subject"] = "line one"
    message.set_content("x")
    message.add_attachment(b"data", maintype="application", subtype="pdf", filename="../../etc/passwd.pdf")
    read = read_message(message.as_bytes(), "eml")
    assert read.attachments[0].name == ".._.._etc_passwd.pdf" and read.attachments[0].extension == "pdf"


def test_svg_sanitiser():
    out = sanitize_svg(formatgen.hostile_svg("Kept", "http://127.0.0.1:9")).decode()
    assert "Kept" in out
    for gone in ("script", "127.0.0.1", "onload", "foreignObject", "iframe", "ENTITY", "&ent;", "xml-stylesheet"):
        assert gone not in out, gone
    with pytest.raises(UnreadableDocument):
        sanitize_svg(b"<html><body/></html>")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">' +
            b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
                     for i in range(8)) + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&i;</text></svg>')
    try:  # libxml2 refuses the amplification outright, or the entities stay unexpanded: never expanded
        assert len(sanitize_svg(bomb)) < 1000
    except UnreadableDocument as exc:
        assert "amplification" in str(exc)


@pytest.mark.parametrize("name,data,expected", [
    ("svg", formatgen.svg("x"), "svg"),
    ("odg", formatgen.odg("x"), "odg"),
    ("emf", formatgen.emf("x"), "emf"),
    ("avif", formatgen.avif(), "avif"),
    ("heic", formatgen.heic(), "heic"),
    ("wmf", formatgen.wmf("x"), "wmf"),
    ("vsdx", formatgen.vsdx("x"), "vsdx"),
    ("eml", plain_eml(), "eml"),
    ("msg", msg_file(subject="s", sender_name="a", sender_email="a@b.c", to=[("b", "b@c.d")], body="x"), "msg"),
    ("txt", b"From: someone\nthis is just text\n", None),
    ("txt2", b"Hello: world\nSubject: not a mail without From\nDate: x\n\nbody", None),
    ("md", formatgen.markdown("x"), None),
    ("json", formatgen.json_document("x"), None),
])
def test_detection(tmp_path: Path, name, data, expected):
    path = tmp_path / name
    path.write_bytes(data)
    assert formats.detect(path) == expected


def test_xps_detected_and_oxps_refines(tmp_path: Path):
    path = tmp_path / "doc"
    path.write_bytes(formatgen.xps("x", Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")))
    assert formats.detect(path) == "xps"
    assert formats.resolve("xps", "oxps") == "oxps"


def test_mutated_messages_fail_only_as_unreadable():
    """Random byte damage to e-mail and Outlook files: read, or refused as unreadable; nothing else escapes."""
    import random

    from mailgen import html_inline_image_eml, with_attachments_eml
    seeds = [("eml", with_attachments_eml(b"%PDF-1.4 x", b"PK\x03\x04 x", plain_eml())),
             ("eml", html_inline_image_eml()[0]),
             ("msg", msg_file(subject="s", sender_name="a", sender_email="a@b.c", to=[("b", "b@c.d")],
                              cc=[("c", "c@d.e")], body="x", html="<p>y</p>",
                              attachments=[{"name": "a.txt", "data": b"z" * 5000, "mime": "text/plain"}]))]
    rng = random.Random(19)
    for extension, seed in seeds:
        for _ in range(150):
            data = bytearray(seed)
            for _ in range(rng.randint(1, 12)):
                position = rng.randrange(len(data))
                data[position] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[:rng.randrange(len(data))]
            try:
                message = read_message(bytes(data), extension)
            except UnreadableDocument:
                continue
            from pageturn.engines.mail.render import message_html
            assert message_html(message).startswith(b"<!DOCTYPE html>")


def test_empty_or_odd_html_bodies_render():
    from pageturn.engines.mail.model import Message
    from pageturn.engines.mail.render import message_html
    for body in ("   ", "<!-- only a comment -->", "\x00", "<html></html>", '<?xml version="1.0"?><x/>'):
        page = message_html(Message(headers=[("Subject", "odd")], html=body))
        assert b"odd" in page
