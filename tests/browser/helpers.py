"""Helpers for the viewer tests: the PrizmDoc calls an application makes, and ways to look at the viewer."""
from __future__ import annotations

import io
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
V1 = "/PCCIS/V1/ViewingSession"


class Api:
    """The PrizmDoc calls an application makes to hand a document to the viewer."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def session(self, data: bytes, ext: str | None = None, body: dict | None = None, start: bool = True) -> str:
        r = self.http.post(self.base + V1, json=body or {})
        assert r.status_code == 200, r.text
        sid = r.json()["viewingSessionId"]
        r = self.http.put(f"{self.base}{V1}/u{sid}/SourceFile", data=data,
                          params={"FileExtension": ext} if ext else None)
        assert r.status_code == 200, (r.status_code, r.headers, r.text)
        if start:
            r = self.http.post(f"{self.base}{V1}/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"})
            assert r.status_code == 200, r.text
        return sid

    def stop(self, sid: str, status: int, message: str) -> None:
        r = self.http.post(f"{self.base}{V1}/u{sid}/Notification/SessionStopped",
                           json={"httpStatus": status, "endUserMessage": message})
        assert r.status_code == 200, r.text

def open_viewer(page, base: str, sid: str, ready: bool = True) -> None:
    page.goto(f"{base}/viewer/{sid}")
    if ready:
        page.wait_for_selector('#viewport[data-ready="true"]')


def wait_for_content(page, index: int, timeout: float = 30_000):
    """The page element once its content (SVG or PNG) is drawn."""
    return page.wait_for_selector(f'.page[data-page="{index}"][data-content]', timeout=timeout)


def drawn_boxes(page, *selectors: str, timeout: float = 30_000) -> list[dict]:
    """The on-screen boxes (as bounding_box gives them) of what each selector finds, once all are there with a
    size, found and measured together in one step in the page: the viewer redraws some elements (a page's search
    marks when its text arrives) and may shift the layout meanwhile (a scroll bar appearing), so elements found
    and measured one by one may be replaced, or measured in two different layouts."""
    return page.wait_for_function(
        "(selectors) => { const boxes = [];"
        " for (const selector of selectors) { const e = document.querySelector(selector); if (!e) return null;"
        " const r = e.getBoundingClientRect(); if (!(r.width > 0 && r.height > 0)) return null;"
        " boxes.push({x: r.x, y: r.y, width: r.width, height: r.height}); }"
        " return boxes; }", arg=list(selectors), timeout=timeout).json_value()


def screenshot(page, name: str, **kwargs) -> bytes:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), **kwargs)


def ink(png: bytes, threshold: int = 128) -> float:
    """Fraction of dark pixels in a screenshot: 0 for a blank page."""
    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:threshold]) / (image.width * image.height)


def dom_pages(page) -> list[int]:
    return page.eval_on_selector_all(".page", "els => els.map(e => Number(e.dataset.page))")


def open_comparison(page, base: str) -> str:
    """A comparison session of the word_inserted pair (one inserted paragraph), started and opened in the viewer."""
    from comparegen import word_inserted

    def docx(document) -> bytes:
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    sid = requests.post(base + "/PCCIS/V1/ViewingSession", json={}).json()["viewingSessionId"]
    for role, revised in (("original", False), ("revised", True)):
        r = requests.put(f"{base}/v2/viewingSessions/{sid}/sourceFile/{role}", data=docx(word_inserted(revised)))
        assert r.status_code == 200, r.text
    requests.post(f"{base}/PCCIS/V1/ViewingSession/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"})
    open_viewer(page, base, sid)
    return sid
