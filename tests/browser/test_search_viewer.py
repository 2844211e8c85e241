"""The viewer's search in a real browser: hits streamed from server-side search tasks, highlights, the results
list, the toggles and the keyboard."""
from __future__ import annotations

import pytest

from browser.documents import ON_LANDSCAPE_PAGE, SEARCH_WORD, three_page_pdf, word_box
from browser.helpers import drawn_boxes, open_viewer, screenshot, wait_for_content
from docgen import make_pdf_pages

COUNT = "document.querySelector('#search-count').textContent"


@pytest.fixture(scope="module")
def three_pages(api) -> str:
    return api.session(three_page_pdf().data + b"\n% search viewer", "pdf")


def search_for(page, query: str) -> None:
    page.keyboard.press("Control+f")
    page.keyboard.type(query)



def choose_third_result(page) -> None:
    """Choose the third result (on the landscape page 3): it becomes current, drawn over its capitalised word."""
    page.locator("#search-results li").nth(2).locator("button").click()
    page.wait_for_function(f"() => {COUNT} === '3 of 3'")
    assert page.input_value("#page-input") == "3"
    page_rect, mark = drawn_boxes(page, '.page[data-page="2"]', '.page[data-page="2"] .mark.hit.current')
    scale = page_rect["width"] / 842
    left, top, width, height = word_box(ON_LANDSCAPE_PAGE, SEARCH_WORD.upper())
    assert mark["x"] - page_rect["x"] == pytest.approx(left * scale, abs=2 * scale)
    assert mark["width"] == pytest.approx(width * scale, rel=0.1)
    assert top * scale < mark["y"] - page_rect["y"] + mark["height"] / 2 < (top + height) * scale

def test_first_hit_of_a_long_document_shows_while_the_rest_is_searched(page, server, api):
    sid = api.session(make_pdf_pages(1000, image=False, lines=30) + b"\n% browser long", "pdf")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    search_for(page, "Page")
    # the first hit is highlighted on page 1 while the count still says the search goes on
    page.wait_for_selector('.page[data-page="0"] .mark.hit.current', state="attached")
    assert page.evaluate(COUNT).endswith("so far…"), page.evaluate(COUNT)
    screenshot(page, "search-streaming")
    # a new query while that one runs: the viewer deletes the old task on the server
    with page.expect_request(lambda r: r.method == "DELETE" and "/searchTasks/" in r.url):
        page.fill("#search-input", "lorem")
    page.fill("#search-input", "Page")
    page.wait_for_function(f"() => {COUNT} === '1 of 1000'", timeout=120_000)
    # a page scrolled to later shows its hit at once (its rectangles came with the results)
    page.fill("#page-input", "700")
    page.keyboard.press("Enter")
    page.wait_for_selector('.page[data-page="699"] .mark.hit', state="attached")
    assert page.locator('.page[data-page="699"] .mark.hit').count() == 1


def test_results_list_toggles_and_highlights(page, server, three_pages):
    open_viewer(page, server.url, three_pages)
    wait_for_content(page, 0)
    search_for(page, SEARCH_WORD)
    page.wait_for_function(f"() => {COUNT} === '1 of 3'")
    items = page.locator("#search-results li")
    assert items.count() == 3
    assert [items.nth(i).locator(".search-result-page").inner_text() for i in range(3)] == ["Page 2", "Page 3",
                                                                                           "Page 3"]
    assert [items.nth(i).locator("b").inner_text() for i in range(3)] == [SEARCH_WORD, SEARCH_WORD,
                                                                          SEARCH_WORD.upper()]
    assert "Letter page about" in items.nth(0).inner_text()
    # choosing the third result jumps to page 3 and makes that hit current, drawn over the capitalised word
    choose_third_result(page)
    screenshot(page, "search-results")
    # match case: only the lower-case ones (the first on or after the page being read, page 3, is current)
    page.click("#search-case")
    assert page.get_attribute("#search-case", "aria-pressed") == "true"
    page.wait_for_function(f"() => {COUNT} === '2 of 2'")
    page.click("#search-case")
    # whole words: a part of a word no longer matches
    page.fill("#search-input", SEARCH_WORD[:-1])
    page.wait_for_function(f"() => {COUNT} === '2 of 3'")
    page.click("#search-word")
    page.wait_for_function(f"() => {COUNT} === 'No matches'")
    assert page.is_hidden("#search-results")
    page.click("#search-word")
    page.wait_for_function(f"() => {COUNT} === '2 of 3'")
    # keyboard: Enter and Shift+Enter move (round the end), Escape closes; the count is a polite live region
    page.focus("#search-input")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {COUNT} === '3 of 3'")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {COUNT} === '1 of 3'")
    assert page.input_value("#page-input") == "2"
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(f"() => {COUNT} === '3 of 3'")
    assert page.get_attribute("#search-count", "aria-live") == "polite"
    page.keyboard.press("Escape")
    assert page.is_hidden("#searchbar") and page.locator(".mark.hit").count() == 0


def test_search_in_an_encrypted_session_decrypts_its_results(page, server, api):
    sid = api.session(three_page_pdf().data + b"\n% search encrypted", "pdf", body={"pageContentEncryption": True})
    answers: list[tuple[str, int, str | None]] = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.headers.get("accusoft-data-encrypted")))
            if "/searchTasks/" in r.url and "/results" in r.url else None)
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    search_for(page, SEARCH_WORD)
    page.wait_for_function(f"() => {COUNT} === '1 of 3'")
    # the hits came decrypted: the results list shows their context, and they are drawn on the right words
    items = page.locator("#search-results li")
    assert items.count() == 3 and "Letter page about" in items.nth(0).inner_text()
    choose_third_result(page)
    screenshot(page, "search-encrypted")
    # every results answer was encrypted, each request with its own iv
    assert answers and all(status == 200 and flag == "true" and "iv=" in url for url, status, flag in answers), \
        answers
