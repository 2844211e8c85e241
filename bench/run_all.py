"""Runs every benchmark in turn (every bench/bench_*.py, bench_load.py included: 2 minutes of load, and
bench_memory.py: about 13 minutes, 10 of them measured) and prints their numbers (none of them pass or fail on
time)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("bench_*.py")):
    print(f"\n===== {script.name} =====", flush=True)
    result = subprocess.run([sys.executable, str(script)])
    if result.returncode != 0:
        print(f"{script.name} exited with {result.returncode}", flush=True)
