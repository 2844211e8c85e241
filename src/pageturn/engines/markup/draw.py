"""Draws marks into a page as PDF content: every mark type of the markup JSON format, in the mark's own page
coordinates (a `cm` maps them to user space, whatever the page's rotation and size).

Text is set in Helvetica (one of the PDF standard fonts, so nothing is embedded) with WinAnsi encoding;
characters outside it are drawn as "?"."""
from __future__ import annotations

import base64
import io
import math
import zlib
from typing import Any

import pikepdf
from PIL import Image
from reportlab.pdfbase.pdfmetrics import stringWidth

from .svgpath import path_commands
from .geometry import Matrix, PageFrame

FONT = "/PTHelv"
FONT_NAME = "Helvetica"
KAPPA = 0.5522847498


def color(value: Any, default: str | None) -> tuple[float, float, float] | None:
    text = value if isinstance(value, str) and len(value) == 7 and value.startswith("#") else default
    if text is None:
        return None
    return int(text[1:3], 16) / 255, int(text[3:5], 16) / 255, int(text[5:7], 16) / 255


def rgb255(value: Any, default: str) -> tuple[int, int, int]:
    c = color(value, default)
    assert c is not None
    return int(round(c[0] * 255)), int(round(c[1] * 255)), int(round(c[2] * 255))


def _pdf_string(text: str) -> str:
    raw = text.encode("cp1252", "replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b"")
    return "(" + escaped.decode("latin-1") + ")"


def _n(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v == v else "0"


class PageCanvas:
    """Content operators for one page's marks, plus the resources they need."""

    def __init__(self, pdf: pikepdf.Pdf, frame: PageFrame):
        self.pdf = pdf
        self.frame = frame
        self.ops: list[str] = []
        self.states: dict[str, pikepdf.Dictionary] = {}
        self.images: dict[str, pikepdf.Stream] = {}
        self.links: list[tuple[tuple[float, float, float, float], str]] = []
        self.uses_font = False

    # ---- state -------------------------------------------------------------------------------------------
    def _alpha(self, opacity: Any, multiply: bool = False) -> str:
        alpha = 1.0 if not isinstance(opacity, (int, float)) else max(0.0, min(1.0, float(opacity) / 255))
        if alpha >= 1.0 and not multiply:
            return ""
        key = f"/PTgs{int(alpha * 255)}{'m' if multiply else ''}"
        if key not in self.states:
            state = pikepdf.Dictionary(Type=pikepdf.Name.ExtGState, ca=alpha, CA=alpha)
            if multiply:
                state.BM = pikepdf.Name.Multiply
            self.states[key] = state
        return f"{key} gs "

    def begin(self, matrix: Matrix) -> None:
        self.ops.append("q " + " ".join(_n(v) for v in matrix) + " cm")

    def end(self) -> None:
        self.ops.append("Q")

    # ---- shapes ------------------------------------------------------------------------------------------
    def rect(self, x: float, y: float, w: float, h: float, *, fill=None, stroke=None, width: float = 1.0,
             opacity: Any = None, multiply: bool = False) -> None:
        if fill is None and (stroke is None or width <= 0):
            return
        op = "B" if fill is not None and stroke is not None and width > 0 else ("f" if fill is not None else "S")
        self.ops.append("q " + self._alpha(opacity, multiply) + self._colors(fill, stroke, width)
                        + f"{_n(x)} {_n(y)} {_n(w)} {_n(h)} re {op} Q")

    def ellipse(self, x: float, y: float, w: float, h: float, *, fill=None, stroke=None, width: float = 1.0,
                opacity: Any = None) -> None:
        if fill is None and (stroke is None or width <= 0):
            return
        cx, cy, rx, ry = x + w / 2, y + h / 2, w / 2, h / 2
        kx, ky = rx * KAPPA, ry * KAPPA
        path = (f"{_n(cx + rx)} {_n(cy)} m "
                f"{_n(cx + rx)} {_n(cy + ky)} {_n(cx + kx)} {_n(cy + ry)} {_n(cx)} {_n(cy + ry)} c "
                f"{_n(cx - kx)} {_n(cy + ry)} {_n(cx - rx)} {_n(cy + ky)} {_n(cx - rx)} {_n(cy)} c "
                f"{_n(cx - rx)} {_n(cy - ky)} {_n(cx - kx)} {_n(cy - ry)} {_n(cx)} {_n(cy - ry)} c "
                f"{_n(cx + kx)} {_n(cy - ry)} {_n(cx + rx)} {_n(cy - ky)} {_n(cx + rx)} {_n(cy)} c h ")
        op = "B" if fill is not None and stroke is not None and width > 0 else ("f" if fill is not None else "S")
        self.ops.append("q " + self._alpha(opacity) + self._colors(fill, stroke, width) + path + op + " Q")

    def polyline(self, points: list[tuple[float, float]], *, stroke, width: float, opacity: Any = None,
                 closed: bool = False) -> None:
        if len(points) < 2 or stroke is None:
            return
        path = f"{_n(points[0][0])} {_n(points[0][1])} m " + " ".join(f"{_n(x)} {_n(y)} l" for x, y in points[1:])
        self.ops.append("q 1 J 1 j " + self._alpha(opacity) + self._colors(None, stroke, width) + path
                        + (" s" if closed else " S") + " Q")

    def svg_path(self, path: str, *, stroke, width: float, opacity: Any = None) -> None:
        if stroke is None:
            return
        ops: list[str] = []
        for command, numbers in path_commands(path):  # raises ValueError for anything but a simple path
            if command in "Mm":
                ops.extend(f"{_n(numbers[i])} {_n(numbers[i + 1])} {'m' if i == 0 else 'l'}"
                           for i in range(0, len(numbers), 2))
            elif command in "Ll":
                ops.extend(f"{_n(numbers[i])} {_n(numbers[i + 1])} l" for i in range(0, len(numbers), 2))
            elif command in "Cc":
                ops.extend(" ".join(_n(v) for v in numbers[i:i + 6]) + " c" for i in range(0, len(numbers), 6))
            else:
                ops.append("h")
        self.ops.append("q 1 J 1 j " + self._alpha(opacity) + self._colors(None, stroke, width) + " ".join(ops)
                        + " S Q")

    def arrow_head(self, start: tuple[float, float], end: tuple[float, float], *, color_, width: float,
                   filled: bool, opacity: Any = None) -> None:
        angle = math.atan2(end[1] - start[1], end[0] - start[0])
        size = max(8.0, width * 4)
        left = (end[0] - size * math.cos(angle - 0.45), end[1] - size * math.sin(angle - 0.45))
        right = (end[0] - size * math.cos(angle + 0.45), end[1] - size * math.sin(angle + 0.45))
        path = f"{_n(left[0])} {_n(left[1])} m {_n(end[0])} {_n(end[1])} l {_n(right[0])} {_n(right[1])} l"
        paint = "h b" if filled else "S"
        self.ops.append("q 1 J 1 j " + self._alpha(opacity) + self._colors(color_ if filled else None, color_, width)
                        + path + " " + paint + " Q")

    def image(self, data_url: str, x: float, y: float, w: float, h: float) -> None:
        try:
            raw = base64.b64decode(data_url.split(",", 1)[1], validate=False)
            picture = Image.open(io.BytesIO(raw))
            if picture.width * picture.height > 25_000_000:
                return
            picture = picture.convert("RGBA")
        except Exception:  # a stamp whose image cannot be read draws nothing
            return
        rgb = picture.convert("RGB")
        stream = self.pdf.make_stream(zlib.compress(rgb.tobytes(), 6))
        stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        stream.Width, stream.Height = picture.width, picture.height
        stream.ColorSpace, stream.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
        stream.Filter = pikepdf.Name.FlateDecode
        alpha = picture.getchannel("A")
        if alpha.getextrema() != (255, 255):
            mask = self.pdf.make_stream(zlib.compress(alpha.tobytes(), 6))
            mask.Type, mask.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
            mask.Width, mask.Height = picture.width, picture.height
            mask.ColorSpace, mask.BitsPerComponent = pikepdf.Name.DeviceGray, 8
            mask.Filter = pikepdf.Name.FlateDecode
            stream.SMask = mask
        name = f"/PTImg{len(self.images) + 1}"
        self.images[name] = stream
        # the image's unit square, flipped: page coordinates run downwards
        self.ops.append(f"q {_n(w)} 0 0 {_n(-h)} {_n(x)} {_n(y + h)} cm {name} Do Q")

    # ---- text --------------------------------------------------------------------------------------------
    def text_box(self, text: str, x: float, y: float, w: float, h: float, *, fill, size: float | None = None,
                 align: str = "Left", valign: str = "top", padding: float = 2.0) -> None:
        if not text or fill is None or w <= 0 or h <= 0:
            return
        self.uses_font = True
        if size is None:  # fit one line's height and the longest line's width
            lines_in = text.split("\n")
            size = min(h * 0.7 / max(1, len(lines_in)),
                       max(4.0, (w - 2 * padding) / max(1e-6, max(stringWidth(t, FONT_NAME, 1) for t in lines_in))))
            size = max(4.0, min(size, 72.0))
        lines = self._wrap(text, size, w - 2 * padding)
        leading = size * 1.15
        block = leading * len(lines)
        top = y + padding if valign == "top" else y + (h - block) / 2
        ops = ["q", self._colors(fill, None, 0), f"{_n(x)} {_n(y)} {_n(w)} {_n(h)} re W n", "BT"]
        for i, line in enumerate(lines):
            baseline = top + leading * i + size * 0.8
            if baseline > y + h + size:
                break
            line_width = stringWidth(line, FONT_NAME, size)
            if align.lower() == "center":
                left = x + (w - line_width) / 2
            elif align.lower() == "right":
                left = x + w - padding - line_width
            else:
                left = x + padding
            # y runs downwards here: the text matrix flips the glyphs upright
            ops.append(f"{FONT} {_n(size)} Tf 1 0 0 -1 {_n(left)} {_n(baseline)} Tm {_pdf_string(line)} Tj")
        ops += ["ET", "Q"]
        self.ops.append(" ".join(ops))

    @staticmethod
    def _wrap(text: str, size: float, width: float) -> list[str]:
        lines: list[str] = []
        for paragraph in text.replace("\r", "").split("\n"):
            current = ""
            for word in paragraph.split(" "):
                candidate = f"{current} {word}" if current else word
                if current and stringWidth(candidate, FONT_NAME, size) > width:
                    lines.append(current)
                    current = word
                else:
                    current = candidate
            lines.append(current)
        return lines[:500]

    @staticmethod
    def _colors(fill, stroke, width: float) -> str:
        out = ""
        if fill is not None:
            out += f"{_n(fill[0])} {_n(fill[1])} {_n(fill[2])} rg "
        if stroke is not None:
            out += f"{_n(stroke[0])} {_n(stroke[1])} {_n(stroke[2])} RG {_n(max(width, 0))} w "
        return out

    # ---- into the page -----------------------------------------------------------------------------------
    def apply(self, page: pikepdf.Page) -> None:
        if not self.ops:
            return
        resources = page.obj.get("/Resources")
        resources = pikepdf.Dictionary(resources) if isinstance(resources, pikepdf.Dictionary) else pikepdf.Dictionary()
        if self.states:
            states = pikepdf.Dictionary(resources.get("/ExtGState", {}))
            for key, value in self.states.items():
                states[key] = value
            resources.ExtGState = states
        if self.images:
            xobjects = pikepdf.Dictionary(resources.get("/XObject", {}))
            for key, value in self.images.items():
                xobjects[key] = value
            resources.XObject = xobjects
        if self.uses_font:
            fonts = pikepdf.Dictionary(resources.get("/Font", {}))
            fonts[FONT] = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                             BaseFont=pikepdf.Name("/" + FONT_NAME),
                                             Encoding=pikepdf.Name.WinAnsiEncoding)
            resources.Font = fonts
        page.obj.Resources = resources
        # the page's own content runs inside q/Q, so its state cannot leak into the marks
        page.contents_add(self.pdf.make_stream(b"q\n"), prepend=True)
        page.contents_add(self.pdf.make_stream(("\nQ\n" + "\n".join(self.ops) + "\n").encode("latin-1")))
        if self.links:
            annots = page.obj.get("/Annots")
            annots = pikepdf.Array(annots) if isinstance(annots, pikepdf.Array) else pikepdf.Array()
            for rect, href in self.links:
                annots.append(self.pdf.make_indirect(pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=list(rect), Border=[0, 0, 0],
                    A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(href)))))
            page.obj.Annots = annots
