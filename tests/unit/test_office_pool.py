"""The LibreOffice pool against real LibreOffice: what the produced PDFs say (words on their pages, sheets and
slides), the errors a user is told, and how the pool survives slow, broken and hostile documents."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest

import officegen
from loopback import LoopbackServer, QuietHandler
from pageturn.engines import text_input
from pageturn.engines.errors import (ConversionFailed, ConversionTimeout, CorruptDocument, MemoryLimitExceeded,
                                     PasswordRequired, QueueFull, UnreadableDocument)
from pageturn.engines.health import Health
from pageturn.engines.office import OfficePool, _sheet_ranges

needs_libreoffice = pytest.mark.skipif(
    not Path("/usr/lib/libreoffice/program/soffice.bin").exists() or not Path("/usr/bin/python3").exists(),
    reason="LibreOffice (Debian packages) is not installed")


# ---- helpers --------------------------------------------------------------------------------------------------
class LoopThread:
    """An event loop in a thread, so synchronous tests can share one pool across a module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout: float = 300):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def page_texts(pdf_path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return [page.get_textpage().get_text_range() for page in pdf]
    finally:
        pdf.close()


def image_count(pdf_path: Path) -> int:
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        return sum(1 for page in pdf for obj in page.get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
    finally:
        pdf.close()


class RecordingServer(LoopbackServer):
    """An HTTP listener on 127.0.0.1 that records every request it gets (and answers with a PNG)."""

    def __init__(self) -> None:
        requests: list[tuple[str, str]] = []
        self.requests = requests
        png = officegen.png_bytes()

        class Handler(QuietHandler):
            def _any(self) -> None:
                requests.append((self.command, self.path))
                self.send_body(png, "image/png")

            do_GET = do_HEAD = do_OPTIONS = do_PROPFIND = _any

        super().__init__(Handler)


@pytest.fixture(scope="module")
def runner():
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def pool(runner, tmp_path_factory):
    pool = OfficePool(2, timeout=120, work_dir=tmp_path_factory.mktemp("office"))
    runner.run(pool.start())
    yield pool
    runner.run(pool.stop())


@pytest.fixture
def convert(pool, runner, tmp_path):
    def run(src: Path, fmt: str, **options):
        out = tmp_path / f"{src.stem}-out.{options.get('target', 'pdf')}"
        return runner.run(pool.convert(src, out, fmt, **options)), out
    return run


# ---- Office documents ----------------------------------------------------------------------------------------
@needs_libreoffice
def test_docx_keeps_every_word_on_its_page(convert, tmp_path):
    src = tmp_path / "pages.docx"
    markers = officegen.docx_pages(src, 5, tables=True, image=True)
    result, pdf = convert(src, "docx")
    texts = page_texts(pdf)
    assert result.page_count == len(texts) == 5
    assert result.sheets is None
    for index, marker in enumerate(markers):
        assert [i for i, text in enumerate(texts) if marker in text] == [index]
    assert "R1C2" in texts[0]  # the table's cells are there
    assert image_count(pdf) >= 1


@needs_libreoffice
def test_word_document_converts_to_docx(convert, tmp_path):
    from docx import Document

    src = tmp_path / "source.docx"
    markers = officegen.docx_pages(src, 3)
    result, out = convert(src, "docx", target="docx")
    assert result.page_count is None
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert all(marker in text for marker in markers)


@needs_libreoffice
def test_workbook_reports_each_sheets_pages(convert, tmp_path):
    src = tmp_path / "book.xlsx"
    expected = officegen.xlsx_sheets(src)
    result, pdf = convert(src, "xlsx")
    texts = page_texts(pdf)
    assert result.page_count == len(texts)
    assert [s["name"] for s in result.sheets] == [name for name, _ in expected]
    by_name = {s["name"]: s for s in result.sheets}
    assert by_name["Blank"]["pageCount"] == 0
    assert by_name["Budget"]["pageCount"] >= 2 and by_name["Summary"]["pageCount"] == 1
    # the ranges cover the PDF's pages, in order, without gaps
    assert sum(s["pageCount"] for s in result.sheets) == result.page_count
    assert by_name["Budget"]["firstPageIndex"] == 0
    assert by_name["Summary"]["firstPageIndex"] == by_name["Budget"]["pageCount"]
    for name, words in expected:
        sheet = by_name[name]
        pages = range(sheet["firstPageIndex"], sheet["firstPageIndex"] + sheet["pageCount"])
        for word in words:
            assert [i for i, text in enumerate(texts) if word in text][0] in pages, (name, word)
    assert "BudgetBottomRow" in texts[by_name["Budget"]["pageCount"] - 1]


@needs_libreoffice
def test_presentation_has_one_page_per_slide(convert, tmp_path):
    src = tmp_path / "deck.pptx"
    titles = officegen.pptx_slides(src, 4)
    result, pdf = convert(src, "pptx")
    texts = page_texts(pdf)
    assert result.page_count == 4
    for index, title in enumerate(titles):
        assert title in texts[index]


# ---- text, tables, HTML --------------------------------------------------------------------------------------
@needs_libreoffice
@pytest.mark.parametrize("encoding, sample", [
    ("utf-8", officegen.TEXT_SAMPLE), ("utf-16", officegen.TEXT_SAMPLE), ("latin-1", officegen.LATIN1_SAMPLE),
])
def test_text_file_is_decoded_from_its_encoding(convert, tmp_path, encoding, sample):
    src = tmp_path / "notes.txt"
    officegen.text_file(src, sample, encoding)
    result, pdf = convert(src, "txt")
    text = page_texts(pdf)[0]
    assert result.page_count == 1
    for line in sample.strip().splitlines():
        assert line in text


@needs_libreoffice
@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("csv", ";"), ("tsv", "\t")])
def test_csv_and_tsv_become_a_table(convert, tmp_path, fmt, delimiter):
    src = tmp_path / f"table.{fmt}"
    rows = [["City", "Population", "Country"], ["Zürich", "421878", "Switzerland"], ["Lyon", "516092", "France"]]
    officegen.csv_file(src, rows, delimiter)
    result, pdf = convert(src, fmt)
    text = page_texts(pdf)[0]
    assert result.page_count == 1 and result.sheets is None
    for row in rows:
        for cell in row:
            assert cell in text
        assert delimiter.join(row) not in text  # split into cells, not shown as one line of text


@needs_libreoffice
def test_html_external_resources_are_never_fetched(convert, tmp_path):
    server = RecordingServer()
    try:
        src = tmp_path / "page.html"
        marker = officegen.html_with_external_image(src, server.url + "/image.png",
                                                    stylesheet_url=server.url + "/style.css")
        result, pdf = convert(src, "html")
        assert marker in page_texts(pdf)[0]
        assert result.page_count == 1
        time.sleep(0.5)
        assert server.requests == []
    finally:
        server.close()


@needs_libreoffice
def test_linked_image_outside_the_job_is_not_read(pool, convert, tmp_path):
    """A Word file that links a picture by path must not pull that file into its PDF."""
    if pool.stats()["isolation"] != "sandbox":
        pytest.skip("bubblewrap sandbox not available here: LibreOffice can read local files")
    outside = tmp_path / "private-picture.png"
    outside.write_bytes(officegen.png_bytes(seed=7))
    src = tmp_path / "linked.docx"
    marker = officegen.docx_with_linked_image(src, outside.as_uri())
    embedded = tmp_path / "embedded.docx"
    officegen.docx_pages(embedded, 2, image=True)
    result, pdf = convert(src, "docx")
    assert marker in page_texts(pdf)[0]
    assert image_count(pdf) == 0
    _, control = convert(embedded, "docx")
    assert image_count(control) == 1  # the same check sees an image when there is one


# ---- errors ---------------------------------------------------------------------------------------------------
@needs_libreoffice
def test_password_protected_docx(convert, tmp_path):
    src = tmp_path / "secret.docx"
    markers = officegen.encrypted_docx(src, "open sesame")
    with pytest.raises(PasswordRequired):
        convert(src, "docx")
    with pytest.raises(PasswordRequired):
        convert(src, "docx", password="wrong guess")
    result, pdf = convert(src, "docx", password="open sesame")
    texts = page_texts(pdf)
    assert result.page_count == 2
    assert markers[1] in texts[1]


@needs_libreoffice
@pytest.mark.parametrize("make", [officegen.corrupt_docx, officegen.broken_xml_docx,
                                  lambda path: path.write_bytes(bytes(range(256)) * 50)])
def test_damaged_docx_is_a_clear_error_and_the_pool_keeps_converting(convert, tmp_path, make):
    bad = tmp_path / "bad.docx"
    make(bad)
    with pytest.raises(UnreadableDocument) as error:
        convert(bad, "docx")
    assert isinstance(error.value, ConversionFailed) and isinstance(error.value, CorruptDocument)
    assert "could not open" in str(error.value) or "not a valid" in str(error.value)
    good = tmp_path / "good.docx"
    markers = officegen.docx_pages(good, 2)
    result, pdf = convert(good, "docx")
    assert result.page_count == 2 and markers[0] in page_texts(pdf)[0]


@needs_libreoffice
def test_unknown_format_and_target_are_refused(convert, tmp_path):
    src = tmp_path / "deck.pptx"
    officegen.pptx_slides(src, 1)
    with pytest.raises(ConversionFailed):
        convert(src, "pptx", target="docx")
    with pytest.raises(ConversionFailed):
        convert(src, "exe")


@needs_libreoffice
def test_stats_describe_each_process(pool, convert, tmp_path):
    src = tmp_path / "one.docx"
    officegen.docx_pages(src, 1)
    convert(src, "docx")
    stats = pool.stats()
    assert len(stats["processes"]) == 2
    for process in stats["processes"]:
        assert process["pid"] and process["rss_mb"] > 20 and process["busy"] is False
    assert sum(p["conversions"] for p in stats["processes"]) >= 1
    assert isinstance(pool, Health) and pool.healthy()


# ---- timeouts, recycling, queueing (a pool of one) -----------------------------------------------------------
@pytest.fixture(scope="module")
def small_pool(runner, tmp_path_factory):
    pool = OfficePool(1, timeout=120, max_conversions=3, queue_limit=2,
                      work_dir=tmp_path_factory.mktemp("office-small"))
    runner.run(pool.start())
    yield pool
    runner.run(pool.stop())


@pytest.fixture(scope="module")
def slow_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("slow") / "long.docx"
    officegen.long_docx(path, pages=60)
    return path


def wait_until_ready(pool: OfficePool, runner: LoopThread, timeout: float = 120) -> None:
    async def ready():
        deadline = time.monotonic() + timeout
        while not all(p["state"] == "ready" for p in pool.stats()["processes"]):
            assert time.monotonic() < deadline, pool.stats()
            await asyncio.sleep(0.1)
    runner.run(ready(), timeout + 10)


@needs_libreoffice
def test_timeout_kills_the_process_and_the_next_conversion_succeeds(small_pool, runner, slow_docx, tmp_path):
    pid_before = small_pool.stats()["processes"][0]["pid"]
    started = time.monotonic()
    with pytest.raises(ConversionTimeout):
        runner.run(small_pool.convert(slow_docx, tmp_path / "slow.pdf", "docx", timeout=0.3))
    assert time.monotonic() - started < 10
    good = tmp_path / "after.docx"
    markers = officegen.docx_pages(good, 2)
    result = runner.run(small_pool.convert(good, tmp_path / "after.pdf", "docx"))
    assert result.page_count == 2 and markers[1] in page_texts(tmp_path / "after.pdf")[1]
    process = small_pool.stats()["processes"][0]
    assert process["pid"] != pid_before and process["restarts"] >= 1


@needs_libreoffice
def test_process_is_recycled_after_its_conversion_budget(small_pool, runner, tmp_path):
    wait_until_ready(small_pool, runner)
    src = tmp_path / "small.docx"
    officegen.docx_pages(src, 1)
    first = small_pool.stats()["processes"][0]
    pids = []
    for index in range(3 - first["conversions"]):
        runner.run(small_pool.convert(src, tmp_path / f"r{index}.pdf", "docx"))
        pids.append(small_pool.stats()["processes"][0]["pid"])
    wait_until_ready(small_pool, runner)
    after = small_pool.stats()["processes"][0]
    assert after["restarts"] == first["restarts"] + 1
    assert after["pid"] != first["pid"] and after["conversions"] == 0
    result = runner.run(small_pool.convert(src, tmp_path / "again.pdf", "docx"))
    assert result.page_count == 1


@needs_libreoffice
def test_process_is_recycled_when_its_memory_passes_the_limit(small_pool, runner, tmp_path):
    wait_until_ready(small_pool, runner)
    src = tmp_path / "small.docx"
    officegen.docx_pages(src, 1)
    before = small_pool.stats()["processes"][0]
    assert before["rss_mb"] > 1
    limit = small_pool.recycle_memory_mb
    small_pool.recycle_memory_mb = 1  # any soffice is bigger than this
    try:
        runner.run(small_pool.convert(src, tmp_path / "m.pdf", "docx"))
        wait_until_ready(small_pool, runner)
    finally:
        small_pool.recycle_memory_mb = limit
    after = small_pool.stats()["processes"][0]
    assert after["restarts"] == before["restarts"] + 1 and after["pid"] != before["pid"]


@needs_libreoffice
def test_a_document_past_the_memory_cap_is_stopped_while_converting(runner, tmp_path):
    import bombgen

    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(bombgen.docx_bomb(1 << 30))
    pool = OfficePool(1, timeout=120, max_memory_mb=300, work_dir=tmp_path / "office")
    runner.run(pool.start())
    try:
        soffice = pool.stats()["processes"][0]["pid"]
        with open(f"/proc/{soffice}/limits") as limits:  # the kernel's backstop: cap + headroom of address space
            assert any(line.startswith("Max address space") and str((300 + 1024) << 20) in line for line in limits)
        with pytest.raises(MemoryLimitExceeded):
            runner.run(pool.convert(bomb, tmp_path / "bomb.pdf", "docx"), 150)
        wait_until_ready(pool, runner)
        assert pool.stats()["processes"][0]["pid"] != soffice and pool.healthy()
        good = tmp_path / "good.docx"
        officegen.docx_pages(good, 1)
        assert runner.run(pool.convert(good, tmp_path / "good.pdf", "docx")).page_count == 1
    finally:
        runner.run(pool.stop())
    assert not pool.healthy()


@needs_libreoffice
def test_waiting_conversions_are_served_in_order_and_the_queue_is_bounded(small_pool, runner, slow_docx, tmp_path):
    wait_until_ready(small_pool, runner)
    small = tmp_path / "small.docx"
    officegen.docx_pages(small, 1)

    async def scenario():
        finished: list[str] = []

        async def job(name: str, src: Path):
            await small_pool.convert(src, tmp_path / f"{name}.pdf", "docx")
            finished.append(name)

        busy = asyncio.create_task(job("busy", slow_docx))
        await asyncio.sleep(0.2)
        first = asyncio.create_task(job("first", small))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(job("second", small))
        await asyncio.sleep(0.05)
        assert small_pool.stats()["waiting"] == 2
        with pytest.raises(QueueFull):
            await small_pool.convert(small, tmp_path / "third.pdf", "docx")
        await asyncio.gather(busy, first, second)
        return finished

    assert runner.run(scenario()) == ["busy", "first", "second"]


# ---- pieces without LibreOffice -------------------------------------------------------------------------------
def test_text_decoding_finds_the_encoding():
    sample = "Zoë paid 42 € for crème brûlée"
    assert text_input.decode_text(sample.encode("utf-8")) == sample
    assert text_input.decode_text(sample.encode("utf-16")) == sample
    assert text_input.decode_text(sample.encode("utf-16-le")) == sample
    assert text_input.decode_text(b"\xef\xbb\xbf" + sample.encode("utf-8")) == sample
    assert text_input.decode_text(sample.encode("cp1252")) == sample
    assert text_input.decode_text("Zoë £5".encode("latin-1")) == "Zoë £5"


def test_html_is_stripped_of_everything_it_would_fetch():
    page = (b"<html><head><meta charset='iso-8859-1'><link rel=stylesheet href='http://x/s.css'>"
            b"<style>@import url(http://x/a.css); body{background:url('http://x/b.png')}</style>"
            b"<script src='http://x/j.js'></script></head><body background='file:///etc/hosts'>"
            b"<h1 style='background-image:url(http://x/c.png)'>Caf\xe9</h1><img src='http://x/i.png' alt='pic'>"
            b"<img src='data:image/png;base64,iVBORw0KGgo='><a href='https://example.org/'>link</a>"
            b"<iframe src='http://x/f'></iframe><object data='file:///etc/passwd'></object></body></html>")
    cleaned = text_input.sanitize_html(page).decode("utf-8")
    assert "http://x" not in cleaned and "file://" not in cleaned
    assert "Café" in cleaned and 'charset="utf-8"' in cleaned
    assert "https://example.org/" in cleaned and "data:image/png" in cleaned


def test_sheet_ranges_follow_the_pdf_bookmarks():
    sheets = [{"name": "A", "visible": True}, {"name": "Empty", "visible": True},
              {"name": "Hidden", "visible": False}, {"name": "C", "visible": True}]
    ranges = _sheet_ranges(sheets, [("A", 0), ("C", 3)], 5)
    assert ranges == [{"name": "A", "firstPageIndex": 0, "pageCount": 3},
                      {"name": "Empty", "firstPageIndex": 3, "pageCount": 0},
                      {"name": "C", "firstPageIndex": 3, "pageCount": 2}]
    assert _sheet_ranges(sheets, [("Other", 0)], 1) is None
