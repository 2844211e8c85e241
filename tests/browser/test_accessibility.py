"""The viewer for everyone (issue 18): axe-core finds no violation of any impact on every screen, every
control works from the keyboard, the whole text is in the accessibility tree, phones and forced colours."""
from __future__ import annotations

import pytest

from browser.a11y import accessible_text, axe_violations
from browser.documents import three_page_pdf
from browser.helpers import open_viewer, screenshot, wait_for_content
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
