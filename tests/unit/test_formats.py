"""Format detection by content, and the FileExtension rules."""
from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import Workbook
from pptx import Presentation

from pageturn.core import formats


def _write(tmp_path, data: bytes):
    path = tmp_path / "f"
    path.write_bytes(data)
    return path


def _office(kind: str) -> bytes:
    out = io.BytesIO()
    {"docx": lambda: Document().save(out), "xlsx": lambda: Workbook().save(out),
     "pptx": lambda: Presentation().save(out)}[kind]()
    return out.getvalue()


@pytest.mark.parametrize("data,expected", [
    (b"%PDF-1.7\n...", "pdf"), (b"\x89PNG\r\n\x1a\n....", "png"), (b"\xff\xd8\xff\xe0..", "jpg"),
    (b"GIF89a....", "gif"), (b"II*\x00....", "tif"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (b"{\\rtf1\\ansi hello}", "rtf"), (b"plain text", None), (b"<html><body>x</body></html>", None),
])
def test_detect_by_head(tmp_path, data, expected):
    assert formats.detect(_write(tmp_path, data)) == expected


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_detect_office_open_xml(tmp_path, kind):
    assert formats.detect(_write(tmp_path, _office(kind))) == kind


def test_resolve_rules():
    assert formats.resolve("pdf", "docx") == "pdf"          # detected wins
    assert formats.resolve("docx", "dotx") == "dotx"        # same container refines
    assert formats.resolve(None, "txt") == "txt"            # undetectable takes a known extension
    assert formats.resolve(None, "xyz") is None
    assert formats.resolve(None, None) is None
    assert formats.resolve("ooxml-encrypted", "xlsx") == "xlsx"


@pytest.mark.parametrize("value", [".pdf", "p/f", "a b", "x" * 17])
def test_extension_must_be_alphanumeric(value):
    with pytest.raises(ValueError):
        formats.normalize_extension(value)
    assert formats.normalize_extension("PDF") == "pdf"


def test_zip_bomb_content_types_is_read_only_up_to_a_limit(tmp_path):
    import tracemalloc
    import zipfile
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # 300 MB of nothing after a plausible start: detection must not inflate it all
        archive.writestr("[Content_Types].xml", b"<Types>" + b" " * (300 << 20))
    tracemalloc.start()
    assert formats.detect(path) is None
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 << 20
