"""The viewer for everyone (issue 18): axe-core finds no violation of any impact on every screen, every
control works from the keyboard, the whole text is in the accessibility tree, phones and forced colours."""
from __future__ import annotations

import re

import pytest

from browser.a11y import accessible_nodes, accessible_text, axe_violations
from browser.documents import three_page_pdf
from browser.helpers import open_comparison, open_viewer, screenshot, wait_for_content
from docgen import make_pdf_pages

DOC = three_page_pdf()


@pytest.fixture(scope="module")
def three_pages(api) -> str:
    return api.session(DOC.data, "pdf")


def assert_no_violations(page, where: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe on {where}: {violations}"


def test_axe_finds_nothing_on_the_pdf_viewer(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    assert_no_violations(page, "the PDF viewer")


def focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.className || document.activeElement.tagName")


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Presses Tab until the element has focus (a keyboard-only path), failing if it never gets it."""
    for _ in range(limit):
        if page.evaluate("document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}; focus is on {focused(page)}")


# ---- axe-core: no violation of any impact -------------------------------------------------------------------

def test_axe_finds_nothing_on_the_landing_page(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#file-input")
    assert_no_violations(page, "the landing page")


def test_axe_finds_nothing_with_search_open(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.keyboard.press("Control+f")
    page.keyboard.type("marmalade")
    page.wait_for_function("() => /of 3/.test(document.querySelector('#search-count').textContent)")
    assert_no_violations(page, "the viewer with search open")


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_axe_finds_nothing_in_either_colour_scheme_with_thumbnails(browser, server, three_pages, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme=scheme)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        wait_for_content(page, 0)
        page.wait_for_selector("#thumb-list .thumb")
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        assert_no_violations(page, f"the viewer in {scheme} mode")
        screenshot(page, f"a11y-{scheme}")
    finally:
        context.close()


def test_axe_finds_nothing_on_a_phone(browser, server, three_pages):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True,
                                  is_mobile=True)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        wait_for_content(page, 0)
        assert_no_violations(page, "the viewer at 390 px")
        page.click("#more-actions")
        page.wait_for_selector("#more-menu .menu-item")
        assert_no_violations(page, "the viewer at 390 px with the menu open")
    finally:
        context.close()


def test_axe_finds_nothing_on_office_documents(page, server, api, tmp_path):
    from officegen import docx_pages, xlsx_sheets

    docx, xlsx = tmp_path / "a.docx", tmp_path / "b.xlsx"
    docx_pages(docx, 3, tables=True)
    xlsx_sheets(xlsx)
    for path, ext in ((docx, "docx"), (xlsx, "xlsx")):
        sid = api.session(path.read_bytes(), ext)
        open_viewer(page, server.url, sid)
        wait_for_content(page, 0, timeout=120_000)
        page.wait_for_selector('#a11y-text section[data-page="0"][data-loaded]', timeout=60_000)
        assert_no_violations(page, f"the viewer on a {ext}")


# ---- the whole text, for screen readers ---------------------------------------------------------------------

def test_the_whole_text_of_thirty_pages_is_in_the_accessibility_tree(page, server, api):
    sid = api.session(make_pdf_pages(30, image=False, lines=3), "pdf")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    page.wait_for_function("() => document.querySelectorAll('#a11y-text section[data-loaded]').length === 30",
                           timeout=60_000)
    assert len(page.query_selector_all(".page")) < 30  # the images are only there near the view
    text = accessible_text(page)
    for number in range(1, 31):
        assert f"Page {number} of 30" in text  # a heading per page, to jump by
    # each page's text, one line per element, words whole and in reading order
    lines = page.eval_on_selector_all('#a11y-text section[data-page="29"] p', "ps => ps.map(p => p.textContent)")
    assert lines[0] == "Page 30" and len(lines) == 4
    assert all(len(line.split()) >= 14 for line in lines[1:])
    for line in lines:
        assert line in text
    # the visible word-per-span layer is for selection only
    assert page.evaluate("[...document.querySelectorAll('.text-layer')].every(l => l.getAttribute('aria-hidden') === 'true')")
    assert_no_violations(page, "a 30-page document")


# ---- keyboard -----------------------------------------------------------------------------------------------

def test_skip_link_then_one_tab_stop_for_the_toolbar_with_arrows_inside(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.focus("#toggle-sidebar")
    page.keyboard.press("Shift+Tab")  # the skip link is the first stop of the page
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'viewport'")
    # the toolbar is one stop: Tab enters it once, arrows move inside, Tab leaves it
    page.evaluate("document.querySelector('.skip-link').focus()")
    page.keyboard.press("Tab")
    assert focused(page) == "toggle-sidebar"
    seen = ["toggle-sidebar"]
    for _ in range(12):
        page.keyboard.press("ArrowRight")
        seen.append(focused(page))
        if seen[-1] == "toggle-sidebar":
            break
    # previous/first are disabled on page 1 and skipped; the page box and zoom list are reachable
    for control in ("next-page", "page-input", "zoom-out", "zoom-select", "zoom-in", "fit-width", "fit-page",
                    "toggle-search", "print", "download"):
        assert control in seen, seen
    assert "prev-page" not in seen
    page.keyboard.press("End")
    assert focused(page) == "download"
    page.keyboard.press("Home")
    assert focused(page) == "toggle-sidebar"
    tab_stops = page.evaluate("""[...document.querySelectorAll('#tool-row button, #tool-row a[href], #tool-row input, #tool-row select')]
        .filter(el => el.tabIndex >= 0 && el.getClientRects().length && !el.disabled).map(el => el.id)""")
    assert tab_stops == ["toggle-sidebar"]
    page.keyboard.press("Tab")
    assert not page.evaluate("document.querySelector('#tool-row').contains(document.activeElement)")


def test_focus_stays_on_a_neighbour_when_the_pressed_button_becomes_disabled(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.focus("#toggle-sidebar")
    page.keyboard.press("ArrowRight")
    assert focused(page) == "page-input"  # first and previous are disabled on page 1
    page.keyboard.press("ArrowRight")
    assert focused(page) == "next-page"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#page-input').value === '2'")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#page-input').value === '3'")
    page.wait_for_function("() => document.querySelector('#next-page').disabled")
    page.wait_for_function("() => document.activeElement !== document.body")
    assert page.evaluate("document.querySelector('#tool-row').contains(document.activeElement)")
    assert focused(page) in ("page-input", "prev-page", "last-page")
    # the same for Previous at page 1
    page.focus("#prev-page")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#page-input').value === '1'")
    page.wait_for_function("() => document.querySelector('#prev-page').disabled && document.activeElement !== document.body")


def test_escape_closes_each_panel_and_focus_returns_to_its_opener(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.focus("#toggle-sidebar")
    assert page.is_visible("#sidebar")
    page.keyboard.press("Enter")  # closes the thumbnails
    assert page.is_hidden("#sidebar")
    page.keyboard.press("Enter")  # and opens them again
    assert page.is_visible("#sidebar")
    # thumbnails: one stop (the current page), arrows inside, Enter chooses
    page.keyboard.press("Tab")  # out of the toolbar: the next stop is the current thumbnail
    assert page.evaluate("document.activeElement.classList.contains('thumb')")
    assert page.evaluate("document.activeElement.dataset.page") == "0"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.page") == "1"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.dataset.page") == "2"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#page-input').value === '3'")
    stops = page.evaluate("[...document.querySelectorAll('#thumb-list .thumb')].filter(t => t.tabIndex === 0).length")
    assert stops == 1
    page.keyboard.press("Escape")
    assert page.is_hidden("#sidebar")
    assert focused(page) == "toggle-sidebar"
    # search opened from its button goes back to it
    page.focus("#toolbar #toggle-search")
    page.keyboard.press("Enter")
    assert focused(page) == "search-input"
    page.keyboard.press("Escape")
    assert page.is_hidden("#searchbar")
    assert focused(page) == "toggle-search"


def test_page_changes_and_zoom_are_announced_and_a_bad_page_number_is_explained(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    assert page.evaluate("document.querySelector('#page-input').getAttribute('aria-describedby')") == "page-total-text page-error"
    assert page.text_content("#page-total-text") == "of 3 pages"
    page.focus("#viewport")
    page.keyboard.press("PageDown")
    page.wait_for_function("() => document.querySelector('#announcer').textContent === 'Page 2 of 3'")
    page.keyboard.press("+")
    page.wait_for_function("() => /^Zoom \\d+%$/.test(document.querySelector('#announcer').textContent)")
    page.fill("#page-input", "45")
    page.keyboard.press("Enter")
    error = page.wait_for_selector("#page-error:not(:empty)")
    assert "no page “45”" in error.text_content() and "3 pages" in error.text_content()
    assert page.get_attribute("#page-input", "aria-invalid") == "true"
    assert focused(page) == "page-input"
    page.fill("#page-input", "3")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#announcer').textContent === 'Page 3 of 3'")
    assert page.get_attribute("#page-input", "aria-invalid") is None
    assert page.text_content("#page-error") == ""


def growing_docx(path, pages: int, recorded: int) -> None:
    """A docx of `pages` pages whose docProps/app.xml records `recorded`: the viewer shows that estimate first."""
    import zipfile

    from officegen import docx_pages

    plain = path.with_suffix(".plain.docx")
    docx_pages(plain, pages)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/app.xml":
                data = re.sub(rb"<Pages>\d+</Pages>", b"<Pages>%d</Pages>" % recorded, data)
            target.writestr(item, data)


def test_the_page_total_is_announced_when_a_converting_document_grows(page, server, api, tmp_path):
    path = tmp_path / "growing.docx"
    growing_docx(path, 30, 12)
    page.add_init_script("""
        window.__said = [];
        new MutationObserver(() => {
          const text = document.querySelector('#announcer')?.textContent;
          if (text) window.__said.push(text);
        }).observe(document, {subtree: true, childList: true, characterData: true});
    """)
    # converted only once the viewer asks: the file's own count (12) is what is known first
    sid = api.session(path.read_bytes(), "docx", body={"startConverting": "none"}, start=False)
    page.goto(f"{server.url}/viewer/{sid}")
    page.wait_for_function("() => document.querySelector('#page-total').textContent === '/ 12+'")
    assert page.text_content("#page-total-text") == "of 12 or more pages"
    # tied to the page-number box, and the new total reaches the polite live region
    assert "page-total-text" in page.get_attribute("#page-input", "aria-describedby").split()
    assert page.get_attribute("#announcer", "aria-live") == "polite"
    page.wait_for_function("() => window.__said.includes('Page 1 of 30 pages')", timeout=120_000)
    assert page.text_content("#page-total-text") == "of 30 pages"
    assert not any("of 12" in said for said in page.evaluate("window.__said"))  # the first total is not news


def test_single_key_shortcuts_act_only_in_the_document(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    start = page.evaluate("pageturnViewer.view.zoom")
    page.focus("#toggle-search")
    page.keyboard.press("+")
    page.keyboard.press("0")
    assert page.evaluate("pageturnViewer.view.zoom") == start
    page.focus("#viewport")
    page.keyboard.press("+")
    page.wait_for_function(f"() => pageturnViewer.view.zoom > {start}")
    # Ctrl-combinations act anywhere
    page.focus("#toggle-search")
    page.keyboard.press("Control+0")
    page.wait_for_function("() => document.querySelector('#zoom-select').value === 'fit-width'")


def test_the_title_is_the_page_heading_inside_a_banner(page, server):
    page.goto(server.url + "/")
    page.set_input_files("#file-input", files=[{"name": "Annual report.pdf", "mimeType": "application/pdf",
                                                "buffer": DOC.data}])
    page.wait_for_selector('#viewport[data-ready="true"]')
    assert page.text_content("h1") == "Annual report.pdf"
    assert page.evaluate("document.querySelector('header').contains(document.querySelector('h1'))")
    roles = page.evaluate("""(() => { const h = document.querySelector('header'); return [h.getAttribute('role'),
        h.closest('main, aside, nav, section, article') === null]; })()""")
    assert roles == [None, True]  # a <header> outside sectioning content is the banner landmark


def titled_pdf(title: str) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle(title)
    pdf.drawString(72, 720, "A document with a title of its own")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_without_a_name_the_pdf_title_is_the_heading_and_the_tab_title(page, server, api):
    sid = api.session(titled_pdf("Quarterly figures <2026>"), "pdf")
    open_viewer(page, server.url, sid)
    page.wait_for_function("() => document.querySelector('h1').textContent === 'Quarterly figures <2026>'")
    assert page.title() == "Quarterly figures <2026> – pageturn"
    # a name the application gave wins over the document's own title
    r = api.http.post(f"{server.url}/PCCIS/V1/ViewingSession", json={"attachmentDisplayName": "given.pdf"})
    named = r.json()["viewingSessionId"]
    assert api.http.put(f"{server.url}/PCCIS/V1/ViewingSession/u{named}/SourceFile", data=titled_pdf("Own title"),
                        params={"FileExtension": "pdf"}).ok
    open_viewer(page, server.url, named)
    assert page.text_content("h1") == "given.pdf"


def test_without_a_name_an_office_documents_core_title_is_the_heading(page, server, api, tmp_path):
    import docx

    document = docx.Document()
    document.core_properties.title = "Minutes of the board"
    document.add_paragraph("Present: everyone")
    path = tmp_path / "minutes.docx"
    document.save(str(path))
    # converted while the viewer is open: the title comes with the document's attributes once it is done
    sid = api.session(path.read_bytes(), "docx", body={"startConverting": "none"}, start=False)
    page.goto(f"{server.url}/viewer/{sid}")
    wait_for_content(page, 0, timeout=120_000)
    page.wait_for_function("() => document.querySelector('h1').textContent === 'Minutes of the board'")
    assert page.title() == "Minutes of the board – pageturn"
    assert ("heading", "Minutes of the board") in accessible_nodes(page)


# ---- phones -------------------------------------------------------------------------------------------------

PHONE_ACTIONS = ["toggle-sidebar", "first-page", "prev-page", "page-input", "next-page", "last-page", "zoom-out",
                 "zoom-in", "fit-width", "fit-page", "toggle-search", "print", "download"]


def test_at_320_px_every_toolbar_action_is_reachable(browser, server, three_pages):
    context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=2, has_touch=True)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        wait_for_content(page, 0)
        overflow = page.evaluate("(() => { const t = document.querySelector('.toolbar'); return t.scrollWidth - t.clientWidth; })()")
        assert overflow <= 0
        visible = page.evaluate("""ids => ids.filter(id => { const el = document.getElementById(id);
            if (!el || !el.getClientRects().length) return false;
            const r = el.getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; })""", PHONE_ACTIONS)
        page.click("#more-actions")
        page.wait_for_selector("#more-menu .menu-item")
        in_menu = page.eval_on_selector_all("#more-menu .menu-item", "items => items.map(i => i.dataset.for)")
        assert set(visible) | set(in_menu) == set(PHONE_ACTIONS), (visible, in_menu)
        assert page.text_content("#zoom-level").endswith("%")  # the zoom level shows at every width
        screenshot(page, "phone-320-menu")
        # the menu works from the keyboard and its items act: Fit page, then the menu closes
        assert focused(page) == "menu-item"
        page.keyboard.press("Escape")
        assert page.is_hidden("#more-menu") and focused(page) == "more-actions"
        page.keyboard.press("ArrowDown")
        page.wait_for_selector("#more-menu:not([hidden])")
        page.click('#more-menu .menu-item[data-for="last-page"]')
        page.wait_for_function("() => document.querySelector('#page-input').value === '3'")
        assert page.is_hidden("#more-menu")
        # the thumbnails cover the page on a phone: they close after a choice and on a tap outside
        page.click("#toggle-sidebar")
        page.click('#thumb-list .thumb[data-page="0"]')
        page.wait_for_function("() => document.querySelector('#page-input').value === '1'")
        assert page.is_hidden("#sidebar")
        page.click("#toggle-sidebar")
        page.mouse.click(300, 400)
        assert page.is_hidden("#sidebar")
        # on a phone the page fills the width, so its text is readable
        assert page.evaluate("pageturnViewer.view.zoomMode") == "fit-width"
    finally:
        context.close()


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i, "radiusX": 2, "radiusY": 2, "force": 1} for i, (x, y) in enumerate(points)]})


def test_pinch_and_double_tap_zoom_the_document_not_the_page(browser, server, three_pages):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=True,
                                  is_mobile=True)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        wait_for_content(page, 0)
        start = page.evaluate("pageturnViewer.view.zoom")
        toolbar = page.locator("#toolbar").bounding_box()
        width = page.locator('.page[data-page="0"]').bounding_box()["width"]
        cdp = context.new_cdp_session(page)
        touch(cdp, "touchStart", [(150, 400), (240, 400)])
        for step in range(1, 9):
            touch(cdp, "touchMove", [(150 - step * 10, 400), (240 + step * 10, 400)])
        touch(cdp, "touchEnd", [])
        page.wait_for_function(f"() => pageturnViewer.view.zoom > {start * 1.5}")
        assert page.evaluate("visualViewport.scale") == 1  # the browser's view did not zoom
        assert page.locator("#toolbar").bounding_box() == toolbar
        page.wait_for_function(f"() => document.querySelector('.page[data-page=\"0\"]').getBoundingClientRect().width > {width * 1.5}")
        # the page is drawn again at its new size (vector content: sharp at any scale)
        page.wait_for_selector('.page[data-page="0"][data-content="svg"]')
        screenshot(page, "phone-pinched")
        # a double tap goes back to the page width
        for _ in range(2):
            touch(cdp, "touchStart", [(200, 500)])
            touch(cdp, "touchEnd", [])
        page.wait_for_function("() => pageturnViewer.view.zoomMode === 'fit-width'")
        zoom = page.evaluate("pageturnViewer.view.zoom")
        for _ in range(2):
            touch(cdp, "touchStart", [(200, 500)])
            touch(cdp, "touchEnd", [])
        page.wait_for_function(f"() => pageturnViewer.view.zoom > {zoom * 1.9}")
        cdp.detach()
    finally:
        context.close()


# ---- focus ring and forced colours --------------------------------------------------------------------------

def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def luminance(rgb):
        def channel(c):
            c = c / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b_ = (channel(c) for c in rgb[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


RGB = """s => s.match(/[\\d.]+/g).slice(0, 3).map(Number)"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_focus_ring_is_a_solid_outline_of_at_least_3_to_1(browser, server, three_pages, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme=scheme)
    try:
        page = context.new_page()
        open_viewer(page, server.url, three_pages)
        wait_for_content(page, 0)
        page.focus("#toggle-sidebar")
        page.keyboard.press("ArrowRight")  # keyboard focus: :focus-visible
        style = page.evaluate("""(() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,
                    getComputedStyle(document.querySelector('.toolbar')).backgroundColor]; })()""")
        outline_style, outline_width, colour, background = style
        assert outline_style == "solid" and outline_width >= 2
        ring = page.evaluate(f"({RGB})({colour!r})")
        surface = page.evaluate(f"({RGB})({background!r})")
        assert contrast(ring, surface) >= 3, (scheme, ring, surface)
        assert contrast(ring, (255, 255, 255)) >= 3 or scheme == "dark"
    finally:
        context.close()


def test_forced_colours_keep_focus_page_edges_and_state_visible(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    page.wait_for_selector('#thumb-list .thumb[aria-current="page"]')
    page.emulate_media(forced_colors="active")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    page.focus("#toggle-sidebar")
    page.keyboard.press("ArrowRight")
    focus_style = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()")
    assert focus_style == ["solid", "2px"]
    rect = page.locator("#page-input").bounding_box()
    around = {"x": rect["x"] - 6, "y": rect["y"] - 6, "width": rect["width"] + 12, "height": rect["height"] + 12}
    with_ring = page.screenshot(clip=around)
    page.evaluate("document.activeElement.blur()")
    without_ring = page.screenshot(clip=around)
    assert with_ring != without_ring  # the outline survives forced colours
    page_edge = page.evaluate("getComputedStyle(document.querySelector('.page')).outlineStyle")
    current_thumb = page.evaluate("getComputedStyle(document.querySelector('.thumb[aria-current=\"page\"] .thumb-frame')).outlineStyle")
    pressed = page.evaluate("(() => { const s = getComputedStyle(document.querySelector('#toggle-sidebar')); return [s.backgroundColor, s.forcedColorAdjust]; })()")
    assert page_edge == "solid" and current_thumb == "solid"
    assert pressed[1] == "none" and pressed[0] not in ("rgba(0, 0, 0, 0)", "transparent")
    screenshot(page, "forced-colours")
    page.emulate_media(forced_colors="none")


# ---- comparison ---------------------------------------------------------------------------------------------

def test_comparison_viewer_with_its_panel_open(page, server, api):
    open_comparison(page, server.url)
    page.wait_for_selector("#compare-panel .change-item", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.change-status').textContent === '1 change'")
    wait_for_content(page, 0)
    # inserted text is marked as an insertion, not only coloured
    assert page.text_content("#compare-panel .change-item ins") .strip() != ""
    assert_no_violations(page, "the comparison viewer with its panel open")
    # the list is one tab stop; n in the document selects and announces the change
    assert page.evaluate("[...document.querySelectorAll('.change-item')].filter(b => b.tabIndex === 0).length") == 1
    page.focus("#viewport")
    page.keyboard.press("n")
    page.wait_for_function("() => document.querySelector('#announcer').textContent.startsWith('Change 1 of 1: Inserted, page 1')")
    # the panel toggle closes it; Escape too, with focus back on the toggle
    page.focus("#toggle-changes")
    page.keyboard.press("Enter")
    assert page.is_hidden("#compare-panel")
    page.keyboard.press("Enter")
    assert page.is_visible("#compare-panel")
    page.focus("#compare-panel .change-item")
    page.keyboard.press("Escape")
    assert page.is_hidden("#compare-panel")
    assert focused(page) == "toggle-changes"


def test_comparison_text_marks_its_insertion_in_the_accessibility_tree(page, server, api):
    open_comparison(page, server.url)  # "The quick brown red fox …": the word "red" is inserted
    page.wait_for_selector("#compare-panel .change-item", timeout=120_000)
    # the screen-reader text of page 1 carries the inserted word as an insertion, with its bounds spoken
    page.wait_for_selector('#a11y-text section[data-page="0"] ins', state="attached", timeout=60_000)
    marked = page.eval_on_selector_all('#a11y-text section[data-page="0"] ins', "els => els.map(e => e.textContent)")
    assert marked == ["insertion start, red, insertion end"], marked
    line = page.eval_on_selector('#a11y-text section[data-page="0"] ins', "e => e.closest('p').textContent")
    assert line.startswith("The quick brown insertion start, red") and line.endswith("fox jumps over the lazy dog.")
    assert page.query_selector('#a11y-text section[data-page="0"] del') is None
    nodes = accessible_nodes(page)
    assert any(role == "insertion" for role, _ in nodes), sorted({role for role, _ in nodes})


# ---- the first page sooner ----------------------------------------------------------------------------------

FIRST_PAGE_WATCH = """
    window.__contents = [];
    new MutationObserver(() => {
      const el = document.querySelector('.page[data-page="0"]');
      const kind = el && el.dataset.content;
      if (kind && window.__contents[window.__contents.length - 1] !== kind) {
        window.__contents.push(kind);
        window.__thumbsAtFirst ??= document.querySelectorAll('#thumb-list img').length;
      }
    }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-content']});
"""


def test_the_viewer_page_carries_page_one_and_asks_its_preview_before_anything_else(page, server, api):
    sid = api.session(make_pdf_pages(12, lines=4), "pdf")
    # the document is open on the server (as after any upload a moment ago): its facts go in the viewer page
    assert api.http.get(f"{server.url}/PCCIS/V1/Document/q/Attributes", params={"DocumentID": "u" + sid}).ok
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    page.add_init_script(FIRST_PAGE_WATCH)
    response = page.goto(f"{server.url}/viewer/{sid}")
    head = response.text()
    assert '"firstPageAttributes"' in head and '"documentAttributes"' in head and "{{PRELOADS}}" not in head
    # page 1's PNG is the first thing the page names, before its styles and scripts
    preload = re.search(r'<link rel="preload" as="fetch" crossorigin="anonymous" href="([^"]+)">', head)
    assert preload and "/Page/q/0?" in preload.group(1) and "ContentType=png" in preload.group(1)
    assert head.index(preload.group(0)) < head.index('rel="stylesheet"')
    page.wait_for_selector('.page[data-page="0"][data-content="svg"]')
    page.wait_for_selector("#thumb-list img")
    # the PNG shows first, then the SVG (sharp at every zoom); no thumbnail was asked before page 1 was on screen
    assert page.evaluate("window.__contents") == ["png", "svg"]
    assert page.evaluate("window.__thumbsAtFirst") == 0
    # the preloaded preview was the one used, and the answers the page carried were not asked again
    assert sum(bool(re.search(r"/Page/q/0\?.*ContentType=png", url)) for url in requests_seen) == 1
    assert not any("/Document/q/Attributes?" in url or "/Page/q/0/Attributes?" in url for url in requests_seen)


def test_a_document_still_converting_has_its_first_answers_preloaded(page, server, api, tmp_path):
    from officegen import docx_pages

    path = tmp_path / "three.docx"
    docx_pages(path, 3)
    # not converted until the viewer asks: the viewer page cannot know the page count yet
    sid = api.session(path.read_bytes(), "docx", body={"startConverting": "none"}, start=False)
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    response = page.goto(f"{server.url}/viewer/{sid}")
    head = response.text()
    assert head.count('rel="preload" as="fetch"') == 2 and '"firstPageAttributes"' not in head
    wait_for_content(page, 0, timeout=120_000)
    # the preloaded answers were used: the page-1 attributes went out once
    assert sum("/Page/q/0/Attributes?" in url for url in requests_seen) == 1
