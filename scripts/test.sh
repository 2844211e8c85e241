#!/usr/bin/env bash
# Runs the static checks (ruff, mypy: configured in pyproject.toml), then the whole test suite against real
# server processes (started by the tests on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check
.venv/bin/mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
