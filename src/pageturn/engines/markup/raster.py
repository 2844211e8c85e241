"""The fallback for a page that cannot be cleaned object by object: the page becomes one image (rendered by
PDFium at the document's resolution, boxes painted into its pixels) with an invisible text layer of the text
outside the boxes, so the page still searches and selects."""
from __future__ import annotations

import zlib

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import ImageDraw

from .geometry import PageFrame, Rect, apply, intersects, invert, multiply, overlap
from .redact import Box

_TEXT_FONT = "/PTInvisible"


def _to_unicode_cmap() -> bytes:
    """Code = UTF-16 code unit: 256 ranges mapping each two-byte code to itself."""
    lines = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
             b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
             b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
             b"1 begincodespacerange <0000> <FFFF> endcodespacerange"]
    for start in range(0, 256, 100):
        chunk = range(start, min(256, start + 100))
        lines.append(f"{len(chunk)} beginbfrange".encode())
        for hi in chunk:
            if 0xD8 <= hi <= 0xDF:  # surrogate halves are never codes here; map them to U+FFFD
                lines.append(f"<{hi:02X}00> <{hi:02X}FF> <FFFD>".encode())
            else:
                lines.append(f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>".encode())
        lines.append(b"endbfrange")
    lines += [b"endcmap CMapName currentdict /CMap defineresource pop end end"]
    return b"\n".join(lines)


def invisible_font(pdf: pikepdf.Pdf) -> pikepdf.Dictionary:
    """A composite font whose codes are Unicode code units and whose glyphs are never drawn (text mode 3):
    nothing is embedded, every glyph is 1 em wide, extraction reads it through its ToUnicode map."""
    descriptor = pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/PTInvisible"),
                                    Flags=4, FontBBox=[0, 0, 1000, 1000], ItalicAngle=0, Ascent=1000, Descent=0,
                                    CapHeight=1000, StemV=80)
    cid = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2,
                             BaseFont=pikepdf.Name("/PTInvisible"),
                             CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                                              Ordering=pikepdf.String("Identity"), Supplement=0),
                             FontDescriptor=pdf.make_indirect(descriptor), DW=1000,
                             CIDToGIDMap=pikepdf.Name.Identity)
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name("/PTInvisible"),
        Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[pdf.make_indirect(cid)],
        ToUnicode=pdf.make_stream(_to_unicode_cmap())))


def _chars(textpage: pdfium.PdfTextPage) -> list[tuple[str, Rect]]:
    out = []
    rect = pdfium_c.FS_RECTF()
    for i in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        if code in (0, 0x0A, 0x0D, 0xFFFE, 0xFFFF) or pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, i, rect):
            continue
        try:
            char = chr(code)
        except ValueError:
            continue
        out.append((char, (rect.left, rect.bottom, rect.right, rect.top)))
    return out


def _text_ops(chars: list[tuple[str, Rect]], boxes: list[Box]) -> bytes:
    parts = [f"BT 3 Tr {_TEXT_FONT} 1 Tf".encode()]
    for char, (x0, y0, x1, y1) in chars:
        if char.isspace() and not char == " ":
            continue
        covered = False
        for box in boxes:
            ow, oh = overlap((x0, y0, x1, y1), box.rect)
            if ow > 0 and oh > 0 and (ow > 0.3 * max(x1 - x0, 1e-6) or intersects((x0, y0, x1, y1), box.rect, 0)):
                covered = True
                break
        if covered:
            continue
        width, height = max(x1 - x0, 0.1), max(y1 - y0, 0.1)
        units = char.encode("utf-16-be")
        # upright text in user space; each glyph is one em, stretched to its box
        parts.append(f"{width:.3f} 0 0 {height:.3f} {x0:.3f} {y0:.3f} Tm <{units.hex()}> Tj".encode())
    parts.append(b"ET")
    return b"\n".join(parts)


def rasterise_page(pdf: pikepdf.Pdf, page: pikepdf.Page, source: pdfium.PdfDocument, index: int,
                   boxes: list[Box], dpi: float) -> None:
    """Replaces the page's content with its image (boxes painted) and an invisible layer of the text outside
    the boxes. Annotations are left to the caller."""
    frame = PageFrame.of(page.obj)
    rendered_page = source[index]
    try:
        bitmap = rendered_page.render(scale=dpi / 72.0, draw_annots=False)
        image = bitmap.to_pil().convert("RGB")
        textpage = rendered_page.get_textpage()
        try:
            chars = _chars(textpage)
        finally:
            textpage.close()
    finally:
        rendered_page.close()
    shown_w, shown_h = frame.displayed_size
    to_user = frame.displayed_to_user()
    to_shown = invert(to_user)
    assert to_shown is not None  # a rotation and a translation
    draw = ImageDraw.Draw(image)
    px = image.width / shown_w
    py = image.height / shown_h
    for box in boxes:
        corners = [apply(to_shown, x, y) for x, y in ((box.rect[0], box.rect[1]), (box.rect[2], box.rect[3]))]
        (u0, v0), (u1, v1) = corners
        draw.rectangle((int(min(u0, u1) * px) - 1, int(min(v0, v1) * py) - 1,
                        int(max(u0, u1) * px + 0.999) + 1, int(max(v0, v1) * py + 0.999) + 1), fill=box.color)
    picture = pdf.make_stream(zlib.compress(image.tobytes(), 6))
    picture.Type = pikepdf.Name.XObject
    picture.Subtype = pikepdf.Name.Image
    picture.Width, picture.Height = image.width, image.height
    picture.ColorSpace = pikepdf.Name.DeviceRGB
    picture.BitsPerComponent = 8
    picture.Filter = pikepdf.Name.FlateDecode
    # the image fills the displayed page: its unit square, flipped (rows run downwards), then to user space
    placement = multiply((shown_w, 0, 0, -shown_h, 0, shown_h), to_user)
    draw_ops = ("q " + " ".join(f"{v:.5f}" for v in placement) + " cm /PTPage Do Q\n").encode()
    page.obj.Contents = pdf.make_stream(draw_ops + _text_ops(chars, boxes))
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(PTPage=picture),
                                            Font=pikepdf.Dictionary({_TEXT_FONT: invisible_font(pdf)}))
    for key in ("/Group", "/PieceInfo", "/Thumb"):
        if key in page.obj:
            del page.obj[key]

