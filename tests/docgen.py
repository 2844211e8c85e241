"""Test documents with known facts, generated on the fly: PDFs (reportlab, pypdf for encryption) and raster
images (Pillow).

Every generator returns the bytes and, where tests need them, the facts a renderer must reproduce. Positions in
the facts are PDF points (1/72 in) measured from the top-left corner of the page *as displayed* (after /Rotate),
the same units the engines report.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

Rect = tuple[float, float, float, float]  # left, top, width, height


@dataclass(frozen=True)
class TextFact:
    text: str
    left: float          # x of the first glyph's origin
    baseline: float      # y of the baseline from the top of the page
    size: float          # font size in points
    font: str = "Helvetica"

    @property
    def width(self) -> float:
        return stringWidth(self.text, self.font, self.size)


@dataclass(frozen=True)
class LinkFact:
    href: str
    rect: Rect


@dataclass
class PageFacts:
    width: float
    height: float
    rotation: int = 0
    texts: list[TextFact] = field(default_factory=list)
    black_rects: list[Rect] = field(default_factory=list)   # filled pure black
    red_rects: list[Rect] = field(default_factory=list)     # a pure red embedded image covers each
    links: list[LinkFact] = field(default_factory=list)


@dataclass
class PdfFacts:
    pages: list[PageFacts]


HELLO = TextFact("Hello pageturn", 72, 100, 24)
SECOND = TextFact("Second line here", 72, 130, 12)
LINK_TEXT = TextFact("https://example.com/pageturn", 72, 300, 12)
LINK = LinkFact("https://example.com/pageturn", (72, 286, LINK_TEXT.width, 18))
BLACK = (300, 400, 100, 50)
RED = (100, 500, 120, 80)


def _red_image() -> ImageReader:
    return ImageReader(Image.new("RGB", (60, 40), (255, 0, 0)))


def make_pdf() -> tuple[bytes, PdfFacts]:
    """Four pages:

    0. 595x842 (the spec's A4): two lines of text, a black box, a red image and a URI link over a URL text.
    1. 612x792 (letter): one line of text and a black box in the bottom-right area.
    2. 842x595 (landscape): one line of text.
    3. a 595x842 page with /Rotate 90, shown as 842x595: a black bar and a line of text drawn on the unrotated
       page, so they appear turned clockwise (the facts give where they show).
    """
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595, 842), pageCompression=1)
    pages: list[PageFacts] = []

    def text(fact: TextFact, page_height: float) -> None:
        pdf.setFont(fact.font, fact.size)
        pdf.drawString(fact.left, page_height - fact.baseline, fact.text)

    def box(rect: Rect, page_height: float) -> None:
        x, y, w, h = rect
        pdf.setFillColorRGB(0, 0, 0)
        pdf.rect(x, page_height - y - h, w, h, stroke=0, fill=1)

    # page 0
    h = 842
    for fact in (HELLO, SECOND, LINK_TEXT):
        text(fact, h)
    box(BLACK, h)
    x, y, w, hh = RED
    pdf.drawImage(_red_image(), x, h - y - hh, w, hh)
    lx, ly, lw, lh = LINK.rect
    pdf.linkURL(LINK.href, (lx, h - ly - lh, lx + lw, h - ly), relative=0, thickness=0)
    pages.append(PageFacts(595, 842, 0, [HELLO, SECOND, LINK_TEXT], [BLACK], [RED], [LINK]))
    pdf.showPage()

    # page 1
    pdf.setPageSize((612, 792))
    letter_text = TextFact("Letter page", 50, 60, 14)
    letter_box = (500, 700, 50, 50)
    text(letter_text, 792)
    box(letter_box, 792)
    pages.append(PageFacts(612, 792, 0, [letter_text], [letter_box]))
    pdf.showPage()

    # page 2
    pdf.setPageSize((842, 595))
    wide_text = TextFact("Landscape page", 400, 300, 18)
    text(wide_text, 595)
    pages.append(PageFacts(842, 595, 0, [wide_text]))
    pdf.showPage()

    # page 3: drawn on an unrotated 595x842 page; /Rotate 90 turns it clockwise, so an unrotated point (ux, uy)
    # (top-left origin) shows at (842 - uy, ux).
    pdf.setPageSize((595, 842))
    bar_unrotated = (50, 100, 200, 30)
    box(bar_unrotated, 842)
    pdf.setFont("Helvetica", 20)
    pdf.drawString(50, 842 - 200, "Rotated page")
    ux, uy, uw, uh = bar_unrotated
    bar_shown = (842 - uy - uh, ux, uh, uw)
    # the text's baseline becomes a vertical line at x = 842 - 200, glyphs grow to the right of it, reading
    # downwards from y = 50; TextFact keeps left = baseline x and baseline = starting y for this page
    rotated_text = TextFact("Rotated page", 842 - 200, 50, 20)
    pages.append(PageFacts(842, 595, 90, [rotated_text], [bar_shown]))
    pdf.showPage()

    pdf.save()
    return _rotate_page(buffer.getvalue(), 3, 90), PdfFacts(pages)


def _rotate_page(data: bytes, index: int, degrees: int) -> bytes:
    """Set /Rotate on one page (reportlab's own page rotation also swaps the media box)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.pages[index].rotate(degrees)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


LOREM_WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
               "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
               "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum").split()


def _gradient(width: int = 320, height: int = 200) -> Image.Image:
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for x in range(width):
        draw.line([(x, 0), (x, height)], fill=(x * 255 // width, 120, 255 - x * 255 // width))
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(250, 220, 40))
    return image


def make_pdf_pages(n: int, *, image: bool = True, lines: int = 40) -> bytes:
    """n letter pages, each with a heading "Page k", `lines` lines of text, some vector shapes and (by default)
    an embedded photo-like image: a realistic page for benchmarks and long documents."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792), pageCompression=1)
    picture = ImageReader(_gradient()) if image else None
    for page in range(n):
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(72, 730, f"Page {page + 1}")
        pdf.setFont("Times-Roman", 10)
        for line in range(lines):
            words = [LOREM_WORDS[(page * 7 + line * 3 + k) % len(LOREM_WORDS)] for k in range(14)]
            pdf.drawString(72, 700 - line * 12, " ".join(words))
        pdf.setStrokeColorRGB(0.2, 0.3, 0.8)
        pdf.setLineWidth(2)
        pdf.line(72, 205, 540, 205)
        pdf.setFillColorRGB(0.9, 0.4, 0.1)
        pdf.circle(500, 150, 30, stroke=1, fill=1)
        if picture is not None:
            pdf.drawImage(picture, 72, 60, 240, 150)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_text_only_pdf(n: int, lines: int = 50) -> bytes:
    """n letter pages of black text only (no colour anywhere): the greyscale case for raster benchmarks."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(612, 792), pageCompression=1)
    for page in range(n):
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(72, 740, f"Page {page + 1}")
        pdf.setFont("Times-Roman", 10)
        for line in range(lines):
            words = [LOREM_WORDS[(page * 7 + line * 3 + k) % len(LOREM_WORDS)] for k in range(14)]
            pdf.drawString(72, 710 - line * 12, " ".join(words))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_encrypted_pdf(user_password: str = "secret", owner_password: str | None = "owner-secret") -> bytes:
    """A small text PDF (one page, "Hello pageturn") encrypted with pypdf (RC4-128: no crypto library needed)."""
    from pypdf import PdfReader, PdfWriter

    data, _ = make_pdf()
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password, owner_password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---- raster images ------------------------------------------------------------------------------------------

FRAME_COLORS = [(255, 0, 0), (0, 160, 0), (0, 0, 255), (200, 200, 0)]


def make_tiff(sizes: list[tuple[int, int]] = ((300, 200), (200, 300), (150, 150)),
              dpi: int | tuple[int, int] = 100) -> bytes:
    """A multi-page TIFF: frame k has size sizes[k] and is filled with FRAME_COLORS[k]; dpi may be (x, y)."""
    frames = [Image.new("RGB", size, FRAME_COLORS[k % len(FRAME_COLORS)]) for k, size in enumerate(sizes)]
    out = io.BytesIO()
    dpi = dpi if isinstance(dpi, tuple) else (dpi, dpi)
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:], dpi=dpi,
                   compression="tiff_deflate")
    return out.getvalue()


def _quadrants(width: int, height: int) -> Image.Image:
    """Red top-left quadrant, white elsewhere: where red lands tells how the image was oriented."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=(255, 0, 0))
    return image


def make_png(width: int = 320, height: int = 200, dpi: int | None = None, mode: str = "RGB") -> bytes:
    """A PNG with a red top-left quadrant (RGBA: the rest transparent instead of white)."""
    image = _quadrants(width, height)
    if mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(Image.new("L", (width, height), 0))
        ImageDraw.Draw(image).rectangle((0, 0, width // 2 - 1, height // 2 - 1), fill=(255, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", **({"dpi": (dpi, dpi)} if dpi else {}))
    return out.getvalue()


def make_jpeg_exif(width: int = 320, height: int = 200, orientation: int = 6, dpi: int = 72) -> bytes:
    """A JPEG stored width x height with a red top-left quadrant and an EXIF Orientation tag.

    Orientation 6 means "rotate 90 degrees clockwise to display": the displayed image is height x width with
    the red quadrant at the top-right."""
    image = _quadrants(width, height)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes(), dpi=(dpi, dpi))
    return out.getvalue()


def make_image(fmt: str, width: int = 240, height: int = 160) -> bytes:
    """A GIF, BMP, WebP, PNG or JPEG with the red top-left quadrant."""
    out = io.BytesIO()
    image = _quadrants(width, height)
    options = {"WEBP": {"lossless": True}, "JPEG": {"quality": 95}}.get(fmt.upper(), {})
    image.save(out, format=fmt.upper(), **options)
    return out.getvalue()


def make_bomb_png(side: int = 40_000) -> bytes:
    """A real decompression bomb: a side x side 1-bit grayscale PNG of zeros (side² pixels, a few hundred KB)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + (side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = []
    rows_per_chunk = max(1, (1 << 22) // len(row))
    block = row * rows_per_chunk
    done = 0
    while done < side:
        count = min(rows_per_chunk, side - done)
        parts.append(compressor.compress(block if count == rows_per_chunk else row * count))
        done += count
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


CROP_BOX = (40, 250, 420, 800)  # left, bottom, right, top in PDF space of make_pdf's first page


def make_turned_pdf() -> bytes:
    """make_pdf's first page four times, with /Rotate 0, 90, 180 and 270 and a crop box (CROP_BOX) that cuts
    it to 380x550 points: every way a displayed page can differ from PDF space."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import RectangleObject

    source = PdfReader(io.BytesIO(make_pdf()[0])).pages[0]
    writer = PdfWriter()
    for degrees in (0, 90, 180, 270):
        page = writer.add_page(source)
        page.rotate(degrees)
        page.cropbox = RectangleObject(CROP_BOX)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
