"""Annotation mode in Chromium: every tool draws, saves and comes back where it was drawn after a reload;
select, move, resize, recolour, delete, undo and redo; marks follow the zoom; read-only mode; redaction of
selected text, burned and downloaded without the text."""
from __future__ import annotations

import subprocess
import tempfile

import pytest
import requests

from browser.helpers import open_viewer, screenshot, wait_for_content
from markupgen import make_pages_with

LINES = ["Alpha line for highlighting", "Bravo line to strike out", "Charlie line to underline",
         "Delta secret Zebra Quokka", "Echo closing words stay"]
EDIT = {"viewerOptions": {"annotations": "edit", "userName": "Ann"}}


@pytest.fixture
def document(request) -> bytes:
    """Layers belong to the document: each test gets its own bytes (a line naming the test)."""
    return make_pages_with([LINES + [request.node.name[:60]]], size=16)


def page_box(page, index=0) -> dict:
    return page.wait_for_selector(f'.page[data-page="{index}"]').bounding_box()


def units_per_px(page) -> float:
    return 612 / page_box(page)["width"]


def drag(page, start, end, steps=6):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def tool(page, name: str):
    page.click(f'#markup-tools [data-tool="{name}"]')


def select_words(page, first: str, last: str | None = None):
    """Selects text from the span holding `first` to the end of the span holding `last`."""
    page.evaluate("""([first, last]) => {
        const spans = [...document.querySelectorAll('.page[data-page="0"] .text-layer span')];
        const a = spans.find((s) => s.textContent.includes(first));
        const b = spans.find((s) => s.textContent.includes(last || first));
        const range = document.createRange();
        range.setStart(a.firstChild, a.textContent.indexOf(first));
        const end = b.textContent.indexOf(last || first) + (last || first).length;
        range.setEnd(b.firstChild, end);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
    }""", [first, last])


def layers(server, sid):
    http = requests.Session()
    listed = http.get(f"{server.url}/MarkupLayers/u{sid}").json()
    return [http.get(f"{server.url}/MarkupLayers/u{sid}/{x['layerRecordId']}").json() for x in listed]


def open_ready(page, server, sid):
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    page.wait_for_selector('.page[data-page="0"] .text-layer span')
    page.wait_for_selector(".markup-layer")


def mark_boxes(page) -> dict[str, dict]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.page[data-page="0"] g.markup')]
        .map((g) => [g.dataset.uid, g.getBoundingClientRect().toJSON()]))""")


def test_every_tool_draws_saves_and_comes_back_in_place(page, server, api, document):
    sid = api.session(document, "pdf", body=EDIT)
    open_ready(page, server, sid)
    assert page.get_attribute('#markup-tools [data-tool="select"]', "aria-pressed") == "true"
    box = page_box(page)
    x0, y0 = box["x"], box["y"]
    scale = units_per_px(page)
    drawn = {
        "rectangle": ((x0 + 60, y0 + 300), (x0 + 160, y0 + 360)),
        "ellipse": ((x0 + 200, y0 + 300), (x0 + 300, y0 + 360)),
        "line": ((x0 + 60, y0 + 400), (x0 + 160, y0 + 440)),
        "arrow": ((x0 + 200, y0 + 400), (x0 + 300, y0 + 440)),
        "ink": ((x0 + 340, y0 + 300), (x0 + 420, y0 + 380)),
        "note": ((x0 + 340, y0 + 400), (x0 + 460, y0 + 450)),
        "redact-area": ((x0 + 60, y0 + 480), (x0 + 200, y0 + 520)),
    }
    for name, (start, end) in drawn.items():
        tool(page, name)
        drag(page, start, end)
    tool(page, "select")
    # text tools work on the selected text
    for name, word in (("highlight", "Alpha"), ("strike", "Bravo"), ("underline", "Charlie"), ("redact-text", "Zebra")):
        tool(page, "select")      # with a text tool active, the next mouse-up would mark the selection already
        select_words(page, word)
        tool(page, name)
    page.fill("#markup-reason", "")
    assert page.locator("#markup-list li").count() == 11
    screenshot(page, "annotations-drawn")
    before = mark_boxes(page)
    page.keyboard.press("Control+s")
    page.wait_for_selector("body[data-markup-saved]")

    saved = layers(server, sid)
    assert len(saved) == 1 and saved[0]["owner"] == "Ann"
    marks = saved[0]["marks"]
    types = sorted(m["type"] for m in marks)
    assert types == sorted(["RectangleAnnotation", "EllipseAnnotation", "LineAnnotation", "LineAnnotation",
                            "FreehandAnnotation", "TextAnnotation", "RectangleRedaction", "HighlightAnnotation",
                            "StrikethroughAnnotation", "StrikethroughAnnotation", "TextSelectionRedaction"])
    rect = next(m for m in marks if m["type"] == "RectangleAnnotation")
    assert abs(rect["rectangle"]["x"] - 60 * scale) < 2 and abs(rect["rectangle"]["width"] - 100 * scale) < 2
    assert all(m["data"]["author"] == "Ann" for m in marks)
    highlight = next(m for m in marks if m["type"] == "HighlightAnnotation")
    assert highlight["selectedText"].startswith("Alpha")
    line_y = highlight["lineGroups"][0]["lines"][0]["y"]
    assert 40 < line_y < 90                              # the first line of text, 72 pt from the top

    page.reload()
    open_ready(page, server, sid)
    page.wait_for_function("() => document.querySelectorAll('.page[data-page=\"0\"] g.markup').length === 11")
    after = mark_boxes(page)
    assert set(after) == set(before)
    for uid, b in before.items():
        a = after[uid]
        assert abs(a["x"] - b["x"]) < 2 and abs(a["y"] - b["y"]) < 2 and abs(a["width"] - b["width"]) < 2, uid
    items = page.locator("#markup-list li").all_text_contents()
    assert all("page 1" in item and "Ann" in item for item in items)


def test_select_move_resize_recolour_delete_undo_redo(page, server, api, document):
    sid = api.session(document, "pdf", body=EDIT)
    open_ready(page, server, sid)
    box = page_box(page)
    x0, y0 = box["x"], box["y"]
    tool(page, "rectangle")
    drag(page, (x0 + 100, y0 + 400), (x0 + 200, y0 + 450))
    tool(page, "select")
    uid = page.get_attribute('.page[data-page="0"] g.markup', "data-uid")
    start = mark_boxes(page)[uid]
    drag(page, (x0 + 150, y0 + 425), (x0 + 190, y0 + 465))               # move by (40, 40)
    moved = mark_boxes(page)[uid]
    assert abs(moved["x"] - start["x"] - 40) < 3 and abs(moved["y"] - start["y"] - 40) < 3
    handle = page.wait_for_selector(".resize-handle").bounding_box()
    drag(page, (handle["x"] + 4, handle["y"] + 4), (handle["x"] + 34, handle["y"] + 24))   # resize by (30, 20)
    resized = mark_boxes(page)[uid]
    assert abs(resized["width"] - moved["width"] - 30) < 4 and abs(resized["height"] - moved["height"] - 20) < 4
    page.evaluate("""() => { const input = document.getElementById('markup-color');
        input.value = '#00aa00'; input.dispatchEvent(new Event('input', {bubbles: true})); }""")
    assert page.get_attribute(f'g.markup[data-uid="{uid}"] rect', "stroke").upper() == "#00AA00"
    page.focus("#viewport")
    page.keyboard.press("Delete")
    assert page.locator(f'g.markup[data-uid="{uid}"]').count() == 0
    page.keyboard.press("Control+z")
    assert page.locator(f'g.markup[data-uid="{uid}"]').count() == 1
    page.keyboard.press("Control+z")                                          # undo the recolour
    assert page.get_attribute(f'g.markup[data-uid="{uid}"] rect', "stroke").upper() != "#00AA00"
    page.keyboard.press("Control+y")
    page.keyboard.press("Control+y")
    assert page.locator(f'g.markup[data-uid="{uid}"]').count() == 0


def test_marks_follow_the_zoom(page, server, api, document):
    sid = api.session(document, "pdf", body=EDIT)
    open_ready(page, server, sid)
    box = page_box(page)
    tool(page, "rectangle")
    drag(page, (box["x"] + 100, box["y"] + 200), (box["x"] + 200, box["y"] + 260))
    uid = page.get_attribute('.page[data-page="0"] g.markup', "data-uid")

    def relative():
        b, m = page_box(page), mark_boxes(page)[uid]
        return ((m["x"] - b["x"]) / b["width"], (m["y"] - b["y"]) / b["height"], m["width"] / b["width"])

    before = relative()
    width = page_box(page)["width"]
    page.click("#zoom-in")
    page.wait_for_function(f"() => document.querySelector('.page[data-page=\"0\"]').getBoundingClientRect().width > {width + 10}")
    after = relative()
    assert all(abs(a - b) < 0.005 for a, b in zip(after, before)), (before, after)


def test_read_only_shows_marks_without_tools(page, server, api, document):
    sid = api.session(document, "pdf", body={"viewerOptions": {"annotations": "readonly"}})
    requests.post(f"{server.url}/MarkupLayers/u{sid}", json={"name": "Review", "owner": "Bob", "marks": [
        {"uid": "r1", "type": "RectangleAnnotation", "pageNumber": 1, "pageData": {"width": 612, "height": 792},
         "rectangle": {"x": 100, "y": 300, "width": 100, "height": 50}, "borderColor": "#FF0000"}]})
    open_ready(page, server, sid)
    page.wait_for_selector('g.markup[data-uid="r1"]')
    assert page.locator("#markup-tools [data-tool]").count() == 0
    assert page.locator("#markup-save").count() == 0
    assert "Bob" in page.text_content("#markup-list")
    assert page.get_attribute('g.markup[data-uid="r1"]', "aria-label") == "Rectangle on page 1"


def test_off_by_default(page, server, api, document):
    sid = api.session(document, "pdf")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    assert page.is_hidden("#markup-bar") and page.locator(".markup-layer").count() == 0


def test_redact_selected_text_then_burn_and_download(page, server, api, document):
    sid = api.session(document, "pdf", body=EDIT)
    open_ready(page, server, sid)
    page.fill("#markup-reason", "(G)")
    select_words(page, "Zebra", "Quokka")
    tool(page, "redact-text")
    page.wait_for_selector("g.markup.redaction")
    with page.expect_download() as download_info:
        page.click("#markup-burn")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        download.save_as(f.name)
        text = subprocess.run(["pdftotext", f.name, "-"], capture_output=True, text=True, check=True).stdout
    assert "Zebra" not in text and "Quokka" not in text
    assert "Delta secret" in text and "Echo closing words stay" in text


def test_marks_are_printed_over_their_pages(page, server, api, document):
    sid = api.session(document, "pdf", body=EDIT)
    requests.post(f"{server.url}/MarkupLayers/u{sid}", json={"name": "Print", "owner": "Ann", "marks": [
        {"uid": "p1", "type": "RectangleAnnotation", "pageNumber": 1, "pageData": {"width": 612, "height": 792},
         "rectangle": {"x": 306, "y": 396, "width": 153, "height": 198}, "borderColor": "#FF0000",
         "fillColor": "#FF0000", "opacity": 255}]})
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; };")
    open_ready(page, server, sid)
    page.wait_for_selector('g.markup[data-uid="p1"]')
    page.wait_for_selector("#print:not([disabled])")
    page.click("#print")
    page.wait_for_function("() => window.__printed === 1", timeout=30_000)
    page.emulate_media(media="print")
    image = page.wait_for_selector("#print-root .print-page img").bounding_box()
    mark = page.wait_for_selector('#print-root g.markup[data-uid="p1"]').bounding_box()
    # the rectangle covers the page's lower-right quarter, whatever size the printed image has
    assert abs((mark["x"] - image["x"]) / image["width"] - 0.5) < 0.01
    assert abs((mark["y"] - image["y"]) / image["height"] - 0.5) < 0.01
    assert abs(mark["width"] / image["width"] - 0.25) < 0.01


def test_the_page_setting_lowers_or_turns_on_annotation_mode(page, server, api, document):
    editable = api.session(document, "pdf", body=EDIT)
    page.goto(f"{server.url}/viewer/{editable}?annotations=readonly")
    page.wait_for_selector(".markup-layer")
    assert page.locator("#markup-tools [data-tool]").count() == 0
    page.goto(f"{server.url}/viewer/{editable}?annotations=off")
    wait_for_content(page, 0)
    assert page.is_hidden("#markup-bar") and page.locator(".markup-layer").count() == 0
    plain = api.session(document, "pdf")
    page.goto(f"{server.url}/viewer/{plain}?annotations=edit")
    page.wait_for_selector('#markup-tools [data-tool="rectangle"]')
