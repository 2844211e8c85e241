"""The fast PNG writer (engines.png): every page it writes decodes to exactly the pixels Pillow's writer keeps."""
from __future__ import annotations

import io

import pytest
from PIL import Image

import docgen
from pageturn.engines import jobs, pdf, png, raster


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pillow_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def colour_type(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return data[25]


def same_pixels(a: bytes, b: bytes) -> bool:
    first, second = decoded(a), decoded(b)
    mode = "RGBA" if "A" in first.mode + second.mode else "RGB"
    return first.size == second.size and first.convert(mode).tobytes() == second.convert(mode).tobytes()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    directory = tmp_path_factory.mktemp("png")
    text_only = directory / "text.pdf"
    text_only.write_bytes(docgen.make_text_only_pdf(2))
    mixed = directory / "mixed.pdf"
    mixed.write_bytes(docgen.make_pdf_pages(2))
    return str(text_only), str(mixed)


def drawn(path: str, page: int) -> Image.Image:
    """The page as the PDF engine draws it, before any encoding (RGB)."""
    width, height = pdf.page_size(path, page)
    return pdf.render(path, page, raster.plan(width, height, dpi=150))


def test_a_grey_page_is_written_greyscale_with_the_same_pixels(pages):
    text_only, _ = pages
    data = jobs.render_raster(text_only, "pdf", 1, dpi=150)
    bare = drawn(text_only, 1)
    assert colour_type(data) == 0
    assert decoded(data).convert("RGB").tobytes() == bare.convert("RGB").tobytes()
    assert same_pixels(data, pillow_png(bare))


def test_a_colour_page_stays_rgb_with_the_same_pixels(pages):
    _, mixed = pages
    data = jobs.render_raster(mixed, "pdf", 0, dpi=150)
    bare = drawn(mixed, 0)
    assert colour_type(data) == 2
    assert decoded(data).tobytes() == bare.convert("RGB").tobytes()


@pytest.mark.parametrize("request_args", [
    {"dpi": 150, "scale": 0.5, "tile": (100, 200, 256, 256)},   # a tile crossing text and the photo
    {"fit": (200, 200)},                                          # a thumbnail
    {"dpi": 72, "watermarks": [{"type": "text", "text": "DRAFT", "color": "red", "opacity": 0.5}]},
    {"dpi": 72, "watermarks": [{"type": "text", "text": "DRAFT", "color": "#808080", "opacity": 1}]},
])
def test_tiles_thumbnails_and_watermarks_decode_to_pillows_pixels(pages, request_args):
    for path in pages:
        image = jobs.render_raster(path, "pdf", 0, **request_args)
        reference = decoded(image).convert("RGB")  # what Pillow would have been given: re-encode it with Pillow
        assert same_pixels(image, pillow_png(reference))


def test_a_red_watermark_makes_a_grey_page_colour(pages):
    text_only, _ = pages
    marked = jobs.render_raster(text_only, "pdf", 0, dpi=72,
                                watermarks=[{"type": "text", "text": "DRAFT", "color": "red", "opacity": 0.5}])
    assert colour_type(marked) == 2
    assert colour_type(jobs.render_raster(text_only, "pdf", 0, dpi=72)) == 0


def test_one_coloured_pixel_keeps_a_page_rgb():
    image = Image.new("RGB", (300, 200), (255, 255, 255))
    image.putpixel((299, 199), (10, 10, 11))
    data = png.encode(image, 1)
    assert colour_type(data) == 2 and decoded(data).tobytes() == image.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "1", "LA", "I;16"])
def test_every_image_mode_round_trips(mode):
    source = docgen.make_png(64, 48, mode="RGB") if mode != "I;16" else None
    image = decoded(source).convert(mode) if source else Image.new("I;16", (64, 48), 1234)
    for level in (0, 1, 2, 3, 6, 9):
        data = png.encode(image, level)
        assert decoded(data).size == image.size
        assert same_pixels(data, pillow_png(image)), (mode, level)


def test_levels_outside_the_fast_range_use_pillow_byte_for_byte():
    image = decoded(docgen.make_png(64, 48))
    for level in (0, 6, 9):
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=level)
        assert png.encode(image, level) == out.getvalue()


def test_odd_sizes_and_one_pixel_images():
    for size in [(1, 1), (1, 7), (7, 1), (333, 2)]:
        for mode, colour in (("RGB", (1, 2, 3)), ("RGB", (9, 9, 9)), ("L", 77)):
            image = Image.new(mode, size, colour)
            assert same_pixels(png.encode(image, 1), pillow_png(image))


def test_raster_encode_uses_the_configured_level():
    image = Image.new("RGB", (40, 40), (200, 10, 10))
    saved = raster.LIMITS.png_compress_level
    try:
        raster.configure(png_compress_level=9)
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=9)
        assert raster.encode(image, "png") == out.getvalue()
        raster.configure(png_compress_level=1)
        assert raster.encode(image, "png") == png.fast_png(image, 1)
    finally:
        raster.LIMITS.png_compress_level = saved
