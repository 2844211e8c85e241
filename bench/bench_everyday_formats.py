"""First SVG page of an e-mail and of each everyday format over HTTP, through a real server with one warm
LibreOffice process and one render worker: upload, conversion, first page. Prints the median of `--runs`
(each run a new file, so nothing comes from the cache); never passes or fails on time.

    .venv/bin/python bench/bench_everyday_formats.py [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import formatgen  # noqa: E402
from api.prizm import Prizm  # noqa: E402
from conftest import ServerProcess  # noqa: E402
from mailgen import html_inline_image_eml, plain_eml  # noqa: E402
from msggen import msg_file  # noqa: E402

FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf")
CASES = {
    "eml (plain)": (lambda n: plain_eml(f"run {n}"), "eml"),
    "eml (HTML, inline image)": (lambda n: html_inline_image_eml(f"run {n}")[0], "eml"),
    "msg": (lambda n: msg_file(subject=f"run {n}", sender_name="A", sender_email="a@example.com",
                               to=[("B", "b@example.com")], body="body", html="<p>body</p>"), None),
    "svg": (lambda n: formatgen.svg(f"run{n}"), None),
    "md": (lambda n: formatgen.markdown(f"run{n}"), "md"),
    "json": (lambda n: formatgen.json_document(f"run{n}"), "json"),
    "xml": (lambda n: formatgen.xml_document(f"run{n}"), "xml"),
    "emf": (lambda n: formatgen.emf(f"run{n}"), None),
    "xps": (lambda n: formatgen.xps(f"run{n}", FONT), None),
}


def first_page(api: Prizm, data: bytes, ext: str | None) -> float:
    started = time.monotonic()
    sid = api.session_with(data, ext)
    r = api.get("/PCCIS/V1/Page/q/0", params={"DocumentID": "u" + sid, "ContentType": "svgb"}, timeout=120)
    assert r.status_code == 200, (r.status_code, r.text[:200])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = ServerProcess(Path(tempfile.mkdtemp()), {"PAGETURN_OFFICE_WORKERS": "1",
                                                      "PAGETURN_RENDER_WORKERS": "1"}).start()
    try:
        api = Prizm(server.url)
        first_page(api, plain_eml("warm-up"), "eml")
        for name, (make, ext) in CASES.items():
            times = [first_page(api, make(run), ext) for run in range(args.runs)]
            print(f"{name:28s} first SVG page: median {statistics.median(times) * 1000:6.0f} ms "
                  f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
