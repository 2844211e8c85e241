"""Where LibreOffice's time goes on one Word document, through the same UNO bridge code the warm pool runs
(engines/uno_bridge.py): load, export of pages 1-5 right after loading (does layout of the first pages come
before the rest?), the page count (layout done?), the whole PDF, pages 1-5 again once laid out.

Run by bench/bench_office_large.py under Debian's /usr/bin/python3 (python3-uno); prints one JSON line.
    /usr/bin/python3 bench/office_phases.py DOCX SCRATCH_DIR
"""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src" / "pageturn" / "engines"))
import uno  # noqa: E402
from uno_bridge import PDF_FILTER_DATA, Office, props  # noqa: E402


def store(doc, path: str, page_range: str | None = None) -> None:
    data = dict(PDF_FILTER_DATA, **({"PageRange": page_range} if page_range else {}))
    doc.storeToURL(uno.systemPathToFileUrl(path), props(
        FilterName="writer_pdf_Export", Overwrite=True,
        FilterData=uno.Any("[]com.sun.star.beans.PropertyValue", props(**data))))


def main() -> None:
    src, scratch = sys.argv[1], Path(sys.argv[2])
    (scratch / "tmp").mkdir(parents=True, exist_ok=True)
    office = Office(str(scratch / "profile"), f"phases-{os.getpid()}", str(scratch / "tmp"))
    office.start(time.monotonic() + 180)
    try:
        office.configure()
        office.warm_up()  # as the pool's processes are
        times = {}
        started = time.monotonic()
        doc = office.desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0,
                                                  props(Hidden=True, ReadOnly=True))
        times["load"] = time.monotonic() - started
        mark = time.monotonic()
        store(doc, str(scratch / "first5.pdf"), "1-5")
        times["export_1_5_after_load"] = time.monotonic() - mark
        mark = time.monotonic()
        pages = doc.getCurrentController().getPropertyValue("PageCount")
        times["page_count"] = time.monotonic() - mark
        mark = time.monotonic()
        store(doc, str(scratch / "all.pdf"))
        times["export_all"] = time.monotonic() - mark
        mark = time.monotonic()
        store(doc, str(scratch / "first5b.pdf"), "1-5")
        times["export_1_5_laid_out"] = time.monotonic() - mark
        doc.close(True)
        print(json.dumps({"pages": pages, **{k: round(v, 3) for k, v in times.items()}}), flush=True)
    finally:
        office.stop()


if __name__ == "__main__":
    main()
