"""Helpers for the markup tests: work files, processes polled to their end, PDF inspection."""
from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium

from api.prizm import Prizm


def upload(prizm: Prizm, data: bytes, ext: str) -> str:
    r = prizm.post("/PCCIS/V1/WorkFile", params={"FileExtension": ext}, data=data)
    assert r.status_code == 200, r.text
    return r.json()["fileId"]


def upload_markup(prizm: Prizm, marks: list[dict]) -> str:
    return upload(prizm, json.dumps({"marks": marks}).encode(), "json")


def finish(prizm: Prizm, path: str, timeout: float = 120) -> dict:
    """Polls a process until it is no longer processing (as the official clients do)."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        r = prizm.get(path)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["state"] != "processing":
            return body
        assert time.monotonic() < deadline, f"process still running: {body}"
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def burn(prizm: Prizm, document_id: str, markup_id: str) -> dict:
    r = prizm.post("/PCCIS/V1/MarkupBurner", json={"input": {"documentFileId": document_id,
                                                             "markupFileId": markup_id}})
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["state"] == "processing" and started["input"] == {"documentFileId": document_id,
                                                                       "markupFileId": markup_id}
    return finish(prizm, f"/PCCIS/V1/MarkupBurner/{started['processId']}")


def burned_pdf(prizm: Prizm, document: bytes, marks: list[dict], ext: str = "pdf") -> bytes:
    result = burn(prizm, upload(prizm, document, ext), upload_markup(prizm, marks))
    assert result["state"] == "complete", result
    r = prizm.get(f"/PCCIS/V1/WorkFile/{result['output']['documentFileId']}")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    return r.content


def pdftotext(data: bytes, page: int | None = None, crop: tuple[float, float, float, float] | None = None) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(data)
        f.flush()
        args = ["pdftotext", "-layout"]
        if page is not None:
            args += ["-f", str(page), "-l", str(page)]
        if crop is not None:
            x, y, w, h = crop
            args += ["-r", "72", "-x", str(int(x)), "-y", str(int(y)), "-W", str(int(w + 0.999)),
                     "-H", str(int(h + 0.999))]
        return subprocess.run([*args, f.name, "-"], capture_output=True, text=True, check=True).stdout


def pdfium_text(data: bytes, page: int, crop: tuple[float, float, float, float] | None = None) -> str:
    """PDFium's text of a 0-based page, or only what lies in a crop (top-left origin, points)."""
    document = pdfium.PdfDocument(data)
    try:
        pdf_page = document[page]
        textpage = pdf_page.get_textpage()
        if crop is None:
            return textpage.get_text_range()
        height = pdf_page.get_height()
        x, y, w, h = crop
        return textpage.get_text_bounded(left=x, bottom=height - y - h, right=x + w, top=height - y)
    finally:
        document.close()


def render(data: bytes, page: int = 0, scale: float = 1.0):
    document = pdfium.PdfDocument(data)
    try:
        return document[page].render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()


def all_stream_bytes(data: bytes) -> bytes:
    """Every stream of the file, decoded where possible, and every string: what any extractor could read."""
    out = bytearray()
    with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                try:
                    out += obj.read_bytes()
                except pikepdf.PdfError:
                    out += obj.read_raw_bytes()
            out += repr(obj).encode("utf-8", "replace")
        out += repr(pdf.trailer).encode("utf-8", "replace")
        if "/Info" in pdf.trailer:
            out += repr(pdf.trailer.Info).encode("utf-8", "replace")
    return bytes(out)


def near(pixel: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 60) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
