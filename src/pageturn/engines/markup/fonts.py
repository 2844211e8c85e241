"""Glyph widths of the fonts a content stream uses, so each glyph's box on the page is known.

Simple fonts (Type1, TrueType, MMType1) read /Widths; the standard 14 fonts without /Widths use their Adobe
metrics (as reportlab ships them) through the font's encoding and /Differences. Composite fonts are read with
Identity-H codes (two bytes each) and the descendant's /W and /DW. Anything else (Type3, other CMaps, a font
without metrics) is `None`: the caller cannot place its glyphs and cleans the page by rasterising it instead."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pikepdf
from reportlab.pdfbase import _fontdata

_ALIASES = {
    "Arial": "Helvetica", "Arial,Bold": "Helvetica-Bold", "Arial-BoldMT": "Helvetica-Bold", "ArialMT": "Helvetica",
    "Arial,Italic": "Helvetica-Oblique", "Arial-ItalicMT": "Helvetica-Oblique", "Arial,BoldItalic":
    "Helvetica-BoldOblique", "Arial-BoldItalicMT": "Helvetica-BoldOblique", "TimesNewRoman": "Times-Roman",
    "TimesNewRomanPSMT": "Times-Roman", "TimesNewRoman,Bold": "Times-Bold", "TimesNewRomanPS-BoldMT": "Times-Bold",
    "TimesNewRoman,Italic": "Times-Italic", "TimesNewRomanPS-ItalicMT": "Times-Italic", "CourierNew": "Courier",
    "CourierNewPSMT": "Courier", "CourierNew,Bold": "Courier-Bold", "CourierNewPS-BoldMT": "Courier-Bold",
    "Symbol": "Symbol", "ZapfDingbats": "ZapfDingbats",
}
_STANDARD = {name.lower(): name for name in _fontdata.widthsByFontGlyph}


@dataclass
class FontMetrics:
    two_byte: bool
    widths: dict[int, float] = field(default_factory=dict)   # code -> width in 1/1000 em
    default: float = 0.0
    ascent: float = 800.0
    descent: float = -200.0

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default)

    def codes(self, data: bytes) -> list[tuple[int, bytes]]:
        if self.two_byte:
            if len(data) % 2:
                data = data + b"\0"
            return [((data[i] << 8) | data[i + 1], data[i:i + 2]) for i in range(0, len(data), 2)]
        return [(b, bytes((b,))) for b in data]


def _num(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _standard_name(base: str) -> str | None:
    name = base.split("+", 1)[1] if len(base) > 7 and base[6] == "+" else base
    name = _ALIASES.get(name, name)
    return _STANDARD.get(name.lower())


def _encoding_vector(font: pikepdf.Dictionary, standard: str) -> list[str | None]:
    if standard == "Symbol":
        base = "SymbolEncoding"
    elif standard == "ZapfDingbats":
        base = "ZapfDingbatsEncoding"
    else:
        base = "StandardEncoding"
    encoding = font.get("/Encoding")
    differences = None
    if isinstance(encoding, pikepdf.Name):
        base = str(encoding)[1:]
    elif isinstance(encoding, pikepdf.Dictionary):
        if "/BaseEncoding" in encoding:
            base = str(encoding.BaseEncoding)[1:]
        differences = encoding.get("/Differences")
    vector: list[str | None] = list(_fontdata.encodings.get(base, _fontdata.encodings["StandardEncoding"]))
    vector = (vector + [None] * 256)[:256]
    if differences is not None:
        code = 0
        for item in differences:
            if isinstance(item, pikepdf.Name):
                if 0 <= code < 256:
                    vector[code] = str(item)[1:]
                code += 1
            else:
                code = int(item)
    return vector


def _descriptor(font: pikepdf.Dictionary, metrics: FontMetrics) -> None:
    descriptor = font.get("/FontDescriptor")
    if isinstance(descriptor, pikepdf.Dictionary):
        metrics.ascent = min(1100.0, max(500.0, _num(descriptor.get("/Ascent"), 800.0)))
        metrics.descent = max(-400.0, min(0.0, _num(descriptor.get("/Descent"), -200.0)))


def _simple(font: pikepdf.Dictionary) -> FontMetrics | None:
    metrics = FontMetrics(two_byte=False)
    _descriptor(font, metrics)
    widths = font.get("/Widths")
    if isinstance(widths, pikepdf.Array) and len(widths):
        first = int(_num(font.get("/FirstChar"), 0))
        metrics.widths = {first + i: _num(w, 0.0) for i, w in enumerate(widths)}
        descriptor = font.get("/FontDescriptor")
        metrics.default = _num(descriptor.get("/MissingWidth"), 0.0) if isinstance(descriptor, pikepdf.Dictionary) \
            else 0.0
        return metrics
    standard = _standard_name(str(font.get("/BaseFont", "")).lstrip("/"))
    if standard is None:
        return None
    glyph_widths = _fontdata.widthsByFontGlyph[standard]
    vector = _encoding_vector(font, standard)
    metrics.widths = {code: float(glyph_widths.get(name, 0)) for code, name in enumerate(vector) if name}
    metrics.default = 0.0
    ascent, descent = _fontdata.ascent_descent.get(standard, (800, -200))
    metrics.ascent, metrics.descent = float(ascent), float(min(0, descent))
    return metrics


def _composite(font: pikepdf.Dictionary) -> FontMetrics | None:
    if str(font.get("/Encoding", "")) != "/Identity-H":
        return None
    descendants = font.get("/DescendantFonts")
    if not isinstance(descendants, pikepdf.Array) or not len(descendants):
        return None
    cid_font = descendants[0]
    metrics = FontMetrics(two_byte=True, default=_num(cid_font.get("/DW"), 1000.0))
    _descriptor(cid_font, metrics)
    spec = cid_font.get("/W")
    if isinstance(spec, pikepdf.Array):
        items = list(spec)
        i = 0
        while i < len(items) - 1:
            first = int(_num(items[i], 0))
            nxt = items[i + 1]
            if isinstance(nxt, pikepdf.Array):
                for k, w in enumerate(nxt):
                    metrics.widths[first + k] = _num(w, metrics.default)
                i += 2
            elif i + 2 < len(items):
                last, width = int(_num(nxt, first)), _num(items[i + 2], metrics.default)
                for cid in range(first, min(last, first + 65536) + 1):
                    metrics.widths[cid] = width
                i += 3
            else:
                break
    return metrics


def metrics_of(font: Any) -> FontMetrics | None:
    """The metrics of a font dictionary, or None when its glyphs cannot be placed from its data alone."""
    if not isinstance(font, pikepdf.Dictionary):
        return None
    subtype = str(font.get("/Subtype", ""))
    if subtype in ("/Type1", "/TrueType", "/MMType1"):
        return _simple(font)
    if subtype == "/Type0":
        return _composite(font)
    return None
