"""Document formats: detection by content, the FileExtension rules, MIME types and how each format is viewed.

Detection reads only the file's head and, for ZIP and OLE2 containers, their directory: a detected format wins
over the extension a client gives; text-like formats cannot be detected and need the extension."""
from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

import olefile

from ..engines.formats import BY_EXTENSION, WORD, Format

_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")  # used with fullmatch: `$` would accept a final newline


# The table itself is the engines' (engines/formats.py): one source of truth for the upload rules, MIME types,
# the render workers and LibreOffice.
_FORMATS = BY_EXTENSION
WORD_FORMATS = WORD
# Formats whose bytes are one container type, so a given extension refines what content detection found.
_REFINES = {
    "docx": {"docm", "dotx"}, "xlsx": {"xlsm"}, "pptx": {"ppsx"}, "doc": {"dot"}, "ppt": {"pps"},
    "jpg": {"jpeg"}, "tif": {"tiff"}, "html": {"htm"}, "xps": {"oxps"}, "heic": {"heif"},
    "ooxml-encrypted": {"docx", "docm", "xlsx", "xlsm", "pptx", "ppsx"},
}


def format_of(extension: str) -> Format | None:
    return _FORMATS.get((extension or "").lower())


def mime_type(extension: str) -> str:
    fmt = format_of(extension)
    return fmt.mime if fmt else "application/octet-stream"


def normalize_extension(value: str | None) -> str | None:
    """None when absent; raises ValueError when not alphanumeric (a leading dot is an error, as in the spec)."""
    if value is None or value == "":
        return None
    if not _EXTENSION.fullmatch(value):
        raise ValueError("an alphanumeric file extension without a leading period, such as pdf or docx")
    return value.lower()


def detect(path: Path) -> str | None:
    """The format the bytes are, by content alone, or None when the content does not say."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tif"
    if head[:2] == b"BM" and len(head) > 26:
        return "bmp"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head[4:8] == b"ftyp":  # ISO media: AVIF, or HEIC/HEIF photos (HEVC)
        return _iso_image(head)
    if head[:4] == b"\x01\x00\x00\x00" and head[40:44] == b" EMF":
        return "emf"
    if head[:4] == b"\xd7\xcd\xc6\x9a" or head[:6] in (b"\x01\x00\x09\x00\x00\x03", b"\x02\x00\x09\x00\x00\x03"):
        return "wmf"
    if _is_svg(head):
        return "svg"
    if _is_message(head):
        return "eml"
    if head.startswith(b"PK\x03\x04"):
        return _detect_zip(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _detect_ole(path)
    return None


def _detect_zip(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = read_member(archive, "mimetype", 100).decode("ascii", "replace").strip()
                return {"application/vnd.oasis.opendocument.text": "odt",
                        "application/vnd.oasis.opendocument.spreadsheet": "ods",
                        "application/vnd.oasis.opendocument.presentation": "odp",
                        "application/vnd.oasis.opendocument.graphics": "odg"}.get(mimetype)
            if any(name.lower().endswith(".fdseq") for name in names):
                return "xps"
            if "[Content_Types].xml" not in names:
                return None
            types = read_member(archive, "[Content_Types].xml", 200_000).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return None
    if "wordprocessingml" in types or "ms-word" in types:
        if "macroEnabled" in types:
            return "docm"
        return "dotx" if "template.main" in types else "docx"
    if "spreadsheetml" in types or "ms-excel" in types:
        return "xlsm" if "macroEnabled" in types else "xlsx"
    if "presentationml" in types or "ms-powerpoint" in types:
        return "ppsx" if "slideshow.main" in types else "pptx"
    if "ms-visio" in types:
        return "vsdx"
    return None


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """At most `limit` decompressed bytes of a member: a zip bomb never inflates further than that. A member
    that does not decompress (corrupt deflate data, a cut stream, an unknown method) is a BadZipFile, which
    callers already handle, rather than zlib.error or EOFError escaping as a server error."""
    try:
        with archive.open(name) as member:
            return member.read(limit)
    except (zlib.error, EOFError, NotImplementedError) as exc:
        raise zipfile.BadZipFile(f"{name}: {exc}") from None


def _detect_ole(path: Path) -> str | None:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises assorted errors on damaged containers; undetected is the answer
        return None
    if "worddocument" in streams:
        return "doc"
    if "workbook" in streams or "book" in streams:
        return "xls"
    if "powerpoint document" in streams:
        return "ppt"
    if "visiodocument" in streams:
        return "vsd"
    if "__properties_version1.0" in streams and any(name.startswith("__substg1.0_") for name in streams):
        return "msg"
    if "encryptedpackage" in streams:
        return "ooxml-encrypted"  # a password-protected docx/xlsx/pptx: the extension says which
    return None


_SVG_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*)*"
                        rb"(?:<!DOCTYPE\s+svg[^\[>]*(?:\[.*?\])?\s*>\s*)?(?:<!--.*?-->\s*)*<svg[\s>]",
                        re.DOTALL | re.IGNORECASE)
_HEADER_LINE = re.compile(rb"([A-Za-z0-9-]{1,76}):[ \t]*[^\r\n]*\r?\n")
_MESSAGE_HEADERS = {b"from", b"to", b"cc", b"date", b"subject", b"message-id", b"mime-version", b"received",
                    b"return-path", b"delivered-to", b"reply-to", b"content-type", b"x-mailer", b"sender"}


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}


def _iso_image(head: bytes) -> str | None:
    size = int.from_bytes(head[:4], "big")
    brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if brands & {b"avif", b"avis"}:
        return "avif"
    if brands & _HEIF_BRANDS:
        return "heic"
    return None  # other ISO media (MP4 video, HEIF of other codecs) is not a document


def _is_svg(head: bytes) -> bool:
    return _SVG_START.match(head) is not None


def _is_message(head: bytes) -> bool:
    """Clearly an e-mail: it starts with header fields (continuations allowed) up to a blank line or the end of
    the head, among them From and at least two more of the usual message headers."""
    names: set[bytes] = set()
    position = 0
    while position < len(head):
        if head.startswith((b"\r\n", b"\n"), position):
            break
        if head[position:position + 1] in (b" ", b"\t") and names:  # a folded continuation line
            end = head.find(b"\n", position)
            if end < 0:
                break
            position = end + 1
            continue
        match = _HEADER_LINE.match(head, position)
        if match is None:
            if head.find(b"\n", position) >= 0:
                return False  # a line that is not a header before the blank line: not a message
            break
        names.add(match.group(1).lower())
        position = match.end()
    known = names & _MESSAGE_HEADERS
    return b"from" in known and len(known) >= 3


def resolve(detected: str | None, given: str | None) -> str | None:
    """The format to use: detected wins, a given extension refines it within the same container type,
    and an undetectable content takes a known given extension."""
    if detected:
        if given and given in _REFINES.get(detected, ()):
            return given
        if detected == "ooxml-encrypted":
            return "docx"
        return detected
    if given and given in _FORMATS:
        return given
    return None


def is_word(extension: str | None) -> bool:
    return (extension or "") in WORD_FORMATS
