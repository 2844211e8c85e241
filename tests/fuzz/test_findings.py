"""What the fuzz run found, kept as plain regression tests (each names the seed and case that found it)."""
from __future__ import annotations

import io
import zipfile

import pytest

from pageturn.core import formats
from fuzz.corpus import seeds


def _with_broken_deflate(data: bytes, member: str) -> bytes:
    """The archive with the compressed bytes of `member` overwritten in the middle: its header and the central
    directory stay intact, so the archive opens and only reading that member fails inside zlib."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 2, start + min(info.compress_size, 40)):
        raw[i] = 0xFF ^ raw[i]
    return bytes(raw)


@pytest.mark.parametrize("member", ["docProps/app.xml", "[Content_Types].xml"])
def test_a_member_that_does_not_inflate_is_a_bad_zip_not_a_server_error(tmp_path, member):
    """Seed 1 case 27 (docx): reading docProps/app.xml for the early page estimate raised zlib.error, and
    Document/q/Attributes answered 500 InternalError; [Content_Types].xml fails the same way at detection."""
    docx = next(s for s in seeds() if s.name == "docx").data
    path = tmp_path / "broken.docx"
    path.write_bytes(_with_broken_deflate(docx, member))
    with zipfile.ZipFile(path) as archive, pytest.raises(zipfile.BadZipFile):
        formats.read_member(archive, member, 100_000)
    assert formats.detect(path) in ("docx", None)  # an answer, not an exception


def test_a_page_whose_size_cannot_be_read_is_a_corrupt_document(tmp_path):
    """Seed 1 cases 61, 80, 100, 140, 171 and 15 more (pdf): pdfium failed to read a page's size; the worker logged
    a traceback and the page answered 580 RenderFailed instead of InvalidDocument."""
    from fuzz.campaign import make_case
    from pageturn.engines import pdf
    from pageturn.engines.errors import CorruptDocument
    path = tmp_path / "case-61.pdf"
    path.write_bytes(make_case(seeds(), 1, 61).data)
    try:
        with pytest.raises(CorruptDocument):
            pdf.info(str(path))
    finally:
        pdf.close_all()


@pytest.mark.parametrize("case", [16, 126, 766, 986])
def test_html_with_control_characters_is_sanitized_not_refused(case):
    """Seed 1 cases 16, 126, 766, 986 (html): a stray NUL or other control character made lxml refuse the text
    while the page was being sanitised, and the whole document answered 580 ConversionFailed (a browser shows
    such a page, without the character)."""
    from fuzz.campaign import make_case
    from pageturn.engines.text_input import sanitize_html
    out = sanitize_html(make_case(seeds(), 1, case).data)
    assert out.startswith(b"<!DOCTYPE html>") and b"\x00" not in out


def test_control_characters_go_and_the_text_stays():
    from pageturn.engines.text_input import sanitize_html
    out = sanitize_html(b"<html><body><style>p { color: red }\x00</style><p>be\x01fore\x0bafter</p></body></html>")
    assert b"beforeafter" in out and b"color: red" in out


def test_a_tiff_frame_without_dimensions_is_a_corrupt_document(tmp_path):
    """Seed 1: 16 TIFF cases (115, 135, 155, 265, ...): Pillow raised TypeError("Missing dimensions") while counting
    frames; it was not taken for damage, so the document answered 580 RenderFailed with a logged traceback
    instead of InvalidDocument."""
    from fuzz.campaign import make_case
    from pageturn.engines import images
    from pageturn.engines.errors import CorruptDocument
    path = tmp_path / "case-115.tif"
    path.write_bytes(make_case(seeds(), 1, 115).data)
    with pytest.raises(CorruptDocument):
        images.info(str(path))
