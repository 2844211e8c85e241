"""The search engine's pure functions, and its worker jobs against the Text URL's own text and boxes."""
from __future__ import annotations

import io
import json
import random
import re
import time

import pytest
from reportlab.pdfgen import canvas

from docgen import make_pdf, make_pdf_pages, make_turned_pdf
from pageturn.engines import pdf, search_lines, search_text
from pageturn.engines.search import (MatchTimeout, SearchTermError, Term, compile_terms, context, find_matches,
                                     geometry, line_rectangles, match_spans)


def test_invalid_patterns_name_their_term():
    with pytest.raises(SearchTermError) as raised:
        compile_terms([Term("fine"), Term("also fine"), Term("(oops")])
    assert raised.value.index == 2
    with pytest.raises(SearchTermError):
        compile_terms([Term("x" * 1001)])


def test_matches_in_text_order_without_empty_ones():
    patterns = compile_terms([Term("b+"), Term("a", case_sensitive=True), Term("x*")])
    found = find_matches("abbA a", patterns, page=0, timeout=1)
    assert [(m.term, m.start, m.end) for m in found] == [(1, 0, 1), (0, 1, 3), (1, 5, 6)]


def test_a_catastrophic_pattern_stops_at_its_budget():
    patterns = compile_terms([Term("(a|aa)+c")])
    started = time.monotonic()
    with pytest.raises(MatchTimeout) as raised:
        find_matches("a" * 40 + "!", patterns, page=7, timeout=0.2)
    assert time.monotonic() - started < 5 and raised.value.page == 7 and raised.value.term == 0


def test_match_spans_are_the_distinct_matches_in_order():
    text = "abbA a\nbab"
    patterns = compile_terms([Term("b+"), Term("a", case_sensitive=True), Term("x*"), Term("ab|b")])
    expected = sorted({(m.start, m.end) for m in find_matches(text, patterns, page=0, timeout=1)})
    assert match_spans(text, patterns, page=0, timeout=1) == expected
    assert expected == [(0, 1), (0, 2), (1, 3), (2, 3), (5, 6), (7, 8), (8, 9), (8, 10), (9, 10)]
    assert match_spans("", patterns, page=0, timeout=1) == []
    with pytest.raises(MatchTimeout) as raised:
        match_spans("a" * 40 + "!", compile_terms([Term("x"), Term("(a|aa)+c")]), page=3, timeout=0.2)
    assert raised.value.term == 1 and raised.value.page == 3


def test_context_shows_line_breaks_as_spaces():
    assert context("one\ntwo three", 4, 7, 3) == ("ne two th", 3)
    assert context("word", 0, 4, 25) == ("word", 0)


def test_line_rectangles_one_per_line_also_for_turned_text():
    text = "ab\ncd"
    boxes = [[10, 20, 5, 10], [15, 20, 5, 10], [20, 20, 0, 10], [10, 32, 5, 10], [15, 32, 5, 10]]
    assert line_rectangles(text, boxes, 0) == [{"x": 10, "y": 20, "width": 10, "height": 10},
                                               {"x": 10, "y": 32, "width": 10, "height": 10}]
    down = [[100, 10, 12, 6], [100, 16, 12, 5], [100, 21, 12, 6]]   # text read downwards (rotated page)
    assert line_rectangles("abc", down, 0) == [{"x": 100, "y": 10, "width": 12, "height": 17}]


def _lines_pdf(*pages: list[str]) -> bytes:
    """A letter-size page per list, its lines drawn one under the other."""
    buffer = io.BytesIO()
    pdf_canvas = canvas.Canvas(buffer, pagesize=(612, 792))
    for lines in pages:
        for k, line in enumerate(lines):
            pdf_canvas.drawString(72, 700 - 14 * k, line)
        pdf_canvas.showPage()
    pdf_canvas.save()
    return buffer.getvalue()


def _unusual_pdf() -> bytes:
    """Lines with leading spaces, a word split over lines, and a page with no text."""
    return _lines_pdf(["   indented words here", "next line, and more"], [])


def _hyphenated_pdf() -> bytes:
    """A word hyphenated at a line end: PDFium joins it and marks the hyphen as "\\x02", which its bulk text read
    gives as U+FFFE."""
    return _lines_pdf(["a long word that is hyphen-", "ated across two lines"])


@pytest.mark.parametrize("make", [lambda: make_pdf()[0], lambda: make_pdf_pages(3, image=False, lines=6), _unusual_pdf,
                                  _hyphenated_pdf])
def test_text_and_boxes_are_the_text_urls(tmp_path, make):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make())
    count = pdf.open_pdf(str(path)).page_count
    texts = search_text.page_texts(str(path), "pdf", 0, count - 1)
    assert len(texts) == count
    for pattern in (r"\w+\s+\w+", r"\s\w+", r"\w+\s", r"\n\w", "."):
        requests = [(i, [(m.start(), m.end()) for m in re.finditer(pattern, t["text"])], t["skips"], t["text"])
                    for i, t in enumerate(texts)]
        for (page, spans, _, _), boxes in zip(requests, search_text.hit_boxes(str(path), "pdf", requests)):
            full = pdf.text(str(path), page)
            assert texts[page]["text"] == full["text"]
            assert (texts[page]["width"], texts[page]["height"]) == (full["width"], full["height"])
            for (start, end), got in zip(spans, boxes):
                assert got == full["rectangles"][start:end], (pattern, page, start, end)


def test_hit_rectangles_join_the_boxes_per_line(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf()[0])
    (page0,) = search_text.page_texts(str(path), "pdf", 0, 0)
    start = page0["text"].index("pageturn\nSecond")
    request = [(0, [(start, start + 15), (0, 5)], page0["skips"], page0["text"])]
    (boxes,) = search_text.hit_boxes(str(path), "pdf", request)
    (rectangles,) = search_text.hit_rectangles(str(path), "pdf", request)
    assert rectangles == [line_rectangles(page0["text"], boxes[0], start), line_rectangles(page0["text"], boxes[1], 0)]
    assert len(rectangles[0]) == 2 and len(rectangles[1]) == 1


@pytest.mark.parametrize("make", [lambda: make_pdf()[0], _unusual_pdf])
def test_texts_with_hits_in_one_pass_are_the_separate_jobs(tmp_path, make):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make())
    count = pdf.open_pdf(str(path)).page_count
    terms = [(r"\w+\s+\w+", False), ("E", True)]
    both = search_text.page_texts_and_hits(str(path), "pdf", 0, count - 1, terms, 1.0)
    texts = search_text.page_texts(str(path), "pdf", 0, count - 1)
    assert both["texts"] == texts
    patterns = compile_terms([Term(p, c) for p, c in terms])
    for page, (t, hits) in enumerate(zip(texts, both["hits"])):
        spans = sorted({(m.start, m.end) for m in find_matches(t["text"], patterns, page=page, timeout=1)})
        (expected,) = search_text.hit_rectangles(str(path), "pdf", [(page, spans, t["skips"], t["text"])])
        assert hits == [(start, end, lines) for (start, end), lines in zip(spans, expected)]
    # the worker job the server calls: the same, ready to keep and splice (the texts as JSON, each hit's
    # rectangles as the members of a results answer)
    batch = search_text.search_batch(str(path), "pdf", 0, count - 1, terms, 1.0)
    assert json.loads(batch["json"]) == texts == batch["texts"]
    assert batch["hits"] == [[(start, end, geometry(lines)) for start, end, lines in hits] for hits in both["hits"]]
    requests = [(page, [(start, end) for start, end, _ in hits], t["skips"], t["text"])
                for page, (t, hits) in enumerate(zip(texts, both["hits"]))]
    assert search_text.hit_geometries(str(path), "pdf", requests) == [[g for _, _, g in hits] for hits in batch["hits"]]
    assert search_text.search_batch(str(path), "pdf", 0, count - 1, [], 1.0)["hits"] == [None] * count


def test_one_pass_gives_up_boxes_for_a_slow_pattern(tmp_path):
    path = tmp_path / "slow.pdf"
    path.write_bytes(_lines_pdf(*[["a" * 40 + "!"]] * 3))
    started = time.monotonic()
    both = search_text.page_texts_and_hits(str(path), "pdf", 0, 2, [("(a|aa)+c", False)], 0.2)
    assert both["hits"] == [None, None, None] and len(both["texts"]) == 3
    assert time.monotonic() - started < 5   # one page's budget, not one per page


def _odd_pdf() -> bytes:
    """Upright pages whose text is laid out in the ways that make a hit's rectangles unusual: turned and mirrored
    text, a font change and a raised glyph inside a word, wide and negative letter spacing, glyphs drawn right to
    left, words drawn apart (PDFium generates the space), text at and past the page's left edge, and a word that
    ends the page."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(612, 792))
    c.setFont("Helvetica", 12)
    c.drawString(72, 740, "plain words, then more words; end.")
    text = c.beginText(72, 710)
    text.setFont("Helvetica", 12)
    text.textOut("mix")
    text.setFont("Times-Bold", 18)
    text.textOut("ed fo")
    text.setRise(4)
    text.textOut("n")
    text.setRise(0)
    text.textOut("ts here")
    c.drawText(text)
    for spacing, y in ((6, 680), (-1.5, 660), (40, 640)):
        text = c.beginText(72, y)
        text.setFont("Courier", 11)
        text.setCharSpace(spacing)
        text.textOut("spaced letters")
        c.drawText(text)
    for k, char in enumerate("backwards"):
        c.drawString(300 - 7 * k, 620, char)
    c.drawString(72, 600, "apart")
    c.drawString(140, 600, "words")
    c.drawString(0.001, 580, "edge word")
    c.drawString(-3, 560, "cut off words")
    c.drawString(72, 540, "tab\there")
    text = c.beginText(72, 520)   # a glyph raised by less than a fifth of the line height still tiles
    text.setFont("Helvetica", 12)
    text.setCharSpace(1)
    text.textOut("rai")
    text.setRise(2)
    text.textOut("s")
    text.setRise(0)
    text.textOut("ed letter")
    c.drawText(text)
    for angle, (x, y) in ((90, (500, 300)), (30, (300, 300)), (180, (300, 200)), (0.05, (72, 400)), (0.2, (72, 380)),
                          (0.5, (72, 340))):
        c.saveState()
        c.translate(x, y)
        c.rotate(angle)
        c.setFont("Helvetica", 24)
        c.drawString(0, 0, "turned text here")
        c.restoreState()
    c.setFont("Helvetica", 12)
    c.saveState()
    c.translate(400, 450)
    c.scale(-1, 1)
    c.drawString(0, 0, "mirrored text")
    c.restoreState()
    c.saveState()
    c.translate(72, 480)
    c.scale(1.5, 0.5)
    c.drawString(0, 0, "squashed text")
    c.restoreState()
    c.drawString(72, 100, "last word")
    c.showPage()
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "second page, ends here")
    c.showPage()
    c.save()
    return buffer.getvalue()


def _tight_box_pdf() -> bytes:
    """Text in an embedded TrueType font whose descriptor gives no ascent or descent, as LibreOffice writes them:
    PDFium's loose boxes are then each glyph's own, of many heights (capitals, descenders, quotes, dots)."""
    import pikepdf
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, file in (("DejaVu", "DejaVuSans.ttf"), ("DejaVuSerif", "DejaVuSerif.ttf")):
        pdfmetrics.registerFont(TTFont(name, f"/usr/share/fonts/truetype/dejavu/{file}"))
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=(612, 792))
    lines = ["Quarterly review: don't stop, x-ray \"quoted\" (brackets) [more] {braces}",
             "Typography: fi ffl Åström Ünïcödé, dots... a.b.c, l'été ‘curly’ “quotes” — dash",
             "Small caps: ABC xyz; Q.E.D. gjpqy 10^2 H2O",
             "page end"]
    for k, line in enumerate(lines):
        c.setFont("DejaVu" if k % 2 == 0 else "DejaVuSerif", 10 + 2 * k)
        c.drawString(72, 700 - 30 * k, line)
    text = c.beginText(72, 560)
    text.setFont("DejaVu", 12)
    text.textOut("E = mc")
    text.setRise(5)
    text.setFont("DejaVu", 7)
    text.textOut("2")
    text.setRise(0)
    text.setFont("DejaVuSerif", 12)
    text.textOut(" and x")
    text.setRise(-3)
    text.setFont("DejaVuSerif", 7)
    text.textOut("i")
    text.setRise(0)
    text.textOut("j mixed")
    c.drawText(text)
    c.showPage()
    c.save()
    document = pikepdf.open(io.BytesIO(buffer.getvalue()))
    for font in document.pages[0].Resources.Font.values():
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None:
            descriptor.Ascent = descriptor.Descent = 0
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HIT_PATTERNS = (r"\w+", r"\w+\s+\w+", r"\s\w+", r"\w+\s", r"\n\w", ".", r"\w", "e", r"\S+", r"\w+\W", r"[^\n]{3}",
                r"\S\s+\S", r"\w+\n\w+", "text|words?")


@pytest.mark.parametrize("make", [lambda: make_pdf()[0], lambda: make_pdf_pages(3, image=False, lines=6), _unusual_pdf,
                                  make_turned_pdf, _odd_pdf, _tight_box_pdf])
def test_hit_rectangles_are_the_text_urls_boxes_joined(tmp_path, make, monkeypatch):
    """The fast path (search_lines) and the general one give the very numbers line_rectangles gives over the
    Text URL's boxes, down to the sign of a zero; both paths run."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(make())
    count = pdf.open_pdf(str(path)).page_count
    texts = search_text.page_texts(str(path), "pdf", 0, count - 1)
    pages = [pdf.text(str(path), page) for page in range(count)]
    outcomes = {"fast": 0, "general": 0}
    hit_line = search_lines.hit_line

    def counted(*args):
        lines = hit_line(*args)
        outcomes["general" if lines is None else "fast"] += 1
        return lines

    monkeypatch.setattr(search_lines, "hit_line", counted)
    terms = [(pattern, False) for pattern in HIT_PATTERNS]
    both = search_text.page_texts_and_hits(str(path), "pdf", 0, count - 1, terms, 5.0)
    for pattern in HIT_PATTERNS:
        requests = [(i, [(m.start(), m.end()) for m in re.finditer(pattern, t["text"])], t["skips"], t["text"])
                    for i, t in enumerate(texts)]
        got = search_text.hit_rectangles(str(path), "pdf", requests)
        for (page, spans, _, text), rectangles in zip(requests, got):
            boxes = pages[page]["rectangles"]
            want = [line_rectangles(text, boxes[start:end], start) for start, end in spans]
            assert repr(rectangles) == repr(want), (pattern, page)
    for page, hits in enumerate(both["hits"]):
        assert hits is not None
        boxes, text = pages[page]["rectangles"], texts[page]["text"]
        want = [(start, end, line_rectangles(text, boxes[start:end], start)) for start, end, _ in hits]
        assert repr(hits) == repr(want), page
        assert len(hits) == len({(m.start(), m.end()) for p in HIT_PATTERNS for m in re.finditer(p, text)})
    assert outcomes["fast"] > 0 and outcomes["general"] > 0, outcomes


def _glyph_verticals(rng: random.Random, count: int) -> tuple[list[float], list[float]]:
    """Box tops and bottoms (PDF space) of a run of glyphs: one height for all (a font's loose boxes), or each
    glyph's own (tight boxes: descenders, capitals, an apostrophe or a dot barely overlapping the others)."""
    baseline = rng.uniform(0, 800)
    if rng.random() < 0.4:
        bottom = baseline - rng.choice([rng.uniform(0, 5), 2.5])
        top = bottom + rng.choice([rng.uniform(0, 30), 12.0, 0.001, 0.0])
        return [top] * count, [bottom] * count
    tops, bottoms = [], []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.5:      # a letter, maybe with a descender or ascender
            bottom = baseline - rng.choice([0.0, 0.0, rng.uniform(0, 3)])
            top = baseline + rng.choice([6.0, 8.5, rng.uniform(4, 9)])
        elif kind < 0.7:    # up high, or low, overlapping a neighbour by about half its height
            bottom = baseline + rng.uniform(3, 9)
            top = bottom + rng.uniform(0, 4)
        elif kind < 0.9:    # a dot or a comma
            bottom, top = baseline - rng.uniform(0, 2), baseline + rng.uniform(0, 2)
        else:               # no height at all
            bottom = top = baseline + rng.uniform(0, 9)
        tops.append(top)
        bottoms.append(bottom)
    return tops, bottoms


def test_one_line_rounds_as_the_boxes_joined():
    """search_lines' shortcut over the glyph edges against the per-character boxes rounded, then joined:
    edges near a rounding boundary, overlapping and backward glyphs, a rightmost glyph that is not the last,
    boxes of one height or each of its own, barely on one line or not."""
    rng = random.Random(13)
    served = uneven = 0
    # boxes rounding to 0.0 and -0.0 (min() keeps the first of equals), and a wide glyph before a narrow one
    fixed = [([0.001, -0.001], [3.0, 1.0]), ([-0.001, 0.001], [3.0, 1.0]), ([0.004, 0.0], [0.0, 0.0]),
             ([10.0, 10.5], [30.0, 12.0]), ([10.0, 10.004], [12.004, 12.0])]
    # the same at the page's top edge (page top 792), and a box 0.004 high
    fixed_verticals = [([791.999, 792.001], [780.0, 781.0]), ([792.001, 791.999], [780.0, 781.0]),
                       ([791.996, 792.0], [780.0, 780.0]), ([800.0, 790.004], [780.0, 790.0])]
    for k in range(30000):
        count = rng.randint(1, 6)
        page_left = rng.choice([0.0, 0.0, 36.125, -12.5, rng.uniform(-50, 50)])
        page_top = rng.choice([792.0, 841.89, rng.uniform(0, 2000)])
        x = rng.choice([rng.uniform(-20, 600), rng.randint(0, 60000) / 100 + 0.005 + page_left])
        lefts, rights = [], []
        for _ in range(count):
            step = rng.choice([rng.uniform(-3, 12), rng.randint(0, 1200) / 1000, 0.005, 0.0])
            width = rng.choice([rng.uniform(-1, 12), step, 0.0, rng.randint(0, 1000) / 200])
            lefts.append(x)
            rights.append(x + width)
            x += step
        tops, bottoms = _glyph_verticals(rng, count)
        if k < len(fixed):
            (lefts, rights), page_left, count = fixed[k], 0.0, len(fixed[k][0])
            tops, bottoms = [700.0] * count, [688.0] * count
        elif k < len(fixed) + len(fixed_verticals):
            (tops, bottoms), page_top = fixed_verticals[k - len(fixed)], 792.0
            lefts, rights, count = [100.0, 105.0], [105.0, 110.0], 2
        edges = lefts + rights
        even = len(set(tops)) == len(set(bottoms)) == 1
        got = search_lines._one_line(lefts, rights, min(edges), max(edges), tops, bottoms, even, page_left, page_top)
        if got is None:
            continue
        served += 1
        uneven += not even
        boxes = []
        for left, right, top, bottom in zip(lefts, rights, tops, bottoms):   # _window_boxes' last lines
            x0, y0, x1, y1 = left - page_left, page_top - bottom, right - page_left, page_top - top
            boxes.append([round(x1 if x1 < x0 else x0, 2), round(y1 if y1 < y0 else y0, 2),
                          round(abs(x1 - x0), 2), round(abs(y1 - y0), 2)])
        assert repr(got) == repr(line_rectangles("x" * count, boxes, 0)), (lefts, rights, tops, bottoms, page_left)
    assert served > 10000 and uneven > 3000, (served, uneven)


def test_the_fast_paths_white_space_is_str_isspace():
    everything = [chr(code) for code in range(0x110000)]
    spaces = {c for c in everything if c.isspace()}
    assert search_lines._SPACES == spaces == {c for c in everything if search_lines._WHITE_SPACE.match(c)}


def test_the_fast_path_serves_words_on_upright_pages(tmp_path):
    path = tmp_path / "doc.pdf"
    path.write_bytes(make_pdf_pages(2, image=False, lines=6))
    (page,) = search_text.page_texts(str(path), "pdf", 0, 0)
    text = page["text"]
    document = pdf.open_pdf(str(path))
    geometry = document.geometry(0)
    textpage = document.page(0).get_textpage()
    try:
        assert search_lines.usable(geometry)
        words = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
        for start, end in words:
            index = search_text._char_index(search_text._dropped_at(page["skips"]), start)
            assert search_lines.hit_line(textpage.raw, text, start, end, index, geometry.left, geometry.top)
        start = text.index("\n") - 2
        assert search_lines.hit_line(textpage.raw, text, start, start + 4, start, geometry.left, geometry.top) is None
    finally:
        textpage.close()


def test_cached_hit_rectangles_are_the_numbers_written():
    from pageturn.core import search_boxes
    one = [{"x": 72.45, "y": -0.0, "width": 25.05, "height": 11.1}]
    two = [{"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0}, {"x": 0.1 + 0.2, "y": 5.0, "width": 6.0, "height": 7.0}]
    hits = {search_boxes.key(3, 0, 5): geometry(one), search_boxes.key(3, 10, 30): geometry(two),
            search_boxes.key(3, 40, 41): geometry([])}
    back = search_boxes.decode(search_boxes.encode(hits))
    assert back == hits
    # the members are JSON a results answer splices in: the numbers exactly as computed, bounding first
    assert json.loads("{" + back["3 10 30"] + "}") == {
        "boundingRectangle": {"x": 0.30000000000000004, "y": 2.0, "width": 6.0, "height": 10.0}, "lineRectangles": two}
    assert json.loads("{" + back["3 0 5"] + "}") == {"boundingRectangle": one[0], "lineRectangles": one}
    assert repr(json.loads("{" + back["3 0 5"] + "}")["lineRectangles"][0]["y"]) == "-0.0"
    assert back["3 40 41"] == '"lineRectangles":[]'
    # what is not such a line is left out (that hit is computed again), never spliced into an answer
    assert search_boxes.decode(b"garbage\n3 0 5 {\"x\":1}\n" + search_boxes.encode(hits)) == hits
    assert search_boxes.decode(b"\xff\xfe") == {}
