"""E-mail test files (.eml), built with the standard library: plain, HTML with an inline image, with
attachments (a PDF, a docx, a nested message) and hostile HTML."""
from __future__ import annotations

import io
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, timezone

from PIL import Image


def png_bytes(color: tuple[int, int, int] = (220, 30, 30), size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _base(subject: str, sender: str = "Alice Example <alice@example.com>",
          to: str = "Bob Example <bob@example.com>", cc: str | None = "Carol <carol@example.com>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc))
    message["Message-ID"] = "<test-1@example.com>"
    return message


def plain_eml(subject: str = "Plain hello", body: str = "Plain body marker quokka.\nSecond line.") -> bytes:
    message = _base(subject)
    message.set_content(body)
    return message.as_bytes()


def html_inline_image_eml(subject: str = "HTML with picture") -> tuple[bytes, bytes]:
    """The message and the inline PNG it shows by cid:."""
    image = png_bytes()
    message = _base(subject)
    message.set_content("Plain alternative wombat.")
    message.add_alternative('<html><body><p>HTML body marker <b>wombat</b>.</p>'
                            '<p><img src="cid:pic1@example" alt="picture"></p></body></html>', subtype="html")
    message.get_payload()[1].add_related(image, maintype="image", subtype="png", cid="<pic1@example>")
    return message.as_bytes(), image


def with_attachments_eml(pdf: bytes, docx: bytes, nested: bytes) -> bytes:
    message = _base("Three attachments")
    message.set_content("See the attached files, marker platypus.")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(docx, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                           filename="letter.docx")
    inner = EmailMessage()
    from email import message_from_bytes, policy
    inner = message_from_bytes(nested, policy=policy.default)
    message.add_attachment(inner, filename="forwarded.eml")
    return message.as_bytes()


def hostile_html_eml(beacon: str) -> bytes:
    """An HTML body that tries to run script and to load from `beacon` (a URL the test listens on)."""
    message = _base("Hostile body", cc=None)
    message.set_content("alt")
    message.add_alternative(
        f'<html><head><link rel="stylesheet" href="{beacon}/css"><style>@import url({beacon}/import);'
        f'body{{background:url({beacon}/bg)}}</style><script>document.title="pwned";'
        f'fetch("{beacon}/script")</script></head><body onload="fetch(\'{beacon}/onload\')">'
        f'<p>Visible hostile marker dingo.</p><img src="{beacon}/img.png"><iframe src="{beacon}/frame"></iframe>'
        f'<object data="{beacon}/object"></object><svg><image href="{beacon}/svgimage"/></svg>'
        f'</body></html>', subtype="html")
    return message.as_bytes()
