"""The web viewer in a real browser against a real server: what a person sees and can do."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from browser.documents import (BLACK_BOX, ON_LETTER_PAGE, SEARCH_COUNT, SEARCH_WORD, three_page_pdf, word_box)
from browser.helpers import dom_pages, drawn_boxes, ink, open_comparison, open_viewer, screenshot, wait_for_content
from docgen import HELLO, LINK, make_encrypted_pdf, make_pdf_pages, make_png

DOC = three_page_pdf()


@pytest.fixture(scope="module")
def three_pages(api) -> str:
    return api.session(DOC.data, "pdf")


def box(page, selector: str) -> dict:
    element = page.wait_for_selector(selector)
    return element.bounding_box()


def page_scale(page, index: int) -> float:
    """CSS px per PDF point of a page on screen."""
    return box(page, f'.page[data-page="{index}"]')["width"] / DOC.sizes[index][0]


def edge_blur(png: bytes, row: float, x_from: float, x_to: float) -> int:
    """How many pixels along a horizontal line are neither ink nor paper: 0-2 for a sharp edge."""
    image = Image.open(io.BytesIO(png)).convert("L")
    y = int(row)
    return sum(1 for x in range(int(x_from), int(x_to)) if 40 < image.getpixel((x, y)) < 215)


# ---- opening ------------------------------------------------------------------------------------------------

def test_upload_on_the_landing_page_opens_the_viewer(page, server):
    page.goto(server.url + "/")
    screenshot(page, "landing")
    assert page.get_by_label("Choose a file to view").count() == 1
    page.set_input_files("#file-input", files=[{"name": "Quarterly report.pdf", "mimeType": "application/pdf",
                                                "buffer": DOC.data}])
    page.wait_for_url(re.compile(r"/viewer/[A-Za-z0-9_-]+$"))
    page.wait_for_selector('#viewport[data-ready="true"]')
    wait_for_content(page, 0)
    assert page.input_value("#page-input") == "1"
    assert page.text_content("#page-total").strip() == "/ 3"
    assert page.text_content("#doc-title") == "Quarterly report.pdf"
    # the original file comes back under its own name
    href = page.eval_on_selector("#download", "a => a.href")
    assert "ContentDispositionFilename=Quarterly+report" in href or "ContentDispositionFilename=Quarterly%20report" in href
    response = page.request.get(href)
    assert response.status == 200 and response.body() == DOC.data
    assert "Quarterly report.pdf" in response.headers["content-disposition"]
    screenshot(page, "viewer-after-upload")


def test_everything_comes_from_pageturn_itself(page, server, three_pages):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(server.url + "/")
    page.wait_for_load_state("networkidle")
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.wait_for_load_state("networkidle")
    foreign = [url for url in requested if not url.startswith((server.url + "/", "blob:", "data:"))]
    assert foreign == []
    # the bundle when it is built (the browser fixture builds it when the bundler is installed), else the sources
    assert any(url.endswith("/viewer/static/css/viewer.css") or "/viewer/static/dist/viewer.css?v=" in url
               for url in requested)
    assert any(url.endswith("/viewer/static/icons.svg") for url in requested)


def test_an_unrecognised_file_is_refused_with_a_clear_message(page, server):
    page.goto(server.url + "/")
    page.set_input_files("#file-input", files=[{"name": "mystery.bin", "mimeType": "application/octet-stream",
                                                "buffer": b"\x00\x01\x02 not a document " * 40}])
    failure = page.wait_for_selector("#failure:not([hidden])")
    assert "not supported" in failure.text_content()
    assert "Unrecognized File Format" in failure.text_content()
    screenshot(page, "landing-unsupported")
    page.click("#try-again")
    assert page.is_visible("#dropzone")


# ---- pages --------------------------------------------------------------------------------------------------

def test_three_pages_show_at_their_sizes_with_content(page, server, three_pages):
    # every size a page element ever had while it showed content: sizes must be right before content arrives
    page.add_init_script("""
        window.__sizes = [];
        new MutationObserver((records) => {
          for (const r of records) {
            const el = r.target;
            if (!(el instanceof HTMLElement) || !el.classList.contains('page') || !el.dataset.content) continue;
            window.__sizes.push([Number(el.dataset.page), el.style.width, el.style.height]);
          }
        }).observe(document, {subtree: true, attributes: true, attributeFilter: ['style', 'data-content']});
    """)
    open_viewer(page, server.url, three_pages)
    widths = []
    for index, (width, height) in enumerate(DOC.sizes):
        if index:
            page.click("#next-page")
        element = wait_for_content(page, index)
        rect = element.bounding_box()
        assert rect["height"] / rect["width"] == pytest.approx(height / width, rel=0.01)
        widths.append(rect["width"])
        png = element.screenshot()
        assert ink(png) > 0.0005, f"page {index + 1} looks blank"
        assert page.input_value("#page-input") == str(index + 1)
    # one zoom for all pages: widths in the ratio of the page sizes
    assert widths[1] / widths[0] == pytest.approx(612 / 595, rel=0.01)
    assert widths[2] / widths[0] == pytest.approx(842 / 595, rel=0.01)
    for index, width, _ in page.evaluate("window.__sizes"):
        assert abs(float(width.removesuffix("px")) - widths[index]) <= 1, "a page changed size after its content came"

    # the black box is where the document has it, in black
    page.click("#first-page")
    first = wait_for_content(page, 0)
    scale = page_scale(page, 0)
    rect = first.bounding_box()
    x, y, w, h = BLACK_BOX
    shot = page.screenshot(clip={"x": rect["x"] + (x + 10) * scale, "y": rect["y"] + (y + 10) * scale,
                                 "width": (w - 20) * scale, "height": (h - 20) * scale})
    assert ink(shot, 60) > 0.98
    screenshot(page, "three-pages")


def test_scrolling_to_page_three_loads_it(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    assert 2 not in dom_pages(page), "page 3 is far below the view and should not be built yet"
    page.focus("#viewport")
    at_bottom = "(() => { const v = document.querySelector('#viewport'); " \
                "return v.scrollTop + v.clientHeight >= v.scrollHeight - 1; })()"
    page.mouse.move(700, 500)
    for _ in range(40):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(50)
        if page.evaluate(at_bottom):
            break
    element = wait_for_content(page, 2)
    assert ink(element.screenshot()) > 0.0005
    page.wait_for_function("() => document.querySelector('#page-input').value === '3'")
    screenshot(page, "scrolled-to-page-3")


def test_zoom_changes_the_size_and_stays_sharp(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    start = box(page, '.page[data-page="0"]')["width"]
    page.focus("#viewport")
    page.keyboard.press("+")
    page.wait_for_function(f"() => document.querySelector('.page[data-page=\"0\"]').getBoundingClientRect().width > {start + 5}")
    bigger = box(page, '.page[data-page="0"]')["width"]
    assert bigger > start * 1.1
    page.keyboard.press("-")
    page.wait_for_function(f"() => Math.abs(document.querySelector('.page[data-page=\"0\"]').getBoundingClientRect().width - {start}) < 2")

    # ctrl+wheel zooms around the pointer
    page.mouse.move(640, 400)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -300)
    page.keyboard.up("Control")
    page.wait_for_function(f"() => document.querySelector('.page[data-page=\"0\"]').getBoundingClientRect().width > {start * 1.3}")

    # at 400% the black box's edge is still crisp (vector content, not a stretched image)
    page.select_option("#zoom-select", "4")
    page.wait_for_function("() => document.querySelector('#zoom-select').value === '4'")
    scale = page_scale(page, 0)
    assert scale == pytest.approx(4 * 96 / 72, rel=0.01)
    x, y, w, h = BLACK_BOX
    page.evaluate(f"""(() => {{
        const v = document.querySelector('#viewport');
        const r = document.querySelector('.page[data-page="0"]').getBoundingClientRect();
        const vr = v.getBoundingClientRect();
        v.scrollTop += r.top - vr.top + {y * scale} - 200;
        v.scrollLeft += r.left - vr.left + {x * scale} - 200;
    }})()""")
    element = wait_for_content(page, 0)
    page.wait_for_timeout(600)
    rect = element.bounding_box()
    png = page.screenshot()
    row = rect["y"] + (y + h / 2) * scale
    left_edge = rect["x"] + x * scale
    assert 0 < row < 860 and 0 < left_edge < 1280
    assert edge_blur(png, row, left_edge - 12, left_edge + 12) <= 2
    assert page.get_attribute('.page[data-page="0"]', "data-content") == "svg"
    screenshot(page, "zoom-400")
    page.keyboard.press("0")  # back to fit width
    page.wait_for_function("() => document.querySelector('#zoom-select').value === 'fit-width'")


def red_edge_blur(png: bytes, x: float, y: float) -> tuple[int, int]:
    """Along a row through (x, y): how many red pixels, and how many half-red ones (a blurred edge)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    row = [image.getpixel((int(x) + dx, int(y))) for dx in range(-20, 20)]
    reds = sum(1 for r, g, b in row if r > 200 and g < 60)
    blurred = sum(1 for r, g, b in row if r > 200 and 60 <= g <= 200)
    return reds, blurred


def scroll_page_point_to(page, index: int, x: float, y: float, to_x: float = 640, to_y: float = 450) -> None:
    """Scrolls so that CSS point (x, y) of a page sits at viewport point (to_x, to_y)."""
    page.evaluate(f"""(() => {{
        const v = document.querySelector('#viewport');
        const r = document.querySelector('.page[data-page="{index}"]').getBoundingClientRect();
        v.scrollLeft += r.left + {x} - {to_x};
        v.scrollTop += r.top + {y} - {to_y};
    }})()""")


def test_raster_pages_rerender_at_the_zoom(page, server, api):
    # a 2400x1600 image with a red top-left quadrant: at 100% its page is drawn from tiles
    sid = api.session(make_png(2400, 1600), "png")
    open_viewer(page, server.url, sid)
    element = wait_for_content(page, 0)
    assert element.get_attribute("data-content") == "png"
    page.wait_for_selector('.page[data-page="0"] .page-image')
    assert page.locator(".page-tile").count() == 0  # small enough on screen for one image

    page.select_option("#zoom-select", "1")
    page.wait_for_selector('.page[data-page="0"] .page-tile[src]', timeout=30_000)
    width = box(page, '.page[data-page="0"]')["width"]
    assert width == pytest.approx(2400 * 96 / 72, rel=0.01)
    # the red quadrant's right edge, half-way down the quadrant: far from where the view started
    scroll_page_point_to(page, 0, width / 2, width / 3 * 0.5 * 0.75)
    page.wait_for_function("""() => (() => {
        const p = document.querySelector('.page[data-page="0"]');
        const tiles = [...p.querySelectorAll('.page-tile')];
        return tiles.length > 0 && tiles.every(t => t.complete && t.naturalWidth > 0);
    })()""", timeout=30_000)
    page.wait_for_timeout(300)
    # what is drawn at the middle of the view has at least one image pixel per screen pixel
    density = page.evaluate("""(() => {
        const drawn = [...document.querySelectorAll('.page[data-page="0"] .page-tile, .page[data-page="0"] .page-image')]
          .filter(img => { const r = img.getBoundingClientRect();
                           return img.naturalWidth && r.left <= 640 && r.right >= 640 && r.top <= 450 && r.bottom >= 450; })
          .map(img => img.naturalWidth / img.getBoundingClientRect().width);
        return Math.max(0, ...drawn);
    })()""")
    assert density >= 0.95
    reds, blurred = red_edge_blur(page.screenshot(), 640, 450)
    assert 10 < reds < 30, "the edge between red and white should be in the middle of the view"
    assert blurred <= 2, "a blurred edge: the page was not drawn at the zoom"
    screenshot(page, "raster-tiles")


def test_three_hundred_pages_keep_few_elements(page, server, api):
    sid = api.session(make_pdf_pages(300, image=False, lines=4), "pdf")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    assert page.text_content("#page-total").strip() == "/ 300"
    most = len(dom_pages(page))
    total = page.evaluate("document.querySelector('.pages').scrollHeight")
    for step in range(1, 31):
        page.evaluate(f"document.querySelector('#viewport').scrollTop = {total * step / 30}")
        page.wait_for_timeout(40)
        most = max(most, len(dom_pages(page)))
    page.focus("#viewport")
    page.keyboard.press("End")
    wait_for_content(page, 299)
    assert page.input_value("#page-input") == "300"
    for _ in range(12):  # down to the smallest zoom: many pages on screen, still few in the DOM
        page.keyboard.press("-")
    page.wait_for_timeout(300)
    most = max(most, len(dom_pages(page)))
    assert most < 20, f"{most} page elements in the DOM"
    screenshot(page, "three-hundred-pages-zoomed-out")


# ---- text -----------------------------------------------------------------------------------------------------

def test_search_counts_and_highlights_the_word(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.keyboard.press("Control+f")
    assert page.evaluate("document.activeElement.id") == "search-input"
    page.keyboard.type(SEARCH_WORD)
    page.wait_for_function(f"() => document.querySelector('#search-count').textContent === '1 of {SEARCH_COUNT}'")
    # the first hit is on page 2 (letter), drawn over the word
    page_rect, mark = drawn_boxes(page, '.page[data-page="1"]', '.page[data-page="1"] .mark.hit.current')
    scale = page_rect["width"] / 612
    left, top, width, height = word_box(ON_LETTER_PAGE, SEARCH_WORD)
    assert mark["x"] - page_rect["x"] == pytest.approx(left * scale, abs=2 * scale)
    assert mark["width"] == pytest.approx(width * scale, rel=0.1)
    mark_middle = mark["y"] - page_rect["y"] + mark["height"] / 2
    assert top * scale < mark_middle < (top + height) * scale
    assert page.input_value("#page-input") == "2"
    screenshot(page, "search")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#search-count').textContent === '2 of {SEARCH_COUNT}'")
    page.wait_for_selector('.page[data-page="2"] .mark.hit.current')
    assert page.locator('.page[data-page="2"] .mark.hit').count() == 2
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(f"() => document.querySelector('#search-count').textContent === '1 of {SEARCH_COUNT}'")
    page.fill("#search-input", "no such words anywhere")
    page.wait_for_function("() => document.querySelector('#search-count').textContent === 'No matches'")
    page.keyboard.press("Escape")
    assert page.is_hidden("#searchbar")
    assert page.locator(".mark.hit").count() == 0


def test_selecting_and_copying_gives_the_text(page, context, server, three_pages):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_viewer(page, server.url, three_pages)
    element = wait_for_content(page, 0)
    page.wait_for_selector('.page[data-page="0"] .text-layer span')
    rect = element.bounding_box()
    scale = rect["width"] / 595
    y = rect["y"] + (HELLO.baseline - HELLO.size * 0.35) * scale
    page.mouse.move(rect["x"] + (HELLO.left + 1) * scale, y)
    page.mouse.down()
    page.mouse.move(rect["x"] + (HELLO.left + HELLO.width / 2) * scale, y, steps=5)
    page.mouse.move(rect["x"] + (HELLO.left + HELLO.width - 1) * scale, y, steps=5)
    page.mouse.up()
    assert page.evaluate("window.getSelection().toString()") == HELLO.text
    screenshot(page, "selection")
    page.keyboard.press("Control+c")
    assert page.evaluate("navigator.clipboard.readText()") == HELLO.text


def test_the_link_opens_its_address_in_a_new_tab(page, context, server, three_pages):
    context.route("https://example.com/**", lambda route: route.fulfill(body="<title>target</title>",
                                                                         content_type="text/html"))
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    link = page.wait_for_selector('.page[data-page="0"] a.page-link')
    assert link.get_attribute("href") == LINK.href
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    assert link.get_attribute("aria-label")
    scale = page_scale(page, 0)
    page_rect = box(page, '.page[data-page="0"]')
    rect = link.bounding_box()
    lx, ly, lw, lh = LINK.rect
    assert rect["x"] - page_rect["x"] == pytest.approx(lx * scale, abs=3 * scale)
    assert rect["y"] - page_rect["y"] == pytest.approx(ly * scale, abs=3 * scale)
    with context.expect_page() as popup_info:
        link.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == LINK.href
    assert popup.evaluate("window.opener") is None


# ---- navigation, thumbnails, print ----------------------------------------------------------------------------

def test_keyboard_and_thumbnails_move_between_pages(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.focus("#viewport")
    page.keyboard.press("PageDown")
    page.wait_for_function("() => document.querySelector('#page-input').value === '2'")
    page.keyboard.press("End")
    page.wait_for_function("() => document.querySelector('#page-input').value === '3'")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('#page-input').value === '1'")
    page.fill("#page-input", "3")
    page.keyboard.press("Enter")
    wait_for_content(page, 2)
    page.wait_for_function("() => document.querySelector('#page-input').value === '3'")

    thumbs = page.locator("#thumb-list .thumb")
    assert thumbs.count() == 3
    page.wait_for_function("() => [...document.querySelectorAll('#thumb-list img')].every(i => i.complete && i.naturalWidth > 0)")
    page.click('#thumb-list .thumb[data-page="1"]')
    page.wait_for_function("() => document.querySelector('#page-input').value === '2'")
    assert page.get_attribute('#thumb-list .thumb[data-page="1"]', "aria-current") == "page"
    page.click("#toggle-sidebar")
    assert page.is_hidden("#sidebar")


def test_print_renders_every_page_for_the_printer(page, server, three_pages):
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.wait_for_selector("#print:not([disabled])")
    page.click("#print")
    page.wait_for_function("() => window.__printed === 1", timeout=30_000)
    images = page.eval_on_selector_all("#print-root img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert len(images) == 3
    for (width, height), (w, h) in zip(images, DOC.sizes):
        assert width > 0 and width / height == pytest.approx(w / h, rel=0.02)
    assert page.get_attribute("#print-root .print-page:nth-child(3)", "class").split()[-1] == "landscape"
    page.emulate_media(media="print")
    assert page.is_hidden("#app") and page.is_visible("#print-root img")


# ---- errors ---------------------------------------------------------------------------------------------------

def test_a_protected_pdf_asks_for_its_password(page, server, api):
    sid = api.session(make_encrypted_pdf("secret"), "pdf")
    open_viewer(page, server.url, sid, ready=False)
    dialog = page.wait_for_selector("#password-dialog[open]")
    assert page.is_hidden("#password-error")
    screenshot(page, "password")
    page.fill("#password-input", "wrong guess")
    page.click("#password-submit")
    page.wait_for_url(re.compile(r"attempt=1"))
    page.wait_for_selector("#password-dialog[open]")
    assert page.is_visible("#password-error")
    page.fill("#password-input", "secret")
    page.click("#password-submit")
    page.wait_for_url(re.compile(r"attempt=2"))
    page.wait_for_selector('#viewport[data-ready="true"]')
    wait_for_content(page, 0)
    page.wait_for_selector('.page[data-page="0"] .text-layer')
    assert HELLO.text in page.text_content('.page[data-page="0"] .text-layer')
    assert dialog  # the first prompt was shown


def test_a_stopped_session_shows_its_message(page, server, api):
    sid = api.session(DOC.data, "pdf")
    api.stop(sid, 418, "My custom end user error message")
    open_viewer(page, server.url, sid, ready=False)
    notice = page.wait_for_selector("#notice.error")
    assert "My custom end user error message" in notice.text_content()
    screenshot(page, "stopped-session")


def test_a_session_stopped_while_reading_shows_its_message(page, server, api):
    sid = api.session(make_pdf_pages(12, image=False, lines=4), "pdf")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    api.stop(sid, 504, "Reading time is over for today")
    page.focus("#viewport")
    page.keyboard.press("End")
    notice = page.wait_for_selector("#notice.error")
    assert "Reading time is over for today" in notice.text_content()


def test_a_deleted_session_says_it_has_expired(page, server, api):
    sid = api.session(DOC.data, "pdf", body={"serverCaching": "none"})
    assert api.http.delete(f"{server.url}/PCCIS/V1/ViewingSession/u{sid}").status_code == 204
    open_viewer(page, server.url, sid, ready=False)
    notice = page.wait_for_selector("#notice.error")
    assert "The session is invalid or has expired" in notice.text_content()


def test_an_unknown_session_says_so(page, server):
    open_viewer(page, server.url, "doesNotExist123", ready=False)
    notice = page.wait_for_selector("#notice.error")
    assert notice.text_content().strip()


# ---- small screens and accessibility ------------------------------------------------------------------------

def test_usable_at_phone_width_with_named_controls(browser, server, three_pages):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        element = wait_for_content(page, 0)
        assert element.bounding_box()["width"] <= 390
        assert page.is_hidden("#sidebar")
        overflow = page.evaluate("(() => { const t = document.querySelector('.toolbar'); return t.scrollWidth - t.clientWidth; })()")
        assert overflow <= 0
        unnamed = page.evaluate("""[...document.querySelectorAll('button, a[href], input, select')]
            .filter(el => el.offsetParent !== null)
            .filter(el => !(el.getAttribute('aria-label') || (el.labels && el.labels.length) || el.textContent.trim()))
            .map(el => el.outerHTML.slice(0, 80))""")
        assert unnamed == []
        screenshot(page, "phone")
    finally:
        context.close()


# ---- conversions, comparison, embedding, permissions ----------------------------------------------------------

def test_an_office_document_shows_its_conversion_then_its_pages(page, server, tmp_path):
    from officegen import long_docx

    path = tmp_path / "long.docx"
    long_docx(path, 120)
    page.goto(server.url + "/")
    page.set_input_files("#file-input", files=[{"name": "long.docx", "mimeType": "application/octet-stream",
                                                "buffer": path.read_bytes()}])
    page.wait_for_url(re.compile(r"/viewer/"))
    seen: set[str] = set()
    for _ in range(1200):  # while LibreOffice works, the viewer says so and the count is marked unsure
        seen.add(page.evaluate("""(() => {
            const n = document.querySelector('#notice');
            return (n.hidden ? '' : n.querySelector('.notice-title').textContent) + '|' +
                   document.querySelector('#page-total').textContent; })()"""))
        if page.query_selector('.page[data-page="0"][data-content]'):
            break
        page.wait_for_timeout(100)
    wait_for_content(page, 0, timeout=120_000)
    assert any(s.startswith("Converting document") for s in seen), seen
    page.wait_for_function("() => /^\\/ \\d+$/.test(document.querySelector('#page-total').textContent)")
    total = int(page.text_content("#page-total").split()[-1])
    assert total > 20
    page.focus("#viewport")
    page.keyboard.press("End")
    wait_for_content(page, total - 1, timeout=60_000)
    screenshot(page, "office-document")


def test_compare_mode_lists_changes_and_highlights_them(page, server, api):
    sid = open_comparison(page, server.url)
    item = page.wait_for_selector("#compare-panel .change-item", timeout=120_000)
    assert page.is_visible("#compare-panel")
    assert "Inserted" in item.text_content() and "red" in item.text_content()
    page.wait_for_function("() => document.querySelector('.change-status').textContent === '1 change'")
    wait_for_content(page, 0)
    page.focus("#viewport")
    page.keyboard.press("n")
    mark = page.wait_for_selector('.page[data-page="0"] .mark.change')
    assert item.get_attribute("aria-current") == "true"
    change = api.http.get(f"{server.url}/v2/viewingSessions/{sid}/revisionData").json()["changes"][0]
    rect = change["rectangles"][0]
    page_rect = box(page, '.page[data-page="0"]')
    units = page.evaluate("pageturnViewer.view.layout.sizeOf(0).width")
    scale = page_rect["width"] / units
    shown = mark.bounding_box()
    assert shown["x"] - page_rect["x"] == pytest.approx(rect["x"] * scale, abs=2)
    assert shown["y"] - page_rect["y"] == pytest.approx(rect["y"] * scale, abs=2)
    assert shown["width"] == pytest.approx(rect["width"] * scale, abs=2)
    screenshot(page, "compare")
    page.click("#toggle-changes")
    assert page.is_hidden("#compare-panel")


@pytest.fixture(scope="module")
def embedder():
    """Another site (a port of its own on 127.0.0.1) whose page frames the URL given in its query."""
    import html
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            url = parse_qs(urlparse(self.path).query).get("frame", [""])[0]
            body = (f'<iframe id="v" src="{html.escape(url)}" style="width:700px;height:600px;border:0"></iframe>'
                    '<input id="host-field">').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _embed(page, site: str, viewer_url: str) -> None:
    from urllib.parse import quote
    page.goto(f"{site}/?frame={quote(viewer_url, safe='')}")


def test_the_viewer_works_inside_an_iframe(page, make_server, embedder):
    """frame_ancestors names the sites that may embed the viewer."""
    from browser.helpers import Api
    server = make_server(frame_ancestors=f"'self' {embedder}", office_enabled="false", render_workers=1)
    sid = Api(server.url).session(DOC.data, "pdf")
    _embed(page, embedder, f"{server.url}/viewer/{sid}")
    page.focus("#host-field")
    frame = page.frame_locator("#v")
    frame.locator('.page[data-page="0"][data-content]').wait_for()
    assert page.evaluate("document.activeElement.id") == "host-field", "the viewer must not steal focus"
    frame.locator("#next-page").click()
    frame.locator("#page-input").wait_for()
    page.wait_for_timeout(300)
    assert frame.locator("#page-input").input_value() == "2"


def test_a_site_not_named_in_frame_ancestors_cannot_embed_the_viewer(page, server, three_pages, embedder):
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        _embed(page, embedder, f"{server.url}/viewer/{three_pages}")
    assert page.frame_locator("#v").locator("#viewport").count() == 0


def test_a_hostile_document_name_leaves_the_page_intact(page, server, api):
    name = '<!--<script>window.__pwned = 1</script> </script><script>window.__pwned = 2</script>'
    sid = api.session(DOC.data, "pdf", body={"attachmentDisplayName": name})
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    assert page.text_content("#doc-title") == name
    assert page.evaluate("window.__pwned") is None


def test_permissions_given_at_session_creation_are_honoured(page, make_server):
    import json

    import requests

    server = make_server(zoho_api_keys="viewer-test-key")
    r = requests.post(server.url + "/writer/officeapi/v1/document/preview", params={"apikey": "viewer-test-key"},
                      files={"document": ("memo.pdf", DOC.data, "application/pdf")},
                      data={"permissions": json.dumps({"document.print": False, "document.export": False})})
    assert r.status_code == 200, r.text
    page.add_init_script("window.print = () => { window.__printed = true; };")
    page.goto(r.json()["preview_url"])
    page.wait_for_selector('#viewport[data-ready="true"]')
    wait_for_content(page, 0)
    assert page.query_selector("#print") is None and page.query_selector("#download") is None
    page.focus("#viewport")
    page.keyboard.press("Control+p")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__printed") is None
    assert page.locator("#print-root img").count() == 0


def test_text_boxes_line_up_after_characters_outside_the_bmp(page, server):
    """The Text API counts code points, JS strings count UTF-16 units: boxes after an emoji must not shift."""
    page.goto(server.url + "/")
    boxes = page.evaluate("""async () => {
        const { parsePageText } = await import('/viewer/static/js/text-store.js');
        const parsed = parsePageText(0, {text: "a😀b", width: 100, height: 100,
                                         rectangles: [[0, 0, 5, 10], [5, 0, 12, 10], [17, 0, 6, 10]]});
        return Array.from(parsed.rects);
    }""")
    assert boxes[0:4] == [0, 0, 5, 10]
    assert boxes[4:8] == [5, 0, 12, 10]       # the emoji's high surrogate
    assert boxes[8:12] == [17, 0, 0, 10]      # its low surrogate: zero width at its right edge
    assert boxes[12:16] == [17, 0, 6, 10]     # "b" keeps its own box


def test_long_documents_print_at_a_lower_resolution(page, server):
    page.goto(server.url + "/")
    dpis = page.evaluate("""async () => {
        const { printDpi } = await import('/viewer/static/js/print.js');
        return [printDpi(3), printDpi(100), printDpi(400), printDpi(5000)];
    }""")
    assert dpis == [150, 150, 75, 72]
