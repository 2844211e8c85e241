"""E-mail in the viewer: the message pages, the attachment list, and each attachment opened from it."""
from __future__ import annotations

import re


from api.samples import pdf_bytes
from browser.helpers import open_viewer, screenshot, wait_for_content
from mailgen import plain_eml, with_attachments_eml
from officegen import docx_pages



def _text_layer(page) -> str:
    return page.eval_on_selector_all(".page .text-layer", "els => els.map(e => e.textContent).join(' ')")


def test_attachment_list_opens_each_attachment(page, context, server, api, tmp_path):
    docx_path = tmp_path / "letter.docx"
    docx_marker = docx_pages(docx_path, 1)[0]
    data = with_attachments_eml(pdf_bytes("Attached PDF marker echidna"), docx_path.read_bytes(),
                                plain_eml("Forwarded one", "Nested body marker numbat."))
    sid = api.session(data, "eml")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    page.wait_for_selector("#attachments:not([hidden])")
    names = page.eval_on_selector_all(".attachment-link", "els => els.map(e => e.textContent)")
    assert names == ["report.pdf", "letter.docx", "forwarded.eml"]
    screenshot(page, "email-with-attachments")
    with context.expect_page() as opened:
        page.click("text=letter.docx")
    child = opened.value
    child.wait_for_url(re.compile(r"/viewer/[A-Za-z0-9_-]+$"))
    child.wait_for_selector('#viewport[data-ready="true"]', timeout=120_000)
    wait_for_content(child, 0)
    assert child.text_content("#doc-title") == "letter.docx"
    child.wait_for_function("(marker) => [...document.querySelectorAll('.page .text-layer')]"
                            ".some(e => e.textContent.includes(marker))", arg=docx_marker, timeout=60_000)
    assert child.is_hidden("#attachments")  # a Word document has no attachments of its own


def test_plain_message_has_no_attachment_strip(page, server, api):
    sid = api.session(plain_eml(), "eml")
    open_viewer(page, server.url, sid)
    wait_for_content(page, 0)
    page.wait_for_function("() => [...document.querySelectorAll('.page .text-layer')]"
                           ".some(e => e.textContent.includes('quokka'))", timeout=60_000)
    assert page.is_hidden("#attachments")


# ---- pageContentEncryption ------------------------------------------------------------------------------------

def test_encrypted_session_shows_and_searches_normally(page, server, api):
    from browser.documents import SEARCH_COUNT, SEARCH_WORD, three_page_pdf

    sid = api.session(three_page_pdf().data, "pdf", body={"pageContentEncryption": True})
    answers: list[tuple[str, str | None]] = []
    page.on("response", lambda r: answers.append((r.url, r.headers.get("accusoft-data-encrypted")))
            if "/PCCIS/V1/Page/q/" in r.url and "/Attributes" not in r.url or "/Text" in r.url else None)
    open_viewer(page, server.url, sid)
    element = wait_for_content(page, 0)
    assert element.get_attribute("data-content") in ("svg", "png", "raster", "tiles")
    page.wait_for_function("() => document.querySelector('.page[data-page=\"0\"] .text-layer')"
                           "?.textContent.length > 0")
    page.keyboard.press("Control+f")
    page.keyboard.type(SEARCH_WORD)
    page.wait_for_function("(expected) => document.querySelector('#search-count').textContent === expected",
                           arg=f"1 of {SEARCH_COUNT}")
    wait_for_content(page, 1)  # the first hit is on page 2: drawn from decrypted content, the hit marked on it
    page.wait_for_selector('.page[data-page="1"] .mark.hit.current')
    screenshot(page, "encrypted-session")
    page.wait_for_function("() => [...document.querySelectorAll('.thumb-frame.loaded')].length > 0")
    assert answers and all(flag == "true" for _, flag in answers), answers  # every content answer was encrypted
    assert all("iv=" in url for url, _ in answers)
