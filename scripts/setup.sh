#!/usr/bin/env bash
# Installs what pageturn needs on a Debian machine, as root, and is quick when all is already there:
# Debian packages (LibreOffice, poppler, fonts, Chromium, Redis) and .venv with pageturn in editable mode.
# Usage: scripts/setup.sh [--test]   (--test also installs the test dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui libreoffice-draw-nogui python3-uno
  libgxps-utils
  poppler-utils gir1.2-poppler-0.18 python3-gi-cairo python3-cairo util-linux bubblewrap fontconfig
  fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2 fonts-dejavu-core fonts-noto-cjk
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-spa tesseract-ocr-ita
  tesseract-ocr-por tesseract-ocr-nld
  libtesseract-dev libleptonica-dev pkg-config g++  # tesserocr is built against Debian's libtesseract
)
TEST_APT_PACKAGES=(chromium redis-server wrk haproxy libheif-examples)  # heif-enc writes the tests' HEIC photos

want=("${APT_PACKAGES[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST_APT_PACKAGES[@]}")
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PY=${PYTHON:-python3}
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
stamp=".venv/.pageturn-installed${extras}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# reinstall only when the dependency list changed
digest=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  echo "setup: installing Python dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  # tesserocr from source: linked to Debian's libtesseract and its language packs, not a wheel's own copy
  .venv/bin/python -m pip install -q --no-binary tesserocr -e ".${extras}"
  echo "$digest" > "$stamp"
fi

# the viewer's bundler (esbuild, pinned in tools/viewer-build/package-lock.json) and the bundle itself; without
# npm the viewer runs from its source modules
if command -v npm >/dev/null 2>&1; then
  lock_digest=$(sha256sum tools/viewer-build/package-lock.json | cut -c1-16)
  tool_stamp="tools/viewer-build/node_modules/.pageturn-installed"
  if [ ! -f "$tool_stamp" ] || [ "$(cat "$tool_stamp")" != "$lock_digest" ]; then
    echo "setup: installing the viewer's bundler (npm ci)"
    npm ci --prefix tools/viewer-build --no-audit --no-fund --ignore-scripts -q && echo "$lock_digest" > "$tool_stamp"
  fi
  .venv/bin/python scripts/build_viewer.py >/dev/null || echo "setup: the viewer bundle was not built (the viewer uses its modules)"
fi
