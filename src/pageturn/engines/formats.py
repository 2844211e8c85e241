"""Every document format the server takes, in one table: its MIME type, how it is viewed and, for the engines,
how each is read (the render kind, Pillow's decoder, or the LibreOffice application and input preparation).

The table lives with the engines because they must not import the core; core/formats.py reads it (detection by
content and the FileExtension rules stay there). A format added here is known to the upload rules, the MIME
types of downloads, the render workers and the LibreOffice pool at once.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    extension: str
    mime: str
    family: str                     # how it is viewed: "pdf" | "image" (rendered as is) | "office" | "text" | "xps"
    pillow: str | None = None       # images: Pillow's decoder
    office: str | None = None       # office and text: the LibreOffice application, text | spreadsheet | presentation
                                    # | drawing
    prepare: str = "copy"           # what LibreOffice is given: copy | text | table | html (see text_input) |
                                    # email | markdown | code | svg (see derived_input)
    delimiter: str | None = None    # tables: the column separator (None: detected)
    word: bool = False              # a Word document (comparison accepts these)


def _office(extension: str, mime: str, application: str, **kw: object) -> Format:
    return Format(extension, mime, "office", office=application, **kw)  # type: ignore[arg-type]


def _text(extension: str, mime: str, application: str, prepare: str, delimiter: str | None = None) -> Format:
    return Format(extension, mime, "text", office=application, prepare=prepare, delimiter=delimiter)


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

TABLE: tuple[Format, ...] = (
    Format("pdf", "application/pdf", "pdf"),
    Format("tif", "image/tiff", "image", pillow="TIFF"),
    Format("tiff", "image/tiff", "image", pillow="TIFF"),
    Format("png", "image/png", "image", pillow="PNG"),
    Format("jpg", "image/jpeg", "image", pillow="JPEG"),
    Format("jpeg", "image/jpeg", "image", pillow="JPEG"),
    Format("gif", "image/gif", "image", pillow="GIF"),
    Format("bmp", "image/bmp", "image", pillow="BMP"),
    Format("webp", "image/webp", "image", pillow="WEBP"),
    _office("doc", "application/msword", "text", word=True),
    _office("dot", "application/msword", "text", word=True),
    _office("docx", _OOXML + "wordprocessingml.document", "text", word=True),
    _office("docm", "application/vnd.ms-word.document.macroEnabled.12", "text", word=True),
    _office("dotx", _OOXML + "wordprocessingml.template", "text", word=True),
    _office("rtf", "application/rtf", "text"),
    _office("odt", _ODF + "text", "text"),
    _office("xls", "application/vnd.ms-excel", "spreadsheet"),
    _office("xlsx", _OOXML + "spreadsheetml.sheet", "spreadsheet"),
    _office("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", "spreadsheet"),
    _office("ods", _ODF + "spreadsheet", "spreadsheet"),
    _office("ppt", "application/vnd.ms-powerpoint", "presentation"),
    _office("pps", "application/vnd.ms-powerpoint", "presentation"),
    _office("pptx", _OOXML + "presentationml.presentation", "presentation"),
    _office("ppsx", _OOXML + "presentationml.slideshow", "presentation"),
    _office("odp", _ODF + "presentation", "presentation"),
    _text("txt", "text/plain", "text", "text"),
    _text("csv", "text/csv", "spreadsheet", "table"),
    _text("tsv", "text/tab-separated-values", "spreadsheet", "table", "\t"),
    _text("html", "text/html", "text", "html"),
    _text("htm", "text/html", "text", "html"),
    # e-mail, Markdown, JSON and XML become sanitised HTML pages (engines/derived_input.py)
    _text("eml", "message/rfc822", "text", "email"),
    _text("msg", "application/vnd.ms-outlook", "text", "email"),
    _text("md", "text/markdown", "text", "markdown"),
    _text("markdown", "text/markdown", "text", "markdown"),
    _text("json", "application/json", "text", "code"),
    _text("xml", "application/xml", "text", "code"),
    # drawings through LibreOffice Draw; SVG made inert first
    _office("svg", "image/svg+xml", "drawing", prepare="svg"),
    _office("odg", _ODF + "graphics", "drawing"),
    _office("emf", "image/emf", "drawing"),
    _office("wmf", "image/wmf", "drawing"),
    _office("vsd", "application/vnd.visio", "drawing"),
    _office("vsdx", "application/vnd.ms-visio.drawing", "drawing"),
    _office("dxf", "image/vnd.dxf", "drawing"),
    Format("avif", "image/avif", "image", pillow="AVIF"),
    Format("heic", "image/heic", "image", pillow="HEIF"),   # pi-heif's decoder (engines/images.py)
    Format("heif", "image/heif", "image", pillow="HEIF"),
    Format("xps", "application/vnd.ms-xpsdocument", "xps"),    # xpstopdf (engines/xps.py)
    Format("oxps", "application/oxps", "xps"),
)

BY_EXTENSION: dict[str, Format] = {f.extension: f for f in TABLE}
CONVERTED: dict[str, Format] = {f.extension: f for f in TABLE if f.office}     # what LibreOffice converts
WORKBOOKS = frozenset(f.extension for f in TABLE if f.office == "spreadsheet" and f.prepare == "copy")
WORD = frozenset(f.extension for f in TABLE if f.word)
PILLOW_DECODERS = tuple(dict.fromkeys(f.pillow for f in TABLE if f.pillow))
