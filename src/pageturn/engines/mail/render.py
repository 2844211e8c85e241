"""A message as one HTML document: a header block (From, Sent, To, Cc, Subject), the body, and the list of
attachments with their sizes. The whole page is sanitised exactly as HTML documents are (text_input): nothing
in it can run or fetch anything. Inline `cid:` images become data: URLs first, so they survive that."""
from __future__ import annotations

import base64
import html
import re

from lxml import etree
from lxml import html as lxml_html

from ..text_input import sanitize_html
from .model import Message

_CID = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_STYLE = ("body{font-family:'Liberation Sans',Arial,sans-serif;font-size:11pt}"
          "table.pageturn-mail-headers td{padding:1pt 6pt 1pt 0;vertical-align:top}"
          "td.pageturn-mail-label{font-weight:bold}")


def size_label(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def _inline_images(body: str, message: Message) -> str:
    def replace(match: re.Match[str]) -> str:
        found = message.inline.get(match.group(1)) or message.inline.get(_unquote(match.group(1)))
        if found is None:
            return "about:blank"   # an unknown cid: is dropped by the sanitiser like any other URL
        mime, data = found
        if not re.fullmatch(r"image/[a-z0-9.+-]+", mime):
            return "about:blank"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return _CID.sub(replace, body)


def _unquote(value: str) -> str:
    from urllib.parse import unquote
    return unquote(value)


def _header_block(message: Message) -> str:
    rows = "".join(f'<tr><td class="pageturn-mail-label">{html.escape(label)}:</td><td>{html.escape(value)}</td></tr>'
                   for label, value in message.headers)
    return f'<table class="pageturn-mail-headers">{rows}</table><hr/>'


def _attachment_block(message: Message) -> str:
    if not message.attachments:
        return ""
    items = "".join(f"<li>{html.escape(a.name)} ({size_label(a.size)})</li>" for a in message.attachments)
    return f'<hr/><p><b>Attachments ({len(message.attachments)}):</b></p><ul>{items}</ul>'


def message_html(message: Message) -> bytes:
    """The message page, sanitised, UTF-8."""
    if message.html is not None:
        body_source = _inline_images(message.html, message)
    else:
        text = html.escape(message.text or "")
        body_source = "<div>" + text.replace("\r\n", "\n").replace("\n", "<br/>\n") + "</div>"
    if message.truncated:
        body_source += "<p><i>[The rest of this message is too long to show.]</i></p>"
    try:
        document = lxml_html.document_fromstring(body_source.replace("\x00", "") or "<p></p>")
    except etree.ParserError:  # nothing but whitespace or comments: an empty body
        document = lxml_html.document_fromstring("<p></p>")
    body = document.find("body")
    if body is None:
        body = etree.SubElement(document, "body")
    header = lxml_html.fragments_fromstring(_header_block(message))
    for position, element in enumerate(header):
        body.insert(position, element)
    for element in lxml_html.fragments_fromstring(_attachment_block(message) or "<span></span>"):
        body.append(element)
    head = document.find("head")
    if head is None:
        head = etree.Element("head")
        document.insert(0, head)
    style = etree.SubElement(head, "style")
    style.text = _STYLE
    title = etree.SubElement(head, "title")
    title.text = message.subject or "Message"
    # a UTF-8 BOM: the sanitiser then ignores any charset the original body declared
    return sanitize_html(b"\xef\xbb\xbf" + lxml_html.tostring(document, encoding="utf-8"))
