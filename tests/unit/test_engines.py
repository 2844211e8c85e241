"""The render engines, called in-process through pageturn.engines.jobs on generated documents with known facts."""
from __future__ import annotations

import base64
import io
import re
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from reportlab.pdfbase.pdfmetrics import stringWidth

import docgen
from pageturn.engines import jobs, raster
from pageturn.engines.errors import (CorruptDocument, ImageTooLarge, PageOutOfRange, PasswordRequired,
                                     SvgNotAvailable, UnsupportedDocument)
from pageturn.engines.watermark import fingerprint, parse_watermarks

SPEC_WATERMARK = {"type": "text", "opacity": 0.6, "text": "a\nb", "color": "red", "fontFamily": "Consolas",
                  "fontSize": "16pt", "fontWeight": "bold", "verticalAlign": "bottom", "horizontalAlign": "right"}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    data, facts = docgen.make_pdf()
    path = tmp_path_factory.mktemp("pdf") / "known.pdf"
    path.write_bytes(data)
    return str(path), facts


@pytest.fixture(scope="module")
def turned(tmp_path_factory):
    path = tmp_path_factory.mktemp("turned") / "turned.pdf"
    path.write_bytes(docgen.make_turned_pdf())
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Raster and protected sources, written once."""
    directory = tmp_path_factory.mktemp("sources")
    made = {
        "encrypted.pdf": docgen.make_encrypted_pdf("secret", "owner-secret"),
        "quadrants.png": docgen.make_png(320, 200),
        "quadrants144.png": docgen.make_png(320, 200, dpi=144),
        "alpha.png": docgen.make_png(320, 200, mode="RGBA"),
        "exif6.jpg": docgen.make_jpeg_exif(320, 200, orientation=6),
        "frames.tif": docgen.make_tiff([(300, 200), (200, 300), (150, 150)], dpi=100),
        "fax.tif": docgen.make_tiff([(408, 196)], dpi=(204, 98)),
        "quadrants.gif": docgen.make_image("gif"),
        "quadrants.bmp": docgen.make_image("bmp"),
        "quadrants.webp": docgen.make_image("webp"),
        "bomb.png": docgen.make_bomb_png(),
        "garbage.pdf": b"%PDF-1.4\nthis is not really a pdf\n",
        "notes.txt": b"just some text, not an image\n",
    }
    paths = {}
    for name, data in made.items():
        (directory / name).write_bytes(data)
        paths[name] = str(directory / name)
    return paths


def png(data: bytes) -> Image.Image:
    """A decoded PNG as RGB(A): a page with no colour arrives as a greyscale PNG (engines.png), same pixels."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB") if image.mode == "L" else image


def pixels(image: Image.Image) -> list:
    """Every pixel value (Pillow 13 renamed getdata)."""
    flat = getattr(image, "get_flattened_data", None)
    return list(flat() if flat else image.getdata())


def px(points: float, dpi: float = 150, scale: float = 1.0) -> int:
    return int(points * dpi / 72 * scale)


def center(rect: tuple[float, float, float, float]) -> tuple[float, float]:
    x, y, w, h = rect
    return x + w / 2, y + h / 2


def is_black(pixel) -> bool:
    return all(c < 40 for c in pixel[:3])


def is_red(pixel) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def is_white(pixel) -> bool:
    return all(c > 245 for c in pixel[:3])


# ---- geometry --------------------------------------------------------------------------------------------------

def test_pixel_size_fit_and_tile_plans():
    assert raster.pixel_size(595, 842, 150) == (1240, 1754)
    assert raster.pixel_size(595, 842, 150, 0.5) == (620, 877)
    assert raster.fit_size(595, 842, 200, 200) == (141, 200)
    assert raster.fit_size(842, 595, 200, 200) == (200, 141)
    plan = raster.plan(595, 842, dpi=150, scale=0.5, tile=(512, 768, 256, 256))
    assert (plan.left, plan.top, plan.width, plan.height) == (512, 768, 108, 109)   # trimmed at the edges
    with pytest.raises(ValueError, match="outside"):
        raster.plan(595, 842, dpi=150, tile=(1240, 0, 10, 10))
    with pytest.raises(ValueError, match="pixels"):
        raster.plan(595, 842, dpi=150, scale=40)
    with pytest.raises(ValueError, match="scale"):
        raster.plan(595, 842, dpi=150, scale=0)
    with pytest.raises(ValueError, match="quality"):
        raster.encode(Image.new("RGB", (2, 2)), "jpeg", quality=0)


# ---- PDF: info and raster ----------------------------------------------------------------------------------------

def test_pdf_info_gives_page_count_and_displayed_sizes_in_points(known):
    path, facts = known
    info = jobs.document_info(path, "pdf")
    assert info["pageCount"] == 4
    assert [(p["width"], p["height"]) for p in info["pages"]] == [(f.width, f.height) for f in facts.pages]
    assert (info["pages"][3]["width"], info["pages"][3]["height"]) == (842, 595)  # /Rotate 90 of a 595x842 page


@pytest.mark.parametrize(("written", "title"), [("Board  minutes\n2026", "Board minutes 2026"), ("untitled", None),
                                               ("x" * 300, "x" * 200)])
def test_pdf_info_gives_the_documents_own_title_when_it_has_one(tmp_path, written, title):
    from reportlab.pdfgen import canvas

    path = tmp_path / "titled.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setTitle(written)  # ReportLab writes "untitled" when none is given: a placeholder, not a title
    pdf.showPage()
    pdf.save()
    assert jobs.document_info(str(path), "pdf").get("title") == title


def test_pdf_png_has_known_content_where_the_facts_say(known):
    path, facts = known
    image = png(jobs.render_raster(path, "pdf", 0, dpi=150))
    assert image.size == (1240, 1754)
    black_x, black_y = center(facts.pages[0].black_rects[0])
    red_x, red_y = center(facts.pages[0].red_rects[0])
    assert is_black(image.getpixel((px(black_x), px(black_y))))
    assert is_red(image.getpixel((px(red_x), px(red_y))))
    assert is_white(image.getpixel((px(500), px(700))))


def test_rotated_page_renders_turned(known):
    path, facts = known
    page = facts.pages[3]
    image = png(jobs.render_raster(path, "pdf", 3, dpi=72))
    assert image.size == (842, 595)
    x, y = center(page.black_rects[0])
    assert is_black(image.getpixel((int(x), int(y))))
    assert is_white(image.getpixel((150, 115)))  # the bar's centre had the rotation been ignored


def test_scale_and_jpeg_quality(known):
    path, _ = known
    half = png(jobs.render_raster(path, "pdf", 1, dpi=150, scale=0.5))
    assert half.size == raster.pixel_size(612, 792, 150, 0.5) == (638, 825)
    low = jobs.render_raster(path, "pdf", 0, fmt="jpeg", quality=20)
    high = jobs.render_raster(path, "pdf", 0, fmt="jpeg", quality=95)
    assert low[:2] == b"\xff\xd8" and png(high).size == (1240, 1754)
    assert len(low) < len(high)


def test_tiles_stitch_into_the_full_page_and_are_trimmed(known):
    path, _ = known
    full = png(jobs.render_raster(path, "pdf", 0, dpi=150, scale=0.5)).convert("RGB")
    stitched = Image.new("RGB", full.size, (0, 255, 0))
    for y in range(0, full.height, 256):
        for x in range(0, full.width, 256):
            tile = png(jobs.render_raster(path, "pdf", 0, dpi=150, scale=0.5, tile=(x, y, 256, 256)))
            assert tile.size == (min(256, full.width - x), min(256, full.height - y))
            stitched.paste(tile.convert("RGB"), (x, y))
    assert ImageChops.difference(full, stitched).getbbox() is None


def test_thumbnail_fits_keeping_aspect_ratio(known):
    path, _ = known
    portrait = png(jobs.render_raster(path, "pdf", 0, fit=(200, 200)))
    landscape = png(jobs.render_raster(path, "pdf", 2, fit=(200, 200)))
    wide_box = png(jobs.render_raster(path, "pdf", 0, fit=(400, 100)))
    assert portrait.size == (141, 200)
    assert landscape.size == (200, 141)
    assert wide_box.size == (71, 100)


def test_requests_over_the_pixel_limit_are_refused_before_rendering(known):
    path, _ = known
    with pytest.raises(ValueError, match="at most"):
        jobs.render_raster(path, "pdf", 0, dpi=150, scale=30)
    # a tile of such a page is fine: only the tile is allocated
    tile = png(jobs.render_raster(path, "pdf", 0, dpi=150, scale=30, tile=(4000, 4000, 512, 512)))
    assert tile.size == (512, 512)


# ---- PDF: text and links ----------------------------------------------------------------------------------------

def test_text_has_one_box_per_character_at_the_glyph_positions(known):
    path, facts = known
    result = jobs.page_text(path, "pdf", 0)
    assert (result["number"], result["width"], result["height"]) == (0, 595, 842)
    text, boxes = result["text"], result["rectangles"]
    assert len(boxes) == len(text)
    for fact in facts.pages[0].texts:
        start = text.index(fact.text)
        for i, char in enumerate(fact.text):
            left, top, width, height = boxes[start + i]
            # reportlab does not embed the standard fonts' widths and PDFium's built-in Helvetica differs from
            # Adobe's metrics by a few thousandths of an em per glyph: allow that drift along a line
            assert left == pytest.approx(fact.left + stringWidth(fact.text[:i], fact.font, fact.size),
                                         abs=0.05 + 0.004 * fact.size * i)
            assert width == pytest.approx(stringWidth(char, fact.font, fact.size), abs=0.01 * fact.size)
            assert top < fact.baseline - 0.7 * fact.size and top + height > fact.baseline  # spans the line
            assert fact.size <= height <= 1.5 * fact.size


def test_line_breaks_are_newlines_with_a_zero_width_box_at_line_end(known):
    path, _ = known
    result = jobs.page_text(path, "pdf", 0)
    text, boxes = result["text"], result["rectangles"]
    assert "\r" not in text
    assert text.startswith(docgen.HELLO.text + "\n" + docgen.SECOND.text + "\n")
    newline = boxes[len(docgen.HELLO.text)]
    last = boxes[len(docgen.HELLO.text) - 1]
    assert newline[2] == 0 and newline[0] == pytest.approx(last[0] + last[2], abs=0.01)
    assert newline[1] == last[1] and newline[3] == last[3]


def test_uri_links_are_markup_in_the_spec_shape(known):
    path, _ = known
    markup = jobs.page_text(path, "pdf", 0)["markup"]
    assert len(markup) == 1
    link = markup[0]
    assert link["changeType"] == "Add" and link["markType"] == "DocumentHyperlink"
    props = link["properties"]
    assert set(props) == {"href", "rectangle", "borderThickness", "borderHorizontalRadius", "borderVerticalRadius",
                          "borderOpacity"}
    assert props["href"] == docgen.LINK.href
    assert (props["borderThickness"], props["borderHorizontalRadius"], props["borderVerticalRadius"],
            props["borderOpacity"]) == (0, 0, 0, 255)
    rect = props["rectangle"]
    x, y, w, h = docgen.LINK.rect
    assert set(rect) == {"x", "y", "width", "height"}
    assert (rect["x"], rect["y"], rect["width"], rect["height"]) == pytest.approx((x, y, w, h), abs=0.05)
    assert jobs.page_text(path, "pdf", 1)["markup"] == []


def test_text_on_a_rotated_page_is_in_displayed_coordinates(known):
    path, facts = known
    fact = facts.pages[3].texts[0]   # a vertical line: baseline at x = fact.left, reading down from fact.baseline
    result = jobs.page_text(path, "pdf", 3)
    assert result["text"] == fact.text and (result["width"], result["height"]) == (842, 595)
    boxes = result["rectangles"]
    for i, (left, top, width, height) in enumerate(boxes):
        assert left < fact.left < left + width              # the box straddles the (vertical) baseline
        assert width <= 1.5 * fact.size
        expected_top = fact.baseline + stringWidth(fact.text[:i], fact.font, fact.size)
        assert top == pytest.approx(expected_top, abs=0.05 + 0.004 * fact.size * i)
        assert height == pytest.approx(stringWidth(fact.text[i], fact.font, fact.size), abs=0.01 * fact.size)


def test_text_and_link_boxes_cover_the_ink_on_turned_and_cropped_pages(turned):
    sizes = [(p["width"], p["height"]) for p in jobs.document_info(turned, "pdf")["pages"]]
    assert sizes == [(380, 550), (550, 380), (380, 550), (550, 380)]
    link_texts = set()
    for page in range(4):
        image = png(jobs.render_raster(turned, "pdf", page, dpi=72)).convert("L")
        result = jobs.page_text(turned, "pdf", page)
        assert (result["width"], result["height"]) == sizes[page]
        for char, (x, y, w, h) in zip(result["text"], result["rectangles"]):
            if not char.isspace():
                assert min(pixels(image.crop((int(x), int(y), int(x + w) + 1, int(y + h) + 1)))) < 128, char
        [link] = result["markup"]
        rect = link["properties"]["rectangle"]
        inside = [char for char, (x, y, w, h) in zip(result["text"], result["rectangles"])
                  if rect["x"] - 0.5 <= x + w / 2 <= rect["x"] + rect["width"] + 0.5
                  and rect["y"] - 0.5 <= y + h / 2 <= rect["y"] + rect["height"] + 0.5]
        link_texts.add("".join(inside).strip())
    assert link_texts == {docgen.LINK_TEXT.text}  # on every turn the link covers exactly its text


# ---- watermarks ---------------------------------------------------------------------------------------------

def changed_box(a: bytes, b: bytes) -> tuple[int, int, int, int] | None:
    return ImageChops.difference(png(a).convert("RGB"), png(b).convert("RGB")).getbbox()


def test_spec_watermark_draws_in_the_bottom_right_corner(known):
    path, _ = known
    plain = jobs.render_raster(path, "pdf", 1, dpi=150)
    marked = jobs.render_raster(path, "pdf", 1, dpi=150, watermarks=[SPEC_WATERMARK])
    width, height = png(plain).size
    box = changed_box(plain, marked)
    assert box is not None
    left, top, right, bottom = box
    assert left > width * 0.85 and top > height * 0.9 and right <= width and bottom <= height
    # red at 0.6 opacity over white: pink-red, never dark
    inked = [p for p in pixels(png(marked).convert("RGB").crop(box)) if p != (255, 255, 255)]
    assert all(r == 255 and abs(g - b) < 10 for r, g, b in inked)       # only shades of red over white
    assert min(g for _, g, _ in inked) == pytest.approx(255 * 0.4, abs=6)  # full glyph cover: 60% red


def test_watermark_on_svg_png_jpeg_tiles_and_thumbnails(known):
    path, _ = known
    marks = [SPEC_WATERMARK]
    for options in ({"fmt": "jpeg"}, {"fit": (120, 120)}, {"tile": (1024, 1536, 512, 512)}):
        assert changed_box(jobs.render_raster(path, "pdf", 0, **options),
                           jobs.render_raster(path, "pdf", 0, watermarks=marks, **options)) is not None
    # a tile far from the corner is untouched
    assert changed_box(jobs.render_raster(path, "pdf", 0, tile=(0, 0, 256, 256)),
                       jobs.render_raster(path, "pdf", 0, tile=(0, 0, 256, 256), watermarks=marks)) is None
    svg = jobs.render_svg(path, "pdf", 0, watermarks=marks).decode()
    overlay = svg[svg.index('class="pageturn-watermarks"'):]
    assert 'fill="#ff0000"' in overlay and 'opacity="0.6"' in overlay and 'text-anchor="end"' in overlay
    assert re.findall(r">([^<>]+)</text>", overlay) == ["a", "b"]


def test_watermarked_tiles_stitch_into_the_watermarked_page(known):
    path, _ = known
    marks = [SPEC_WATERMARK, {"type": "diagonalText", "text": "CONFIDENTIAL", "color": "#0000ff", "opacity": 0.3}]
    full = png(jobs.render_raster(path, "pdf", 0, scale=0.5, watermarks=marks)).convert("RGB")
    stitched = Image.new("RGB", full.size)
    for y in range(0, full.height, 300):
        for x in range(0, full.width, 300):
            tile = jobs.render_raster(path, "pdf", 0, scale=0.5, tile=(x, y, 300, 300), watermarks=marks)
            stitched.paste(png(tile).convert("RGB"), (x, y))
    assert ImageChops.difference(full, stitched).getbbox() is None


def test_diagonal_and_image_watermarks_several_at_once(known):
    path, _ = known
    green = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 200, 0)).save(green, format="PNG")
    marks = [
        {"type": "diagonalText", "text": "DRAFT", "color": "#0000FF", "opacity": 0.5},
        {"type": "image", "data": base64.b64encode(green.getvalue()).decode(), "width": "72pt",
         "horizontalAlign": "left", "verticalAlign": "top", "margin": "36pt"},
    ]
    image = png(jobs.render_raster(path, "pdf", 1, dpi=72, watermarks=marks)).convert("RGB")
    assert image.getpixel((36 + 36, 36 + 36)) == (0, 200, 0)          # the image: 72pt wide from (36, 36)
    assert image.getpixel((36 + 74, 36 + 36)) == (255, 255, 255)       # ...and no wider
    blue = [image.getpixel((306 + dx, 396 + dy)) for dx in range(-60, 61, 4) for dy in range(-60, 61, 4)]
    assert any(b > 200 and r < 200 for r, g, b in blue)                # the diagonal text crosses the centre
    svg = jobs.render_svg(path, "pdf", 1, watermarks=marks).decode()
    assert "rotate(-" in svg and "data:image/png;base64," in svg


def test_watermarks_on_a_hugely_zoomed_tile_stay_cheap(known):
    path, _ = known
    marks = [{"type": "diagonalText", "text": "CONFIDENTIAL"},
             {"type": "text", "text": "W" * 1999, "fontSize": "1000pt", "verticalAlign": "top"}]
    started = time.monotonic()
    tile = png(jobs.render_raster(path, "pdf", 0, scale=30, tile=(20000, 20000, 512, 512), watermarks=marks))
    assert tile.size == (512, 512) and time.monotonic() - started < 10
    small = pixels(png(jobs.render_raster(path, "pdf", 0, scale=0.25, watermarks=marks)).convert("L"))
    assert sum(1 for v in small if v < 100) > 0.2 * len(small)   # the giant Ws cover much of the page


def test_watermark_validation_names_the_bad_field():
    assert parse_watermarks([SPEC_WATERMARK])[0].font_size == 16
    for bad, field in [({**SPEC_WATERMARK, "color": "notacolor"}, r"watermarks\[0\]\.color"),
                       ({**SPEC_WATERMARK, "fontSize": "huge"}, r"watermarks\[0\]\.fontSize"),
                       ({**SPEC_WATERMARK, "opacity": 2}, r"watermarks\[0\]\.opacity"),
                       ({**SPEC_WATERMARK, "verticalAlign": "up"}, r"watermarks\[0\]\.verticalAlign"),
                       ({"type": "image", "data": "bm90IGFuIGltYWdl"}, r"watermarks\[0\]\.data"),
                       ({"type": "stamp"}, r"watermarks\[0\]\.type")]:
        with pytest.raises(ValueError, match=field):
            parse_watermarks([bad])
    assert parse_watermarks([{**SPEC_WATERMARK, "color": "#00ff0080"}])[0].color == (0, 255, 0)
    reordered = dict(reversed(list(SPEC_WATERMARK.items())))
    assert fingerprint([SPEC_WATERMARK]) == fingerprint([reordered]) != fingerprint([])
    assert fingerprint([SPEC_WATERMARK, {"type": "text", "text": "x"}]) != \
        fingerprint([{"type": "text", "text": "x"}, SPEC_WATERMARK])


# ---- SVG ---------------------------------------------------------------------------------------------------------

def test_svg_sizes_are_points_matching_info_and_references_resolve(known):
    path, _ = known
    info = jobs.document_info(path, "pdf")
    for page in (0, 3):
        svg = jobs.render_svg(path, "pdf", page).decode()
        root = re.search(r"<svg\b[^>]*>", svg).group(0)
        width, height = info["pages"][page]["width"], info["pages"][page]["height"]
        assert f'width="{width:g}"' in root and f'height="{height:g}"' in root
        assert f'viewBox="0 0 {width:g} {height:g}"' in root
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        references = set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))
        assert references and references <= ids
        assert all(i.startswith(f"p{page}-") for i in ids)
    page0 = jobs.render_svg(path, "pdf", 0).decode()
    assert page0.count("<use") >= len(docgen.HELLO.text.replace(" ", ""))  # the glyphs of the text are drawn


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_svg_renders_in_a_browser_like_the_raster(known, turned, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    path, facts = known
    pages = [(path, 0)] + [(turned, page) for page in range(4)]
    shots = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for n, (source, page) in enumerate(pages):
            svg_path = tmp_path / f"page{n}.svg"
            svg_path.write_bytes(jobs.render_svg(source, "pdf", page))
            size = jobs.document_info(source, "pdf")["pages"][page]
            tab = browser.new_page(viewport={"width": int(size["width"]), "height": int(size["height"])})
            tab.goto(svg_path.as_uri())
            shots.append(png(tab.screenshot()).convert("L"))
        browser.close()
    for shot, (source, page) in zip(shots, pages):
        reference = png(jobs.render_raster(source, "pdf", page, dpi=72)).convert("L")
        assert shot.size == reference.size               # the SVG's size attributes are the page in points
        difference = pixels(ImageChops.difference(shot, reference))
        assert sum(difference) / len(difference) < 3     # same drawing, up to anti-aliasing
        assert sum(1 for v in difference if v > 128) < 0.005 * len(difference)
    shot, reference = shots[0], png(jobs.render_raster(path, "pdf", 0, dpi=72)).convert("L")
    x, y, w, h = facts.pages[0].black_rects[0]
    assert shot.getpixel((int(x + w / 2), int(y + h / 2))) < 40
    for fact in facts.pages[0].texts:  # the glyphs of every line: ink in the browser where PDFium has it
        box = (int(fact.left), int(fact.baseline - fact.size), int(fact.left + fact.width) + 1,
               int(fact.baseline + fact.size * 0.3))
        ink_browser = sum(1 for v in pixels(shot.crop(box)) if v < 128)
        ink_pdfium = sum(1 for v in pixels(reference.crop(box)) if v < 128)
        assert ink_pdfium > 0 and abs(ink_browser - ink_pdfium) < 0.25 * ink_pdfium


def test_svg_is_not_available_for_images(files):
    with pytest.raises(SvgNotAvailable):
        jobs.render_svg(files["quadrants.png"], "image", 0)


# ---- passwords and damaged input ---------------------------------------------------------------------------------

def test_password_required_and_accepted(files):
    path = files["encrypted.pdf"]
    with pytest.raises(PasswordRequired, match="requires a password"):
        jobs.document_info(path, "pdf")
    with pytest.raises(PasswordRequired):
        jobs.render_raster(path, "pdf", 0, password="wrong")
    for password in ("secret", "owner-secret"):
        assert jobs.document_info(path, "pdf", password=password)["pageCount"] == 4
    assert docgen.HELLO.text in jobs.page_text(path, "pdf", 0, password="secret")["text"]
    svg = jobs.render_svg(path, "pdf", 0, password="secret")
    assert b'width="595"' in svg and svg.count(b"<use") > 10


def test_damaged_and_out_of_range(known, files):
    path, _ = known
    with pytest.raises(CorruptDocument):
        jobs.document_info(files["garbage.pdf"], "pdf")
    with pytest.raises(PageOutOfRange):
        jobs.render_raster(path, "pdf", 4)
    with pytest.raises(PageOutOfRange):
        jobs.page_text(path, "pdf", -1)
    with pytest.raises(UnsupportedDocument):
        jobs.document_info(files["notes.txt"], "image")
    with pytest.raises(ValueError, match="kind"):
        jobs.document_info(path, "docx")


# ---- images ------------------------------------------------------------------------------------------------------

def test_image_page_units_follow_its_resolution(files):
    plain = jobs.document_info(files["quadrants.png"], "image")
    assert plain["pageCount"] == 1
    assert (plain["pages"][0]["width"], plain["pages"][0]["height"]) == (320, 200)   # no DPI: 72
    dense = jobs.document_info(files["quadrants144.png"], "image")["pages"][0]
    assert (dense["width"], dense["height"], dense["pixelWidth"]) == (160, 100, 320)
    image = png(jobs.render_raster(files["quadrants144.png"], "image", 0, dpi=144))
    assert image.size == (320, 200)   # rasterResolution equal to the image's: native pixels
    assert is_red(image.getpixel((10, 10))) and is_white(image.getpixel((300, 190)))


def test_native_resolution_and_non_square_dpi(files):
    fax = jobs.document_info(files["fax.tif"], "image")["pages"][0]
    assert (fax["width"], fax["height"], fax["dpi"]) == (144, 144, [204, 98])   # 2 x 2 inches
    assert png(jobs.render_raster(files["fax.tif"], "image", 0, dpi=72)).size == (144, 144)
    assert png(jobs.render_raster(files["fax.tif"], "image", 0, dpi=None)).size == (408, 196)
    assert png(jobs.render_raster(files["fax.tif"], "image", 0, dpi=None, scale=0.5)).size == (204, 98)
    assert png(jobs.render_raster(files["exif6.jpg"], "image", 0, dpi=None)).size == (200, 320)
    assert png(jobs.render_raster(files["quadrants144.png"], "image", 0, dpi=None)).size == (320, 200)


def test_exif_orientation_is_applied(files):
    info = jobs.document_info(files["exif6.jpg"], "image")["pages"][0]
    assert (info["width"], info["height"]) == (200, 320)
    image = png(jobs.render_raster(files["exif6.jpg"], "image", 0, dpi=72)).convert("RGB")
    assert image.size == (200, 320)
    assert is_red(image.getpixel((190, 10)))       # top-left quadrant of the stored image shows top-right
    assert is_white(image.getpixel((10, 10)))


def test_tiff_frames_are_pages(files):
    info = jobs.document_info(files["frames.tif"], "image")
    assert info["pageCount"] == 3
    assert [(p["width"], p["height"]) for p in info["pages"]] == [(216, 144), (144, 216), (108, 108)]  # 100 dpi
    for page, color in enumerate(docgen.FRAME_COLORS[:3]):
        image = png(jobs.render_raster(files["frames.tif"], "image", page, dpi=100)).convert("RGB")
        assert image.size == [(300, 200), (200, 300), (150, 150)][page]
        assert image.getpixel((image.width // 2, image.height // 2)) == color
    with pytest.raises(PageOutOfRange):
        jobs.render_raster(files["frames.tif"], "image", 3)


@pytest.mark.parametrize("name", ["quadrants.gif", "quadrants.bmp", "quadrants.webp", "quadrants.png"])
def test_other_image_formats(files, name):
    info = jobs.document_info(files[name], "image")
    assert info["pageCount"] == 1
    native_dpi = info["pages"][0]["dpi"][0]  # BMP files carry 96 dpi from Pillow, the others none (72)
    image = png(jobs.render_raster(files[name], "image", 0, dpi=native_dpi, fmt="png")).convert("RGB")
    assert image.size == (info["pages"][0]["pixelWidth"], info["pages"][0]["pixelHeight"])
    assert is_red(image.getpixel((5, 5))) and is_white(image.getpixel((image.width - 5, image.height - 5)))
    assert jobs.page_text(files[name], "image", 0)["rectangles"] == []


def test_transparency_is_flattened_on_white(files):
    image = png(jobs.render_raster(files["alpha.png"], "image", 0, dpi=72)).convert("RGB")
    assert is_red(image.getpixel((5, 5))) and is_white(image.getpixel((300, 190)))


def test_image_tiles_and_thumbnails(files):
    path = files["quadrants.png"]
    full = png(jobs.render_raster(path, "image", 0, dpi=150)).convert("RGB")
    assert full.size == (667, 417)
    stitched = Image.new("RGB", full.size)
    for y in range(0, full.height, 200):
        for x in range(0, full.width, 200):
            stitched.paste(png(jobs.render_raster(path, "image", 0, dpi=150, tile=(x, y, 200, 200))).convert("RGB"),
                           (x, y))
    difference = ImageChops.difference(full, stitched).convert("L")
    assert max(pixels(difference)) < 48                            # resampled per tile: tiny edge differences
    assert sum(pixels(difference)) / (full.width * full.height) < 1
    assert png(jobs.render_raster(path, "image", 0, fit=(100, 100))).size == (100, 62)


def test_decompression_bomb_and_pixel_limit(files):
    with pytest.raises(ImageTooLarge, match="more than 100000000 pixels"):
        jobs.document_info(files["bomb.png"], "image")
    with pytest.raises(ImageTooLarge):
        jobs.render_raster(files["bomb.png"], "image", 0, fit=(100, 100))
    saved = raster.LIMITS.max_image_pixels
    try:
        jobs.configure(max_image_pixels=10_000)
        with pytest.raises(ImageTooLarge):
            jobs.render_raster(files["frames.tif"], "image", 0)
    finally:
        jobs.configure(max_image_pixels=saved)
        jobs.close_documents()
    with pytest.raises(ValueError, match="unknown engine setting"):
        jobs.configure(max_pixel=1)


def test_engine_errors_pickle_as_themselves():
    import pickle
    error = pickle.loads(pickle.dumps(PasswordRequired()))
    assert type(error) is PasswordRequired and error.message == "Document requires a password"
    assert Path(jobs.__file__).name == "jobs.py" and "ping" in jobs.JOBS
