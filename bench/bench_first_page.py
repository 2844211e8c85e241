"""Issue 18 benchmark: how soon the viewer shows the first page, in Debian's Chromium against a real server.

Measures, from navigation start (performance.timeOrigin) to the moment page 1's image is decoded and in the
page (`.page[data-page="0"][data-content]`, set only after img.decode()):
  * cached: the same session opened again (server caches warm, browser cache empty: a new context each run);
  * new upload: a session on fresh PDF bytes each run (nothing cached on the server), the upload done before
    navigation (as the landing page does it).
Also prints, for the cached case, the module-loading time (last module script fetched) and whether any
thumbnail request started before page 1's image arrived. Medians of --runs (default 5).

Run: .venv/bin/python bench/bench_first_page.py [--runs 5] [--pages 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from docgen import make_pdf_pages  # noqa: E402

V1 = "/PCCIS/V1/ViewingSession"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]

RECORD = """
window.__firstPage = null;
new MutationObserver(() => {
  if (window.__firstPage === null && document.querySelector('.page[data-page="0"][data-content]')) {
    window.__firstPage = performance.now();
  }
}).observe(document, {subtree: true, attributes: true, childList: true, attributeFilter: ['data-content']});
"""


def new_session(base: str, data: bytes) -> str:
    http = requests.Session()
    sid = http.post(base + V1, json={}).json()["viewingSessionId"]
    assert http.put(f"{base}{V1}/u{sid}/SourceFile", data=data, params={"FileExtension": "pdf"}).status_code == 200
    http.post(f"{base}{V1}/u{sid}/Notification/SessionStarted", json={"viewer": "HTML5"})
    return sid


def open_once(browser, base: str, sid: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
    try:
        page = context.new_page()
        page.add_init_script(RECORD)
        page.goto(f"{base}/viewer/{sid}")
        page.wait_for_function("() => window.__firstPage !== null", timeout=60_000)
        # what the viewer does after page 1 (thumbnails, text) must not bleed into the next run's timing
        page.wait_for_load_state("networkidle")
        return page.evaluate("""(() => {
            const entries = performance.getEntriesByType('resource');
            // the source modules, or the bundle (scripts/build_viewer.py) when the server names it
            const modules = entries.filter(e => /\\/static\\/(js|dist)\\/[^?]*\\.js/.test(e.name));
            const image = entries.filter(e => /\\/Page\\/q\\/0\\?/.test(e.name)
                                              && /ContentType=(svgb|png)/.test(e.name));
            const thumbs = entries.filter(e => /\\/Page\\/q\\/\\d+\\/\\d+x\\d+/.test(e.name));
            const imageEnd = image.length ? Math.min(...image.map(e => e.responseEnd)) : null;
            return {
              first: window.__firstPage,
              modules: modules.length ? Math.max(...modules.map(e => e.responseEnd)) : 0,
              moduleCount: modules.length,
              thumbsBefore: thumbs.filter(e => imageEnd !== null && e.startTime < imageEnd).length,
            };
        })()""")
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp), {"PAGETURN_OFFICE_WORKERS": "1"}).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                cached_sid = new_session(server.url, make_pdf_pages(args.pages))
                open_once(browser, server.url, cached_sid)  # warms the server's caches and the browser
                cached = [open_once(browser, server.url, cached_sid) for _ in range(args.runs)]
                fresh = []
                for run in range(args.runs):
                    # fresh bytes each run: one more page makes a different document for the server
                    sid = new_session(server.url, make_pdf_pages(args.pages + run + 1))
                    fresh.append(open_once(browser, server.url, sid))
                browser.close()
        finally:
            server.stop()

    def runs(rows):
        return ", ".join(f"{row['first']:.0f}" for row in rows)

    def med(rows, key):
        return statistics.median(row[key] for row in rows)

    print(f"first page image, cached document ({args.pages} pages): median {med(cached, 'first'):.0f} ms "
          f"(runs: {runs(cached)}); modules loaded by {med(cached, 'modules'):.0f} ms "
          f"({cached[0]['moduleCount']} script files); thumbnail requests before page 1: "
          f"{max(r['thumbsBefore'] for r in cached)}")
    print(f"first page image, new PDF upload ({args.pages}+ pages): median {med(fresh, 'first'):.0f} ms "
          f"(runs: {runs(fresh)})")


if __name__ == "__main__":
    main()
