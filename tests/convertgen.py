"""Sources for the conversion and OCR tests, generated on the fly, and a small client for the process API."""
from __future__ import annotations

import io
import time
from dataclasses import dataclass

import requests
from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass
class ScanWord:
    text: str
    box: tuple[float, float, float, float]   # x, y, width, height in points from the top-left


def make_scan(lines: list[tuple[str, int, int]], *, dpi: int = 300, size_px: int = 64,
              page: tuple[int, int] = (2550, 3300)) -> tuple[bytes, list[ScanWord]]:
    """A 1-bit 'scanned' letter page (PNG at `dpi`) with each (text, x_px, y_px) line drawn in black; returns the
    PNG and every word's ink box in points."""
    image = Image.new("L", page, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, size_px)
    words = []
    for text, x, y in lines:
        draw.text((x, y), text, font=font, fill=0)
        cursor = x
        for word in text.split(" "):
            left, top, right, bottom = draw.textbbox((cursor, y), word, font=font)
            words.append(ScanWord(word, (left * 72 / dpi, top * 72 / dpi, (right - left) * 72 / dpi,
                                         (bottom - top) * 72 / dpi)))
            cursor += draw.textlength(word + " ", font=font)
    out = io.BytesIO()
    image.convert("1").save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue(), words


def scan_pdf(pngs: list[bytes]) -> bytes:
    """An image-only PDF (no text layer): each PNG on a letter page, as a scanner would make it."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792))
    for png in pngs:
        pdf.drawImage(ImageReader(io.BytesIO(png)), 0, 0, 612, 792)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class Converter:
    """POST /v2/contentConverters and poll its GET, over real HTTP."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def upload(self, data: bytes, ext: str) -> str:
        r = self.http.post(self.base + "/PCCIS/V1/WorkFile", data=data, params={"FileExtension": ext})
        assert r.status_code == 200, r.text
        return r.json()["fileId"]

    def post(self, body, **kw) -> requests.Response:
        return self.http.post(self.base + "/v2/contentConverters", json=body, **kw)

    def start(self, body) -> dict:
        r = self.post(body)
        assert r.status_code == 200, (r.status_code, r.text)
        answer = r.json()
        assert answer["state"] == "processing" and answer["percentComplete"] == 0
        return answer

    def status(self, process_id: str) -> requests.Response:
        return self.http.get(f"{self.base}/v2/contentConverters/{process_id}")

    def wait(self, process_id: str, timeout: float = 240) -> dict:
        """Poll until the process leaves `processing` (the official clients' loop, with a short interval)."""
        deadline = time.monotonic() + timeout
        while True:
            r = self.status(process_id)
            assert r.status_code == 200, (r.status_code, r.text)
            answer = r.json()
            if answer["state"] != "processing":
                return answer
            assert time.monotonic() < deadline, f"still processing: {answer}"
            time.sleep(0.1)

    def convert(self, body, timeout: float = 240) -> dict:
        return self.wait(self.start(body)["processId"], timeout)

    def download(self, file_id: str) -> bytes:
        r = self.http.get(f"{self.base}/PCCIS/V1/WorkFile/{file_id}")
        assert r.status_code == 200, r.text
        return r.content

    def outputs(self, answer: dict) -> list[bytes]:
        assert answer["state"] == "complete", answer
        return [self.download(result["fileId"]) for result in answer["output"]["results"]]
