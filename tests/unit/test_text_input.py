"""The HTML sanitiser keeps every word of a page while removing what LibreOffice would fetch."""
from __future__ import annotations

import pytest
from lxml import html

from pageturn.engines import text_input


@pytest.mark.parametrize("tag", ["embed", "source", "track", "wbr", "keygen"])
def test_content_after_an_html5_void_element_is_kept(tag):
    # libxml2's HTML parser does not know these HTML5 elements are empty: it nests what follows inside them
    page = (f"<html><body><p>Before the element.</p><{tag} src='http://x/movie.swf' type='video/mp4'>"
            f"<p>After the element.</p><table><tr><td>A cell at the end.</td></tr></table></body></html>")
    cleaned = text_input.sanitize_html(page.encode()).decode("utf-8")
    text = html.document_fromstring(cleaned).text_content()
    for words in ("Before the element.", "After the element.", "A cell at the end."):
        assert words in text, cleaned
    assert "http://x" not in cleaned


def test_an_embed_inside_a_paragraph_keeps_the_rest_of_the_paragraph():
    cleaned = text_input.sanitize_html(b"<p>One <embed src=x.swf> two</p><p>three</p>").decode("utf-8")
    text = html.document_fromstring(cleaned).text_content()
    assert "One" in text and "two" in text and "three" in text and "x.swf" not in cleaned
