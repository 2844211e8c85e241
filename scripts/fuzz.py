"""The long fuzz run (`make fuzz`): mutated PDF, PNG, JPEG, TIFF, docx, xlsx, pptx and HTML files through a real
server, with its figures printed at the end. Exit status 1 when anything was found.

    .venv/bin/python scripts/fuzz.py                      # 1,000 files, seed 1
    .venv/bin/python scripts/fuzz.py --cases 5000 --seed 7
    .venv/bin/python scripts/fuzz.py --seed 1 --case 417 --keep /tmp/fuzz   # replay one file, keep its bytes
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import ServerProcess  # noqa: E402
from fuzz.campaign import run, summary  # noqa: E402
from fuzz.settings import CHILD_PEAK, SERVER_PEAK, SERVER_SETTINGS, TIMEOUT  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--case", type=int, action="append", help="run only this case (repeatable)")
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--render-workers", type=int, default=2)
    parser.add_argument("--office-workers", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="write every case's bytes here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pageturn-fuzz-") as tmp:  # the server log goes with it
        env = {**SERVER_SETTINGS, "PAGETURN_RENDER_WORKERS": str(args.render_workers),
               "PAGETURN_OFFICE_WORKERS": str(args.office_workers)}
        server = ServerProcess(Path(tmp) / "data", env).start()
        try:
            def progress(report) -> None:
                if report.cases % 50 == 0:
                    print(f"  {report.cases} files, {len(report.findings)} findings", flush=True)

            report = asyncio.run(run(server.url, server.proc.pid, seed=args.seed, cases=args.cases,
                                     concurrency=args.concurrency, timeout=TIMEOUT,
                                     alive=lambda: server.proc.poll() is None, only=args.case, keep=args.keep,
                                     progress=progress))
        finally:
            server.stop()
            log = server.log()
            if "Traceback" in log:
                kept = Path(tempfile.gettempdir()) / f"pageturn-fuzz-seed{args.seed}-server.log"
                kept.write_text(log)
                print(f"the server logged {log.count('Traceback')} tracebacks; its log: {kept}")
        print(summary(report))
    bounded = report.peak_server < SERVER_PEAK and report.peak_child < CHILD_PEAK
    if not bounded:
        print(f"memory above its bound: server < {SERVER_PEAK >> 20} MiB, each worker < {CHILD_PEAK >> 20} MiB")
    return 1 if report.findings or not report.server_alive or not bounded else 0


if __name__ == "__main__":
    sys.exit(main())
