"""Text, CSV/TSV and HTML documents made ready for LibreOffice: decoded to UTF-8 whatever they were written in,
the table separator found, and HTML stripped of every reference LibreOffice would fetch.

LibreOffice cannot guess a plain text file's encoding, so it is decoded here (BOM, then strict UTF-8, then the
Windows Western code page or Latin-1) and handed over as UTF-8 with the import filter options that say so."""
from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, html

UTF8 = 76  # rtl_TextEncoding of UTF-8, as Calc's CSV filter options name it

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),  # before UTF-16: same first bytes
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


@dataclass(frozen=True)
class Prepared:
    """A file LibreOffice may read, and how to import it."""

    path: Path
    filter: str
    filter_options: str | None = None


def decode_text(data: bytes) -> str:
    """The text in `data`: a BOM decides; else UTF-8 if it decodes strictly; else UTF-16 without BOM when every
    other byte is zero; else Windows-1252 (Latin-1 where 1252 leaves a byte undefined)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if any(byte in _CP1252_UNDEFINED for byte in data):
        return data.decode("latin-1")
    return data.decode("cp1252")


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_zeros = sample[0::2].count(0) / (len(sample) // 2)
    odd_zeros = sample[1::2].count(0) / (len(sample) // 2)
    encoding = "utf-16-le" if odd_zeros > 0.4 and even_zeros < 0.05 else \
        "utf-16-be" if even_zeros > 0.4 and odd_zeros < 0.05 else None
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _normalized(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def prepare_text(src: Path, dest: Path) -> Prepared:
    """Plain text for Writer, as UTF-8."""
    dest.write_text(_normalized(decode_text(src.read_bytes())), encoding="utf-8")
    return Prepared(dest, "Text (encoded)", "UTF8,LF,,")


def sniff_delimiter(text: str, default: str = ",") -> str:
    """The separator of a CSV file: comma unless its first lines say semicolon, tab or pipe."""
    sample = "\n".join(text.split("\n", 20)[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def prepare_table(src: Path, dest: Path, delimiter: str | None = None) -> Prepared:
    """CSV or TSV for Calc, as UTF-8; `delimiter` None means find it."""
    text = _normalized(decode_text(src.read_bytes()))
    separator = delimiter or sniff_delimiter(text)
    dest.write_text(text, encoding="utf-8")
    # separator, text delimiter ("), charset, first line, column formats (standard), language (en-US),
    # quoted fields as text: no, detect special numbers (dates...): no
    options = f"{ord(separator)},34,{UTF8},1,,1033,false,false"
    return Prepared(dest, "Text - txt - csv (StarCalc)", options)


# ---- HTML ------------------------------------------------------------------------------------------------------
# Elements that load something (or redirect): removed with their content.
_LOADING_ELEMENTS = {"script", "iframe", "frame", "frameset", "object", "applet", "base", "link",
                     "noscript", "portal"}
# HTML5 void elements that libxml2's (HTML 4) parser takes for containers: it nests everything after them inside
# them, so they are unwrapped (their "content" is the rest of the page), never removed with it.
_SWALLOWING_VOID_ELEMENTS = {"embed", "source", "track", "wbr", "keygen"}
# Attributes whose value is a URL to fetch; data: URLs carry their bytes inline and stay.
_URL_ATTRIBUTES = {"src", "srcset", "lowsrc", "dynsrc", "background", "poster", "data", "codebase", "archive",
                   "longdesc", "usemap", "href", "xlink:href", "{http://www.w3.org/1999/xlink}href", "action",
                   "formaction", "icon", "manifest", "profile"}
_CSS_URL = re.compile(r"url\s*\(\s*(['\"]?)(?!data:)[^)]*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
# characters XML cannot hold: lxml refuses to set them as text, and a browser shows nothing for them anyway
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _scrub_css(css: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", css))


_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """The page's text: a BOM decides, then the charset its <meta> declares, then decode_text's guess."""
    if not any(data.startswith(bom) for bom, _ in _BOMS):
        declared = _DECLARED_CHARSET.search(data[:4096])
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"), errors="replace")
            except LookupError:
                pass
    return decode_text(data)


def sanitize_html(data: bytes) -> bytes:
    """The page without anything LibreOffice would fetch: scripts, frames, objects, stylesheet links, image and
    background URLs (inline data: images stay), CSS url() and @import. Links a reader clicks (a/area href) stay:
    they are not fetched. The result is UTF-8 and says so."""
    document = html.document_fromstring(_NOT_XML.sub("", decode_html(data)))
    for element in list(document.iter()):
        if not isinstance(element.tag, str):  # comments and processing instructions load nothing
            continue
        tag = element.tag.lower()
        if tag in _SWALLOWING_VOID_ELEMENTS:
            element.drop_tag()  # the element goes (with what it would load), the page after it stays
            continue
        if tag in _LOADING_ELEMENTS:
            element.drop_tree()
            continue
        if tag == "meta" and (element.get("http-equiv") or element.get("charset") is not None):
            element.drop_tree()  # refresh redirects, and charsets that no longer hold once re-encoded
            continue
        for name in list(element.attrib):
            lowered = name.lower()
            if lowered == "href" and tag in ("a", "area"):
                continue
            if lowered in _URL_ATTRIBUTES and not element.attrib[name].strip().lower().startswith("data:"):
                del element.attrib[name]
            elif lowered == "style":
                element.attrib[name] = _scrub_css(element.attrib[name])
        if tag == "style" and element.text:
            element.text = _scrub_css(element.text)
    head = document.find("head")
    if head is None:
        head = etree.Element("head")
        document.insert(0, head)
    meta = etree.Element("meta")
    meta.set("charset", "utf-8")
    head.insert(0, meta)
    return b"<!DOCTYPE html>\n" + html.tostring(document, encoding="utf-8", method="html")


def prepare_html(src: Path, dest: Path) -> Prepared:
    dest.write_bytes(sanitize_html(src.read_bytes()))
    return Prepared(dest, "HTML (StarWriter)", None)
