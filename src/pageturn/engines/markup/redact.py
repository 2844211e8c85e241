"""True redaction of one PDF page, object by object: what lies under a redaction box leaves the file.

The page's content stream is interpreted (graphics state, text state, path construction) and rewritten:

- text: every glyph whose box is mostly under a box is taken out of its string; the glyphs after it keep their
  places (the removed glyph's advance becomes a TJ adjustment), so text outside the boxes stays as it was and
  stays selectable;
- images: the pixels under a box are painted with the box's colour in a new copy of the image (the original
  image object is no longer referenced by the page, so it is not written);
- vector paths: a subpath inside a box is dropped; a subpath crossing a box's edge is kept, clipped out of the
  box (what it carries inside the box is only its continuation);
- form XObjects are cleaned the same way, recursively, as private copies;
- content of optional-content groups that are hidden by default is dropped (it is invisible, yet extractable);
  `/ActualText` and `/Alt` of marked content on the page are dropped.

When a page holds something that cannot be cleaned this way (a font without metrics, a Type3 font, an inline
image, an image stencil or an image that cannot be decoded under a box), NeedsRaster is raised and the caller
rasterises the page instead (see raster.py)."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import pikepdf
from PIL import ImageDraw

from .fonts import FontMetrics, metrics_of
from .geometry import (IDENTITY, Matrix, Rect, apply, bbox, contains, intersects, invert, multiply, overlap,
                       transform_rect)

MAX_FORM_DEPTH = 12
GLYPH_COVERED = 0.3     # a glyph goes when this share of its width and of its height is under a box


class NeedsRaster(Exception):
    """This page cannot be cleaned object by object."""


@dataclass(frozen=True)
class Box:
    rect: Rect                      # user space of the page
    color: tuple[int, int, int]     # what covered image pixels become


@dataclass
class TextState:
    font: Any = None
    metrics: FontMetrics | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0


@dataclass
class Stats:
    glyphs_removed: int = 0
    images_changed: int = 0
    paths_removed: int = 0
    paths_clipped: int = 0
    hidden_removed: int = 0


@dataclass
class _Context:
    pdf: pikepdf.Pdf
    boxes: list[Box]
    hidden: set[tuple[int, int]]               # object ids of optional-content groups hidden by default
    stats: Stats = field(default_factory=Stats)
    counter: list[int] = field(default_factory=lambda: [0])

    def name(self, prefix: str) -> pikepdf.Name:
        self.counter[0] += 1
        return pikepdf.Name(f"/{prefix}{self.counter[0]}")


def _f(value: Any) -> float:
    return float(value)


def _objgen(obj: Any) -> tuple[int, int] | None:
    try:
        return obj.objgen if obj.is_indirect else None
    except AttributeError:
        return None


def hidden_groups(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """Optional-content groups the document hides by default (/OCProperties /D /OFF)."""
    try:
        off = pdf.Root.OCProperties.D.get("/OFF", [])
    except (AttributeError, KeyError):
        return set()
    return {g for g in (_objgen(item) for item in off) if g is not None}


def _is_hidden(ctx: _Context, resources: pikepdf.Dictionary, operands: list[Any]) -> bool:
    """A `/OC /name BDC` whose group (or membership dict) is hidden by default."""
    if len(operands) != 2 or str(operands[0]) != "/OC" or not ctx.hidden:
        return False
    props = operands[1]
    if isinstance(props, pikepdf.Name):
        props = resources.get("/Properties", {}).get(str(props)) if "/Properties" in resources else None
    return _oc_hidden(ctx, props)


def _oc_hidden(ctx: _Context, group: Any) -> bool:
    if group is None:
        return False
    if _objgen(group) in ctx.hidden:
        return True
    if isinstance(group, pikepdf.Dictionary) and str(group.get("/Type", "")) == "/OCMD":
        members = group.get("/OCGs")
        members = [members] if isinstance(members, pikepdf.Dictionary) else list(members or [])
        # default policy AnyOn: hidden only when every member is hidden
        return bool(members) and all(_objgen(m) in ctx.hidden for m in members)
    return False


def _complement_clip(boxes: list[Box], ctm: Matrix) -> list[tuple[list[Any], pikepdf.Operator]] | None:
    """Instructions clipping everything but the boxes, in the coordinates that `ctm` maps to the page."""
    inverse = invert(ctm)
    if inverse is None:
        return None
    ops: list[tuple[list[Any], pikepdf.Operator]] = []
    big = 1e5
    outer = [(-big, -big), (big, -big), (big, big), (-big, big)]
    hole_sets = [[(b.rect[0], b.rect[1]), (b.rect[0], b.rect[3]), (b.rect[2], b.rect[3]), (b.rect[2], b.rect[1])]
                 for b in boxes]
    # the outer square one way round, each hole the other way: nonzero winding leaves the holes out
    for points in [outer, *hole_sets]:
        local = [apply(inverse, x, y) for x, y in points]
        ops.append(([local[0][0], local[0][1]], pikepdf.Operator("m")))
        for x, y in local[1:]:
            ops.append(([x, y], pikepdf.Operator("l")))
        ops.append(([], pikepdf.Operator("h")))
    ops.append(([], pikepdf.Operator("W")))
    ops.append(([], pikepdf.Operator("n")))
    return ops


PATH_OPS = {"m", "l", "c", "v", "y", "h", "re"}
PAINT_OPS = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"}


class _PageCleaner:
    def __init__(self, ctx: _Context, resources: pikepdf.Dictionary, depth: int = 0):
        self.ctx = ctx
        self.resources = resources
        self.depth = depth
        self.changed = False

    # ---- the stream ----------------------------------------------------------------------------------------
    def clean(self, instructions: list[Any], ctm: Matrix) -> list[Any]:
        ctx = self.ctx
        out: list[Any] = []
        stack: list[tuple[Matrix, TextState]] = []
        state = TextState()
        tm = tlm = IDENTITY
        path_ops: list[tuple[list[Any], pikepdf.Operator]] = []
        subpaths: list[list[tuple[float, float]]] = []
        clipping = False
        skip_depth = 0              # > 0 inside hidden optional content
        marked_depth = 0
        for item in instructions:
            if isinstance(item, pikepdf.ContentStreamInlineImage):
                if skip_depth:
                    continue
                placed = transform_rect(ctm, (0.0, 0.0, 1.0, 1.0))
                if any(intersects(placed, b.rect) for b in ctx.boxes):
                    if all(contains(b.rect, placed) for b in ctx.boxes if intersects(placed, b.rect)):
                        self.changed = True
                        ctx.stats.images_changed += 1
                        continue
                    raise NeedsRaster("an inline image under a redaction")
                out.append(item)
                continue
            operands, op = list(item.operands), str(item.operator)
            if op in ("BDC", "BMC"):
                marked_depth += 1
                if skip_depth:
                    skip_depth += 1
                    continue
                if op == "BDC" and _is_hidden(ctx, self.resources, operands):
                    skip_depth = 1
                    ctx.stats.hidden_removed += 1
                    self.changed = True
                    continue
                if op == "BDC" and isinstance(operands[-1], pikepdf.Dictionary) and (
                        "/ActualText" in operands[-1] or "/Alt" in operands[-1]):
                    props = pikepdf.Dictionary({k: v for k, v in operands[-1].items()
                                                if k not in ("/ActualText", "/Alt")})
                    operands = [operands[0], props]
                    self.changed = True
                out.append((operands, item.operator))
                continue
            if op == "EMC":
                marked_depth = max(0, marked_depth - 1)
                if skip_depth:
                    skip_depth -= 1
                    continue
                out.append((operands, item.operator))
                continue
            if skip_depth:
                # hidden content is dropped, but the graphics state it leaves behind must still balance
                if op in ("q", "Q"):
                    out.append((operands, item.operator))
                continue

            if op == "q":
                stack.append((ctm, replace(state)))
            elif op == "Q":
                if stack:
                    ctm, state = stack.pop()
            elif op == "cm" and len(operands) == 6:
                ctm = multiply(tuple(_f(v) for v in operands), ctm)
            elif op == "BT":
                tm = tlm = IDENTITY
            elif op == "Tf" and len(operands) == 2:
                fonts = self.resources.get("/Font", {}) if "/Font" in self.resources else {}
                state.font = fonts.get(str(operands[0])) if fonts else None
                state.metrics = metrics_of(state.font)
                state.size = _f(operands[1])
            elif op == "Tc":
                state.char_spacing = _f(operands[0])
            elif op == "Tw":
                state.word_spacing = _f(operands[0])
            elif op == "Tz":
                state.scale = _f(operands[0]) / 100.0
            elif op == "TL":
                state.leading = _f(operands[0])
            elif op == "Ts":
                state.rise = _f(operands[0])
            elif op in ("Td", "TD"):
                tx, ty = _f(operands[0]), _f(operands[1])
                if op == "TD":
                    state.leading = -ty
                tlm = multiply((1, 0, 0, 1, tx, ty), tlm)
                tm = tlm
            elif op == "Tm" and len(operands) == 6:
                tlm = tm = tuple(_f(v) for v in operands)
            elif op == "T*":
                tlm = multiply((1, 0, 0, 1, 0, -state.leading), tlm)
                tm = tlm
            elif op in ("Tj", "TJ", "'", '"'):
                prefix: list[tuple[list[Any], pikepdf.Operator]] = []
                if op in ("'", '"'):
                    if op == '"':
                        state.word_spacing, state.char_spacing = _f(operands[0]), _f(operands[1])
                        prefix += [([operands[0]], pikepdf.Operator("Tw")), ([operands[1]], pikepdf.Operator("Tc"))]
                    tlm = multiply((1, 0, 0, 1, 0, -state.leading), tlm)
                    tm = tlm
                    prefix.append(([], pikepdf.Operator("T*")))
                    parts = [operands[-1]]
                elif op == "Tj":
                    parts = [operands[0]]
                else:
                    parts = list(operands[0]) if operands and isinstance(operands[0], pikepdf.Array) else []
                tm, new_parts, removed = self._show(parts, state, tm, ctm)
                if removed:
                    self.changed = True
                    out.extend(prefix)
                    out.append(([pikepdf.Array(new_parts)], pikepdf.Operator("TJ")))
                    continue
            elif op in PATH_OPS:
                self._path(op, operands, ctm, subpaths)
                path_ops.append((operands, item.operator))
                continue
            elif op in ("W", "W*"):
                clipping = True
                path_ops.append((operands, item.operator))
                continue
            elif op in PAINT_OPS:
                out.extend(self._paint(path_ops, subpaths, (operands, item.operator), clipping, ctm))
                path_ops, subpaths, clipping = [], [], False
                continue
            elif op == "Do" and operands:
                replacement = self._xobject(str(operands[0]), ctm)
                if replacement is False:
                    self.changed = True
                    continue
                if replacement is not None:
                    self.changed = True
                    out.append(([replacement], item.operator))
                    continue
            elif op == "sh" and ctx.boxes:
                clip = _complement_clip(ctx.boxes, ctm)
                if clip is None:
                    raise NeedsRaster("a shading under a degenerate matrix")
                out.append(([], pikepdf.Operator("q")))
                out.extend(clip)
                out.append((operands, item.operator))
                out.append(([], pikepdf.Operator("Q")))
                self.changed = True
                continue
            out.append((operands, item.operator))
        return out

    # ---- text ------------------------------------------------------------------------------------------------
    def _show(self, parts: list[Any], state: TextState, tm: Matrix, ctm: Matrix) -> tuple[Matrix, list[Any], int]:
        """Walks the glyphs of one text-showing operator; returns the new text matrix, the TJ array without
        the covered glyphs, and how many were removed."""
        boxes = self.ctx.boxes
        metrics = state.metrics
        size, scale = state.size, state.scale
        if metrics is None:
            if not boxes:
                return tm, parts, 0
            raise NeedsRaster("text in a font whose glyph widths are unknown")
        if abs(size * scale) < 1e-9:
            return tm, parts, 0  # zero-size text draws nothing and advances nowhere
        base = multiply((size * scale, 0, 0, size, 0, state.rise), IDENTITY)
        # first the advances alone: a run that no box touches keeps its bytes and costs no glyph geometry
        total = 0.0
        for part in parts:
            if isinstance(part, pikepdf.String):
                for code, _ in metrics.codes(bytes(part)):
                    spacing = state.char_spacing + (state.word_spacing if not metrics.two_byte and code == 32 else 0.0)
                    total += (metrics.width(code) / 1000.0 * size + spacing) * scale
            else:
                try:
                    total -= _f(part) / 1000.0 * size * scale
                except (TypeError, ValueError):
                    pass
        start = multiply(base, multiply(tm, ctm))
        reach = transform_rect(start, (min(0.0, total / (size * scale)) - 1.0, metrics.descent / 1000.0,
                                       max(0.0, total / (size * scale)) + 1.0, metrics.ascent / 1000.0))
        if not boxes or not any(intersects(reach, b.rect) for b in boxes):
            return multiply((1, 0, 0, 1, total, 0), tm), parts, 0
        new_parts: list[Any] = []
        removed = 0
        for part in parts:
            if not isinstance(part, pikepdf.String):
                try:
                    adjust = _f(part)
                except (TypeError, ValueError):
                    continue
                tm = multiply((1, 0, 0, 1, -adjust / 1000.0 * size * scale, 0), tm)
                new_parts.append(part)
                continue
            kept = bytearray()
            for code, raw in metrics.codes(bytes(part)):
                w0 = metrics.width(code) / 1000.0
                spacing = state.char_spacing + (state.word_spacing if not metrics.two_byte and code == 32 else 0.0)
                advance = (w0 * size + spacing) * scale
                covered = False
                if boxes:
                    trm = multiply(multiply(base, tm), ctm)
                    glyph = transform_rect(trm, (0.0, metrics.descent / 1000.0, max(w0, 0.05),
                                                 metrics.ascent / 1000.0))
                    gw, gh = glyph[2] - glyph[0], glyph[3] - glyph[1]
                    for box in boxes:
                        ow, oh = overlap(glyph, box.rect)
                        if ow > GLYPH_COVERED * gw and oh > GLYPH_COVERED * gh and ow > 0 and oh > 0:
                            covered = True
                            break
                if covered:
                    if kept:
                        new_parts.append(pikepdf.String(bytes(kept)))
                        kept = bytearray()
                    # the glyph's advance, in the TJ unit (thousandths of the font size, scaled)
                    new_parts.append(-advance / (size * scale) * 1000.0)
                    removed += 1
                else:
                    kept += raw
                tm = multiply((1, 0, 0, 1, advance, 0), tm)
            if kept:
                new_parts.append(pikepdf.String(bytes(kept)))
        self.ctx.stats.glyphs_removed += removed
        return tm, new_parts, removed

    # ---- paths -----------------------------------------------------------------------------------------------
    @staticmethod
    def _path(op: str, operands: list[Any], ctm: Matrix, subpaths: list[list[tuple[float, float]]]) -> None:
        nums = [_f(v) for v in operands]
        if op == "re" and len(nums) == 4:
            x, y, w, h = nums
            subpaths.append([apply(ctm, x, y), apply(ctm, x + w, y), apply(ctm, x + w, y + h), apply(ctm, x, y + h)])
            subpaths.append([])  # re closes its own subpath
            return
        if op == "m" and len(nums) == 2:
            subpaths.append([apply(ctm, *nums)])
            return
        if op == "h":
            return
        if not subpaths:
            subpaths.append([])
        points = [apply(ctm, nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2)]
        subpaths[-1].extend(points)

    def _paint(self, path_ops: list[tuple[list[Any], Any]], subpaths: list[list[tuple[float, float]]],
               paint: tuple[list[Any], Any], clipping: bool, ctm: Matrix) -> list[Any]:
        boxes = self.ctx.boxes
        shapes = [bbox(s) for s in subpaths if s]
        if not boxes or not any(intersects(shape, b.rect) for shape in shapes for b in boxes):
            return [*path_ops, paint]
        if clipping:
            # a clipping path shapes what follows, and must stay as it is; it paints nothing itself unless
            # filled or stroked, and then only its outline, which a box over it covers when drawn
            if str(paint[1]) == "n":
                return [*path_ops, paint]
            raise NeedsRaster("a painted clipping path under a redaction")
        groups = self._split(path_ops, ctm)
        kept_ops: list[Any] = []
        crossing = False
        for ops, shape in groups:
            if shape is None:
                kept_ops.extend(ops)
                continue
            inside = any(contains(b.rect, shape) for b in boxes)
            if inside:
                self.ctx.stats.paths_removed += 1
                self.changed = True
                continue
            if any(intersects(shape, b.rect) for b in boxes):
                crossing = True
            kept_ops.extend(ops)
        if not any(str(op) in ("m", "re") for _, op in kept_ops):
            return []
        if not crossing:
            return [*kept_ops, paint]
        clip = _complement_clip(boxes, ctm)
        if clip is None:
            raise NeedsRaster("a path under a degenerate matrix")
        self.ctx.stats.paths_clipped += 1
        self.changed = True
        return [([], pikepdf.Operator("q")), *clip, *kept_ops, paint, ([], pikepdf.Operator("Q"))]

    @staticmethod
    def _split(path_ops: list[tuple[list[Any], Any]], ctm: Matrix) -> list[tuple[list[Any], Rect | None]]:
        """The path's construction operators grouped by subpath, each with its bounding box in user space
        (control points included: a curve lies within them)."""
        groups: list[tuple[list[Any], list[tuple[float, float]]]] = []
        for operands, op in path_ops:
            name = str(op)
            nums = [_f(v) for v in operands]
            if name in ("m", "re") or not groups:
                groups.append(([], []))
            ops, points = groups[-1]
            ops.append((operands, op))
            if name == "re" and len(nums) == 4:
                x, y, w, h = nums
                points.extend([(x, y), (x + w, y + h)])
                groups.append(([], []))
            else:
                points.extend((nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2))
        return [(ops, bbox(apply(ctm, x, y) for x, y in points) if points else None) for ops, points in groups if ops]

    # ---- XObjects --------------------------------------------------------------------------------------------
    def _xobject(self, name: str, ctm: Matrix) -> pikepdf.Name | bool | None:
        """None: keep the Do as is; False: drop it; a Name: draw this (new) XObject instead."""
        xobjects = self.resources.get("/XObject") if "/XObject" in self.resources else None
        xobject = xobjects.get(name) if xobjects is not None else None
        if not isinstance(xobject, pikepdf.Stream):
            return None
        if "/OC" in xobject and _oc_hidden(self.ctx, xobject.OC):
            self.ctx.stats.hidden_removed += 1
            return False
        subtype = str(xobject.get("/Subtype", ""))
        if subtype == "/Image":
            return self._image(xobject, ctm)
        if subtype == "/Form":
            return self._form(xobject, ctm)
        return None

    def _image(self, image: pikepdf.Stream, ctm: Matrix) -> pikepdf.Name | bool | None:
        placed = transform_rect(ctm, (0.0, 0.0, 1.0, 1.0))
        hits = [b for b in self.ctx.boxes if intersects(placed, b.rect)]
        if not hits:
            return None
        if all(contains(b.rect, placed) for b in hits) or any(contains(b.rect, placed) for b in hits):
            self.ctx.stats.images_changed += 1
            return False  # wholly covered: not drawn at all
        if image.get("/ImageMask") is True:
            raise NeedsRaster("an image stencil under a redaction")
        inverse = invert(ctm)
        if inverse is None:
            raise NeedsRaster("an image under a degenerate matrix")
        try:
            picture = pikepdf.PdfImage(image).as_pil_image()
        except Exception:  # an encoding PIL or pikepdf cannot decode: the page is rasterised instead
            raise NeedsRaster("an image that cannot be decoded") from None
        if picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        else:
            picture = picture.copy()
        width, height = picture.size
        draw = ImageDraw.Draw(picture)
        for box in hits:
            corners = [apply(inverse, x, y) for x, y in ((box.rect[0], box.rect[1]), (box.rect[2], box.rect[1]),
                                                         (box.rect[0], box.rect[3]), (box.rect[2], box.rect[3]))]
            u0, v0, u1, v1 = bbox(corners)
            # image space: u right, v up over the unit square; pixel rows run from the top
            x0, x1 = max(0, int(u0 * width) - 1), min(width, int(u1 * width + 0.999) + 1)
            y0, y1 = max(0, int((1 - v1) * height) - 1), min(height, int((1 - v0) * height + 0.999) + 1)
            if x1 > x0 and y1 > y0:
                fill: Any = box.color if picture.mode == "RGB" else int(sum(box.color) / 3)
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=fill)
        stream = pikepdf.Stream(self.ctx.pdf, zlib.compress(picture.tobytes(), 6))
        stream.Type = pikepdf.Name.XObject
        stream.Subtype = pikepdf.Name.Image
        stream.Width, stream.Height = width, height
        stream.ColorSpace = pikepdf.Name.DeviceRGB if picture.mode == "RGB" else pikepdf.Name.DeviceGray
        stream.BitsPerComponent = 8
        stream.Filter = pikepdf.Name.FlateDecode
        for key in ("/SMask", "/Interpolate", "/Intent"):
            if key in image:
                stream[key] = image[key]
        self.ctx.stats.images_changed += 1
        return self._register(stream, "PTRedactedImage")

    def _form(self, form: pikepdf.Stream, ctm: Matrix) -> pikepdf.Name | None:
        matrix = tuple(_f(v) for v in form.get("/Matrix", [1, 0, 0, 1, 0, 0]))
        full = multiply(matrix, ctm)
        form_box = form.get("/BBox")
        if form_box is not None:
            placed = transform_rect(full, tuple(_f(v) for v in form_box))
            if not any(intersects(placed, b.rect) for b in self.ctx.boxes) and not self.ctx.hidden:
                return None
        if self.depth >= MAX_FORM_DEPTH:
            raise NeedsRaster("forms nested too deeply")
        resources = form.get("/Resources", self.resources)
        own_resources = pikepdf.Dictionary(resources) if isinstance(resources, pikepdf.Dictionary) \
            else pikepdf.Dictionary()
        if "/XObject" in own_resources:
            own_resources.XObject = pikepdf.Dictionary(own_resources.XObject)
        cleaner = _PageCleaner(self.ctx, own_resources, self.depth + 1)
        try:
            instructions = pikepdf.parse_content_stream(form)
        except pikepdf.PdfError:
            raise NeedsRaster("a form whose content cannot be parsed") from None
        cleaned = cleaner.run(instructions, full)
        if not cleaner.changed:
            return None
        copy = pikepdf.Stream(self.ctx.pdf, pikepdf.unparse_content_stream(cleaned))
        for key, value in form.items():
            if key not in ("/Length", "/Filter", "/DecodeParms", "/Resources"):
                copy[key] = value
        copy.Resources = own_resources
        return self._register(copy, "PTRedactedForm")

    def _register(self, xobject: pikepdf.Stream, prefix: str) -> pikepdf.Name:
        if "/XObject" not in self.resources:
            self.resources.XObject = pikepdf.Dictionary()
        name = self.ctx.name(prefix)
        self.resources.XObject[name] = self.ctx.pdf.make_indirect(xobject)
        return name

    def run(self, instructions: list[Any], ctm: Matrix) -> list[Any]:
        return self.clean(instructions, ctm)


def clean_page(pdf: pikepdf.Pdf, page: pikepdf.Page, boxes: list[Box], hidden: set[tuple[int, int]],
               stats: Stats, counter: list[int]) -> bool:
    """Rewrites one page without what lies under `boxes` (user space) and without hidden optional content.
    Returns whether anything changed; raises NeedsRaster when the page must be rasterised instead."""
    ctx = _Context(pdf, boxes, hidden, stats, counter)
    resources = page.obj.get("/Resources")
    own = pikepdf.Dictionary(resources) if isinstance(resources, pikepdf.Dictionary) else pikepdf.Dictionary()
    if "/XObject" in own:
        own.XObject = pikepdf.Dictionary(own.XObject)
    cleaner = _PageCleaner(ctx, own)
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        raise NeedsRaster("the page's content cannot be parsed") from None
    cleaned = cleaner.run(instructions, IDENTITY)
    if not cleaner.changed:
        return False
    page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(cleaned))
    page.obj.Resources = own
    return True
