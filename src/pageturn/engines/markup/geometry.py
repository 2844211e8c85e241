"""Page geometry for marks: the matrix from a mark's page coordinates (its `pageData` size, top-left origin, the
page as displayed after /Rotate) to PDF user space, and small rectangle helpers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pikepdf

Matrix = tuple[float, float, float, float, float, float]
Rect = tuple[float, float, float, float]      # x0, y0, x1, y1 with x0 <= x1, y0 <= y1
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF's row-vector convention: m x n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2, e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def invert(m: Matrix) -> Matrix | None:
    a, b, c, d, e, f = m
    det = a * d - b * c
    if abs(det) < 1e-12:
        return None
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def bbox(points: Iterable[tuple[float, float]]) -> Rect:
    xs, ys = zip(*points)
    return min(xs), min(ys), max(xs), max(ys)


def transform_rect(m: Matrix, rect: Rect) -> Rect:
    x0, y0, x1, y1 = rect
    return bbox([apply(m, x0, y0), apply(m, x1, y0), apply(m, x0, y1), apply(m, x1, y1)])


def overlap(a: Rect, b: Rect) -> tuple[float, float]:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])), max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def intersects(a: Rect, b: Rect, margin: float = 0.0) -> bool:
    return a[0] < b[2] - margin and b[0] < a[2] - margin and a[1] < b[3] - margin and b[1] < a[3] - margin


def contains(outer: Rect, inner: Rect, slack: float = 0.5) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack and inner[2] <= outer[2] + slack
            and inner[3] <= outer[3] + slack)


def _inherited(page: pikepdf.Dictionary, key: str) -> Any:
    node: Any = page
    for _ in range(64):  # a page tree deeper than this is a loop
        if node is None:
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _box(value: Any) -> Rect | None:
    try:
        numbers = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(numbers) != 4:
        return None
    x0, y0, x1, y1 = numbers
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


@dataclass(frozen=True)
class PageFrame:
    """The visible box of a page (crop box within the media box) and its clockwise rotation."""

    left: float
    bottom: float
    right: float
    top: float
    rotation: int

    @classmethod
    def of(cls, page: pikepdf.Dictionary) -> "PageFrame":
        media = _box(_inherited(page, "/MediaBox")) or (0.0, 0.0, 612.0, 792.0)
        crop = _box(_inherited(page, "/CropBox")) or media
        x0, y0 = max(media[0], crop[0]), max(media[1], crop[1])
        x1, y1 = min(media[2], crop[2]), min(media[3], crop[3])
        if x1 <= x0 or y1 <= y0:
            x0, y0, x1, y1 = media
        try:
            rotation = int(_inherited(page, "/Rotate") or 0) % 360
        except (TypeError, ValueError):
            rotation = 0
        if rotation % 90:
            rotation = 0
        return cls(x0, y0, x1, y1, rotation)

    @property
    def displayed_size(self) -> tuple[float, float]:
        width, height = self.right - self.left, self.top - self.bottom
        return (height, width) if self.rotation in (90, 270) else (width, height)

    def displayed_to_user(self, scale_x: float = 1.0, scale_y: float = 1.0) -> Matrix:
        """Displayed coordinates (top-left origin, y down), times (scale_x, scale_y), to user space."""
        sx, sy = scale_x, scale_y
        if self.rotation == 90:
            return (0.0, sx, sy, 0.0, self.left, self.bottom)
        if self.rotation == 180:
            return (-sx, 0.0, 0.0, sy, self.right, self.bottom)
        if self.rotation == 270:
            return (0.0, -sx, -sy, 0.0, self.right, self.top)
        return (sx, 0.0, 0.0, -sy, self.left, self.top)

    def mark_matrix(self, page_data: dict[str, Any] | None) -> Matrix:
        """A mark's coordinates (in its pageData size) to user space."""
        width, height = self.displayed_size
        if not page_data:
            return self.displayed_to_user()
        return self.displayed_to_user(width / float(page_data["width"]), height / float(page_data["height"]))
