"""The XPS converter (xpstopdf) as the engine runs it: isolated, capped, with a deadline."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import formatgen
from pageturn.engines.errors import ConversionTimeout, UnreadableDocument
from pageturn.engines.xps import XpsConverter

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")


def _job(tmp_path: Path, data: bytes) -> tuple[Path, Path]:
    src = tmp_path / "document.xps"
    src.write_bytes(data)
    return src, tmp_path / "document.pdf"


def test_converts_and_counts_pages(tmp_path):
    src, out = _job(tmp_path, formatgen.xps("Engine marker", FONT))
    assert asyncio.run(XpsConverter().convert(src, out, timeout=60)) == 1
    assert out.read_bytes().startswith(b"%PDF")


def test_damaged_xps_is_unreadable(tmp_path):
    src, out = _job(tmp_path, formatgen.xps("x", FONT)[:300])
    with pytest.raises(UnreadableDocument):
        asyncio.run(XpsConverter().convert(src, out, timeout=60))


def test_the_deadline_stops_the_converter(tmp_path):
    src, out = _job(tmp_path, formatgen.xps("x", FONT))
    with pytest.raises(ConversionTimeout):  # no converter starts, let alone finishes, in a millisecond
        asyncio.run(XpsConverter().convert(src, out, timeout=0.001))
    assert not out.exists()
