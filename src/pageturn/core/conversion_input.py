"""The body of `POST /v2/contentConverters`: checked, with defaults filled in, into a ConversionRequest.

Every refusal is an InputError (480) whose errorDetails name the property (`input.sources[1].fileId`), in the
shapes of the PrizmDoc spec: `{"in": "body", "at": …, "expected": {"enum": […]}}` and friends."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from . import formats
from .errors import InputError

DEST_FORMATS = ("pdf", "tiff", "png", "jpeg", "svg", "docx")
PAGED_DESTS = ("pdf", "tiff")          # honour `pages`, combine several sources, take headers and footers
WORD_SOURCES = ("doc", "docx", "docm", "dot", "dotx", "rtf", "odt")
# what a viewing session accepts (core.formats), listed for the 480's `expected.enum`
SOURCE_EXTENSIONS = ("pdf", "tif", "tiff", "png", "jpg", "jpeg", "gif", "bmp", "webp", "doc", "dot", "docx", "docm",
                     "dotx", "rtf", "odt", "xls", "xlsx", "xlsm", "ods", "ppt", "pps", "pptx", "ppsx", "odp", "txt",
                     "csv", "tsv", "html", "htm")
MAX_SOURCES = 100
MAX_LINES = 10
_DIMENSION = re.compile(r"^\s*(\d{1,5})\s*px\s*$")
_FONT_SIZE = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*pt\s*$")
_COLOR = re.compile(r"^#([0-9a-fA-F]{6})$")
_PAGES = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)?\s*)?$")
_EXPRESSION = re.compile(r"\{\{.*?\}\}")
DEFAULT_FONT = {"fontFamily": "Helvetica", "fontSize": "12pt", "color": "#000000"}


def _error(code: str, at: str, expected: Any = None, received: Any = None) -> InputError:
    details: dict[str, Any] = {"in": "body", "at": at}
    if expected is not None:
        details["expected"] = expected
    if received is not None and isinstance(received, (str, int, float, bool)):
        details["received"] = received
    return InputError(code, details)


@dataclass
class PageRange:
    first: int            # 1-based
    last: int | None      # None: to the end


@dataclass
class Source:
    file_id: str
    pages: list[PageRange] | None      # None: every page
    pages_text: str
    password: str | None
    extension: str = ""


@dataclass
class Decoration:
    """A header or footer: lines of [left, center, right], a standard font, size in points, RGB colour."""

    lines: list[list[str]]
    font_family: str
    font_size: float
    color: tuple[int, int, int]

    def as_job(self) -> dict[str, Any]:
        return {"lines": self.lines, "fontFamily": self.font_family, "fontSize": self.font_size,
                "color": list(self.color)}


@dataclass
class ConversionRequest:
    sources: list[Source]
    dest: str
    one_file_per_page: bool = False
    max_width: int | None = None
    max_height: int | None = None
    ocr_language: str | None = None        # a resolved Tesseract `-l` argument
    header: Decoration | None = None
    footer: Decoration | None = None
    min_seconds: int | None = None
    echo: dict = field(default_factory=dict)

    def secrets(self) -> list[str | None]:
        return [s.password for s in self.sources]


def parse_pages(text: str, at: str) -> list[PageRange] | None:
    """The print-dialog syntax: "2", "1,3,5-10", "2-", "2, 4-9, 12-"; "" means every page."""
    if text.strip() == "":
        return None
    items = text.split(",")
    if len(items) > MAX_RANGES:
        raise _error("InvalidPageSyntax", at, {"maxItems": MAX_RANGES})
    ranges = []
    for item in items:
        match = _PAGES.match(item)
        if not match:
            raise _error("InvalidPageSyntax", at, received=text)
        first = int(match.group(1))
        last = first if not match.group(2) else (int(match.group(3)) if match.group(3) else None)
        if first < 1 or (last is not None and last < first):
            raise _error("InvalidPageSyntax", at, received=text)
        ranges.append(PageRange(first, last))
    return ranges


MAX_RANGES = 10_000
MAX_BEYOND = 100   # pages past the end reported one by one (forceOneFilePerPage); the rest are not listed


def resolve_pages(ranges: list[PageRange] | None, count: int, limit: int = 1_000_000) -> tuple[list[int], list[int]]:
    """0-based pages inside a document of `count` pages, in the order asked, and the 1-based pages asked for
    that are past its end (at most MAX_BEYOND). An open range ("4-") stops at the last page. Stops once more
    than `limit` pages are listed (the caller refuses that many)."""
    if ranges is None:
        return list(range(min(count, limit + 1))), []
    inside: list[int] = []
    outside: list[int] = []
    for r in ranges:
        last = r.last if r.last is not None else max(count, r.first)
        inside.extend(range(r.first - 1, min(last, count)))
        if last > count and len(outside) < MAX_BEYOND:
            first_beyond = max(r.first, count + 1)
            outside.extend(range(first_beyond, min(last, first_beyond + MAX_BEYOND - len(outside) - 1) + 1))
        if len(inside) > limit:
            break
    return inside, outside


def pages_text(pages: list[int]) -> str:
    """0-based pages as the compact 1-based syntax ("1-3,5")."""
    parts: list[str] = []
    start: int | None = None
    prev = -2
    for page in pages:
        number = page + 1
        if start is not None and number == prev + 1:
            prev = number
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = number
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)


def _dimension(value: Any, at: str) -> int:
    match = _DIMENSION.match(value) if isinstance(value, str) else None
    if not match or int(match.group(1)) < 1:
        raise _error("InvalidDimensionValue", at, {"type": "string", "pattern": "^[0-9]+px$"}, value)
    return int(match.group(1))


def _bool(value: Any, at: str) -> bool:
    if not isinstance(value, bool):
        raise _error("InvalidInput", at, {"type": "boolean"}, value)
    return value


def _object(value: Any, at: str) -> dict:
    if not isinstance(value, dict):
        raise _error("InvalidInput", at, {"type": "object"}, value)
    return value


def _decoration(value: Any, at: str) -> tuple[Decoration, dict]:
    spec = _object(value, at)
    lines = spec.get("lines")
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise _error("InvalidInput", f"{at}.lines", {"type": "array", "minItems": 1, "maxItems": MAX_LINES})
    clean: list[list[str]] = []
    for row, line in enumerate(lines):
        if not isinstance(line, list) or len(line) > 3 or not all(isinstance(t, str) for t in line):
            raise _error("InvalidInput", f"{at}.lines[{row}]",
                         {"type": "array", "items": {"type": "string"}, "maxItems": 3})
        for column, text in enumerate(line):
            if len(text) > 500:
                raise _error("InvalidInput", f"{at}.lines[{row}][{column}]", {"type": "string", "maxLength": 500})
            for expression in _EXPRESSION.findall(text):
                if not _assemble().TOKEN.fullmatch(expression):
                    raise _error("UnrecognizedExpression", f"{at}.lines[{row}][{column}]", received=expression)
        clean.append(list(line) + [""] * (3 - len(line)))
    family = spec.get("fontFamily", DEFAULT_FONT["fontFamily"])
    if not isinstance(family, str) or not family.strip():
        raise _error("InvalidInput", f"{at}.fontFamily", {"type": "string"}, family)
    size_text = spec.get("fontSize", DEFAULT_FONT["fontSize"])
    size = _FONT_SIZE.match(size_text) if isinstance(size_text, str) else None
    if not size or not 1 <= float(size.group(1)) <= 144:
        raise _error("InvalidInput", f"{at}.fontSize", {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?pt$"},
                     size_text)
    color_text = spec.get("color", DEFAULT_FONT["color"])
    color = _COLOR.match(color_text) if isinstance(color_text, str) else None
    if not color:
        raise _error("InvalidInput", f"{at}.color", {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}, color_text)
    rgb = bytes.fromhex(color.group(1))
    echo = {"lines": clean, "fontFamily": family, "fontSize": size_text, "color": color_text}
    return Decoration(clean, family, float(size.group(1)), (rgb[0], rgb[1], rgb[2])), echo


def parse(body: Any, *, lookup_file, resolve_language, languages: list[str]) -> ConversionRequest:
    """Check a request body. `lookup_file(fileId)` gives the work file record or None; `resolve_language(name)`
    gives Tesseract's argument or None; `languages` lists the installed ones (for the 480's enum)."""
    if not isinstance(body, dict):
        raise _error("InvalidInput", "", {"type": "object"})
    data = body.get("input")
    if data is None:
        raise InputError("MissingInput", {"in": "body", "at": "input"})
    data = _object(data, "input")
    min_seconds = body.get("minSecondsAvailable")
    if min_seconds is not None and (isinstance(min_seconds, bool) or not isinstance(min_seconds, int)
                                    or not 0 < min_seconds <= 10 * 365 * 86400):
        raise _error("InvalidInput", "minSecondsAvailable", {"type": "integer", "greaterThan": 0}, min_seconds)

    dest_raw = data.get("dest")
    if dest_raw is None:
        raise InputError("MissingInput", {"in": "body", "at": "input.dest"})
    dest_raw = _object(dest_raw, "input.dest")
    dest = dest_raw.get("format")
    if dest is None:
        raise InputError("MissingInput", {"in": "body", "at": "input.dest.format"})
    if dest not in DEST_FORMATS:
        raise _error("InvalidInput", "input.dest.format", {"enum": list(DEST_FORMATS)}, dest)

    raw_sources = data.get("sources")
    if raw_sources is None:
        raise InputError("MissingInput", {"in": "body", "at": "input.sources"})
    if not isinstance(raw_sources, list) or not raw_sources or len(raw_sources) > MAX_SOURCES:
        raise _error("InvalidInput", "input.sources", {"type": "array", "minItems": 1, "maxItems": MAX_SOURCES})
    if len(raw_sources) > 1 and dest not in PAGED_DESTS:
        raise _error("MultipleSourcesAreNotSupportedForThisDestinationFormat", "input.sources",
                     {"maxItems": 1})
    sources: list[Source] = []
    echo_sources = []
    for n, raw in enumerate(raw_sources):
        at = f"input.sources[{n}]"
        raw = _object(raw, at)
        file_id = raw.get("fileId")
        if file_id is None:
            raise InputError("MissingInput", {"in": "body", "at": f"{at}.fileId"})
        if not isinstance(file_id, str):
            raise _error("InvalidInput", f"{at}.fileId", {"type": "string"}, file_id)
        record = lookup_file(file_id)
        if record is None:
            raise _error("WorkFileDoesNotExist", f"{at}.fileId", received=file_id)
        extension = record["fileExtension"]
        fmt = formats.format_of(extension)
        accepted = sorted(WORD_SOURCES) if dest == "docx" else list(SOURCE_EXTENSIONS)
        if fmt is None or (dest == "docx" and extension not in WORD_SOURCES):
            error = _error("UnsupportedSourceFileFormat", f"{at}.fileId", {"enum": accepted}, extension)
            error.details["message"] = f"A .{extension} source cannot be converted to {dest}"
            raise error
        pages_raw = raw.get("pages", "")
        if not isinstance(pages_raw, str):
            raise _error("InvalidPageSyntax", f"{at}.pages", {"type": "string"}, pages_raw)
        password = raw.get("password")
        if password is not None and not isinstance(password, str):
            raise _error("InvalidInput", f"{at}.password", {"type": "string"})
        honoured = dest in PAGED_DESTS   # png/jpeg/svg/docx: every page, `pages` dropped (as the original does)
        ranges = parse_pages(pages_raw, f"{at}.pages") if honoured else None
        sources.append(Source(file_id, ranges, pages_raw if honoured else "", password or None, extension))
        echo = {k: v for k, v in raw.items() if k not in ("password", "pages")}
        if honoured:
            echo["pages"] = pages_raw
        echo_sources.append(echo)

    request = ConversionRequest(sources, dest, min_seconds=min_seconds)
    echo_dest: dict[str, Any] = {k: v for k, v in dest_raw.items() if k not in ("header", "footer")}
    if dest == "pdf":
        options = _object(dest_raw.get("pdfOptions", {}), "input.dest.pdfOptions")
        request.one_file_per_page = _bool(options.get("forceOneFilePerPage", False),
                                          "input.dest.pdfOptions.forceOneFilePerPage")
        echo_options = {**options, "forceOneFilePerPage": request.one_file_per_page}
        if "ocr" in options:
            ocr = _object(options["ocr"], "input.dest.pdfOptions.ocr")
            language = ocr.get("language", "english")
            resolved = resolve_language(language) if isinstance(language, str) else None
            if resolved is None:
                error = _error("InvalidInput", "input.dest.pdfOptions.ocr.language", {"enum": languages}, language)
                error.details["message"] = (f"The OCR language {language!r} is not installed; installed: "
                                            f"{', '.join(languages) or 'none'}")
                raise error
            request.ocr_language = resolved
            echo_options["ocr"] = {**ocr, "language": language}
        echo_dest["pdfOptions"] = echo_options
    elif dest == "tiff":
        options = _object(dest_raw.get("tiffOptions", {}), "input.dest.tiffOptions")
        request.one_file_per_page = _bool(options.get("forceOneFilePerPage", False),
                                          "input.dest.tiffOptions.forceOneFilePerPage")
        _sizes(request, options, "input.dest.tiffOptions")
        echo_dest["tiffOptions"] = {**options, "forceOneFilePerPage": request.one_file_per_page}
    elif dest in ("png", "jpeg"):
        key = f"{dest}Options"
        options = _object(dest_raw.get(key, {}), f"input.dest.{key}")
        _sizes(request, options, f"input.dest.{key}")
    elif dest == "svg":
        options = _object(dest_raw.get("svgOptions", {}), "input.dest.svgOptions")
        _sizes(request, options, "input.dest.svgOptions")

    for name in ("header", "footer"):
        if name not in dest_raw:
            continue
        at = f"input.dest.{name}"
        if dest not in PAGED_DESTS:
            raise _error("UnsupportedDestinationFormatWhenUsingHeaderOrFooter", "input.dest.format",
                         {"enum": list(PAGED_DESTS)}, dest)
        if len(sources) > 1:
            raise _error("MultipleSourceDocumentsNotSupportedWhenUsingHeaderOrFooter", "input.sources",
                         {"maxItems": 1})
        if sources[0].pages is not None:
            raise _error("PagesPropertyNotSupportedWhenUsingHeaderOrFooter", "input.sources[0].pages")
        if request.one_file_per_page:
            raise _error("ForceOneFilePerPageNotSupportedWhenUsingHeaderOrFooter",
                         f"input.dest.{dest}Options.forceOneFilePerPage", {"value": False})
        decoration, echo = _decoration(dest_raw[name], at)
        setattr(request, name, decoration)
        echo_dest[name] = echo

    request.echo = {"sources": echo_sources, "dest": echo_dest}
    return request


def _sizes(request: ConversionRequest, options: dict, at: str) -> None:
    if "maxWidth" in options:
        request.max_width = _dimension(options["maxWidth"], f"{at}.maxWidth")
    if "maxHeight" in options:
        request.max_height = _dimension(options["maxHeight"], f"{at}.maxHeight")


def font_available(family: str) -> bool:
    return family.lower() in _assemble().FONTS


def _assemble() -> ModuleType:
    """engines.assemble, imported when first needed: it loads pikepdf and PDFium, which the server process
    otherwise never uses (about 30 MB resident)."""
    from ..engines import assemble
    return assemble
