"""Formats LibreOffice cannot read as they are, made into something it reads safely: e-mail, Markdown and
JSON/XML become sanitised HTML pages (then follow the HTML path), SVG becomes an inert SVG (no scripts, no
external references, no entities) for Draw. Run by the office pool before a conversion (text_input is the same
step for text, CSV and HTML)."""
from __future__ import annotations

import html
import json
from pathlib import Path

from lxml import etree

from .errors import UnreadableDocument
from .mail import read_message
from .mail.model import DEFAULT_LIMITS
from .mail.render import message_html
from .text_input import Prepared, decode_text, sanitize_html

HTML_FILTER = "HTML (StarWriter)"
MAX_CODE_CHARS = 5_000_000      # JSON/XML beyond this is shown as it is, unformatted and unhighlighted
MAX_HIGHLIGHT_CHARS = 2_000_000


def _html(dest: Path, page: bytes) -> Prepared:
    target = dest.with_suffix(".html")
    target.write_bytes(page)
    return Prepared(target, HTML_FILTER, None)


def prepare_email(src: Path, dest: Path) -> Prepared:
    extension = src.suffix.lstrip(".").lower()
    data = src.read_bytes() if src.stat().st_size <= DEFAULT_LIMITS.max_bytes else b""
    if not data:
        raise UnreadableDocument("the message is empty or larger than this server reads")
    return _html(dest, message_html(read_message(data, extension)))


def prepare_markdown(src: Path, dest: Path) -> Prepared:
    from markdown_it import MarkdownIt

    # CommonMark with tables and strikethrough; raw HTML in the Markdown is kept and then sanitised like any
    # HTML document
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    body = renderer.render(decode_text(src.read_bytes()))
    page = f'<html><head><meta charset="utf-8"/></head><body>{body}</body></html>'
    return _html(dest, sanitize_html(b"\xef\xbb\xbf" + page.encode("utf-8")))


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text  # not valid JSON: shown as written


def _pretty_xml(data: bytes) -> str | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_blank_text=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def prepare_code(src: Path, dest: Path) -> Prepared:
    """JSON or XML as a formatted, syntax-highlighted listing (Pygments, inline styles)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import JsonLexer, XmlLexer

    extension = src.suffix.lstrip(".").lower()
    data = src.read_bytes()
    text = decode_text(data)
    if len(text) <= MAX_CODE_CHARS:
        if extension == "json":
            text = _pretty_json(text)
        else:
            text = _pretty_xml(data) or text
    if len(text) <= MAX_HIGHLIGHT_CHARS:
        lexer = JsonLexer() if extension == "json" else XmlLexer()
        body = highlight(text, lexer, HtmlFormatter(noclasses=True, nowrap=False, style="default"))
    else:
        body = f"<pre>{html.escape(text)}</pre>"
    page = (f'<html><head><meta charset="utf-8"/><style>pre{{font-family:"Liberation Mono",monospace;'
            f'font-size:9pt;white-space:pre-wrap}}</style></head><body>{body}</body></html>')
    return _html(dest, sanitize_html(b"\xef\xbb\xbf" + page.encode("utf-8")))


# ---- SVG ---------------------------------------------------------------------------------------------------
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_REMOVED = {"script", "foreignObject", "iframe", "object", "embed", "audio", "video", "handler", "listener"}
_URL_IN_CSS = __import__("re").compile(r"url\s*\(\s*(['\"]?)(?!#)[^)]*\)|@import[^;]*;?", __import__("re").I)


def sanitize_svg(data: bytes) -> bytes:
    """The SVG without scripts, event handlers, foreign content, external references (only same-document
    `#id` and inline data: images stay) or entities (never expanded, never loaded: the DTD is dropped)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_pis=True, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableDocument(f"not a well-formed SVG file ({exc})") from None
    if etree.QName(root).localname != "svg":
        raise UnreadableDocument("not an SVG file")
    for element in list(root.iter()):
        if isinstance(element, etree._Entity):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)  # an unexpanded entity reference shows nothing
            continue
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local in _REMOVED or etree.QName(element).namespace not in (None, _SVG[1:-1],
                                                                       "http://www.w3.org/1999/xlink"):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        for name in list(element.attrib):
            value = element.attrib[name]
            local_name = etree.QName(name).localname.lower()
            if local_name.startswith("on"):
                del element.attrib[name]
            elif local_name == "href" or name == _XLINK_HREF:
                target = value.strip().lower()
                if not (target.startswith("#") or (local == "image" and target.startswith("data:image/"))):
                    del element.attrib[name]
            elif local_name == "style" or "url(" in value.lower():
                element.attrib[name] = _URL_IN_CSS.sub("none", value)
        if local == "style" and element.text:
            element.text = _URL_IN_CSS.sub("none", element.text)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def prepare_svg(src: Path, dest: Path) -> Prepared:
    target = dest.with_suffix(".svg")
    target.write_bytes(sanitize_svg(src.read_bytes()))
    return Prepared(target, None, None)  # type: ignore[arg-type]   # Draw's SVG import, detected


PREPARERS = {"email": prepare_email, "markdown": prepare_markdown, "code": prepare_code, "svg": prepare_svg}
