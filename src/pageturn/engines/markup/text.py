"""Text jobs on a PDF: finding what rules match (redaction creators) and the text without what marks redact
(plain-text redactors). Both read each page's characters with their boxes through engines.pdf (PDFium).

Regular expressions come from clients and run here, in a worker process with a timeout, so a catastrophic
pattern costs a worker, never the server."""
from __future__ import annotations

import re
import secrets
from typing import Any

from .. import pdf as pdf_engine
from .geometry import overlap

REDACTED = "<Text Redacted>"
MAX_MATCHES = 50_000

# named patterns (our documented extension of `find`)
NAMED_PATTERNS: dict[str, str] = {
    "emailAddress": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phoneNumber": r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){2,4}(?!\w)",
    "iban": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b",
    "paymentCardNumber": r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)",
}


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _accept(name: str | None, text: str) -> bool:
    if name == "paymentCardNumber":
        digits = re.sub(r"\D", "", text)
        return 13 <= len(digits) <= 19 and _luhn(digits)
    if name == "iban":
        return _iban_ok(text)
    if name == "phoneNumber":
        return 7 <= len(re.sub(r"\D", "", text)) <= 15
    return True


def _page_texts(path: str, password: str | None) -> list[dict[str, Any]]:
    info = pdf_engine.info(path, password)
    return [pdf_engine.text(path, page, password) for page in range(info["pageCount"])]


def _line_rects(rects: list[list[float]], start: int, end: int) -> list[tuple[float, float, float, float]]:
    """The union of the boxes of characters start..end-1, one rectangle per line (a new line starts where a
    box no longer overlaps the previous one vertically)."""
    lines: list[list[float]] = []
    for x, y, w, h in rects[start:end]:
        if w <= 0 and h <= 0:
            continue
        if lines:
            last = lines[-1]
            if y < last[3] and y + h > last[1] and x >= last[0] - 1:
                last[0], last[1] = min(last[0], x), min(last[1], y)
                last[2], last[3] = max(last[2], x + w), max(last[3], y + h)
                continue
        lines.append([x, y, x + w, y + h])
    return [(a, b, c - a, d - b) for a, b, c, d in lines if c > a and d > b]


def find_redactions(path: str, kind: str, rules: list[dict[str, Any]], *, password: str | None = None
                    ) -> list[dict[str, Any]]:
    """One RectangleRedaction mark per match (per line of a match that wraps), in the spec's markup JSON.
    `rules`: [{"pattern", "name" (a named pattern or None), "redactWith": {...}}]."""
    if kind != "pdf":
        return []
    compiled = [(re.compile(rule["pattern"], re.MULTILINE), rule) for rule in rules]
    marks: list[dict[str, Any]] = []
    for page in _page_texts(path, password):
        text, rects = page["text"], page["rectangles"]
        for pattern, rule in compiled:
            for match in pattern.finditer(text):
                if match.end() == match.start() or not _accept(rule.get("name"), match.group(0)):
                    continue
                for x, y, w, h in _line_rects(rects, match.start(), match.end()):
                    if len(marks) >= MAX_MATCHES:
                        return marks
                    redact_with = rule.get("redactWith") or {}
                    mark: dict[str, Any] = {
                        "uid": secrets.token_hex(12), "type": "RectangleRedaction", "pageNumber": page["number"] + 1,
                        "interactionMode": "Full",
                        "rectangle": {"x": round(x, 3), "y": round(y, 3), "width": round(w, 3), "height": round(h, 3)},
                        "pageData": {"width": page["width"], "height": page["height"]},
                        "fontColor": redact_with.get("fontColor", "#FFFFFF"),
                        "fillColor": redact_with.get("fillColor", "#000000"),
                        "borderColor": redact_with.get("borderColor", "#000000"),
                        "borderThickness": redact_with.get("borderThickness", 1),
                        "data": dict(redact_with.get("data") or {}),
                    }
                    if "reason" in redact_with:
                        mark["reason"] = redact_with["reason"]
                    marks.append(mark)
    return marks


def redacted_text(path: str, kind: str, marks: list[dict[str, Any]], *, line_ending: str = "\n",
                  password: str | None = None) -> str:
    """The document's text, pages in order, each run of characters under a RectangleRedaction or
    TextSelectionRedaction replaced by "<Text Redacted>"."""
    if kind != "pdf":
        return ""
    boxes: dict[int, list[tuple[float, float, float, float, float, float]]] = {}
    for mark in marks:
        if mark.get("type") == "RectangleRedaction":
            r = mark["rectangle"]
            boxes.setdefault(mark["pageNumber"] - 1, []).append(
                (r["x"], r["y"], r["width"], r["height"], mark["pageData"]["width"], mark["pageData"]["height"]))
        elif mark.get("type") == "TextSelectionRedaction":
            for group in mark.get("lineGroups") or []:
                for r in group.get("lines") or []:
                    boxes.setdefault(group["pageNumber"] - 1, []).append(
                        (r["x"], r["y"], r["width"], r["height"], group["pageData"]["width"],
                         group["pageData"]["height"]))
    pages: list[str] = []
    for page in _page_texts(path, password):
        text, rects = page["text"], page["rectangles"]
        areas = []
        for x, y, w, h, pw, ph in boxes.get(page["number"], []):
            sx, sy = page["width"] / pw, page["height"] / ph
            areas.append((x * sx, y * sy, (x + w) * sx, (y + h) * sy))
        out: list[str] = []
        in_run = False
        for char, (x, y, w, h) in zip(text, rects):
            hit = False
            if char != "\n" and areas:
                for area in areas:
                    ow, oh = overlap((x, y, x + w, y + h), area)
                    if ow > 0.5 * max(w, 1e-6) and oh > 0.5 * max(h, 1e-6):
                        hit = True
                        break
            if hit:
                if not in_run:
                    out.append(REDACTED)
                in_run = True
            elif in_run and char == " " and areas:
                out.append(char)  # a space between two redacted words stays inside one run below
            else:
                in_run = False
                out.append(char)
        joined = "".join(out)
        # "<Text Redacted> <Text Redacted>" (two covered words) is one redacted fragment
        while f"{REDACTED} {REDACTED}" in joined:
            joined = joined.replace(f"{REDACTED} {REDACTED}", REDACTED)
        pages.append(joined.rstrip("\n"))
    return line_ending.join(page.replace("\n", line_ending) for page in pages)
