#!/usr/bin/env python3
"""Bundles the viewer for a faster first page: its ES modules into one minified file and its style sheets into
another (src/pageturn/viewer/dist/, not in git), with esbuild from tools/viewer-build (pinned in its
package-lock.json, installed by scripts/setup.sh). One request each instead of 25 module and 5 style requests.

The server uses the bundle only while it is newer than every source file (pageturn.api.viewer_assets), so an
edited module is never hidden by an old bundle; without esbuild the viewer runs from its modules as they are.

Run: scripts/build_viewer.py   (quick: about 0.1 s)"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWER = ROOT / "src" / "pageturn" / "viewer"
DIST = VIEWER / "dist"
ESBUILD = ROOT / "tools" / "viewer-build" / "node_modules" / ".bin" / "esbuild"
# the viewer page's style sheets, in the order viewer.html links them (later rules win)
STYLES = ("base.css", "viewer.css", "search.css", "markup.css", "a11y.css")


def build() -> bool:
    """Builds dist/; False when esbuild is not installed (the viewer then runs from its modules)."""
    if not ESBUILD.exists():
        return False
    DIST.mkdir(exist_ok=True)
    entry = DIST / "styles-entry.css"
    entry.write_text("".join(f'@import "../css/{name}";\n' for name in STYLES), encoding="utf-8")
    common = ["--bundle", "--minify", "--log-level=warning", "--target=chrome111,firefox113,safari16.4"]
    try:
        for source, target in ((VIEWER / "js" / "viewer.js", DIST / "viewer.js"), (entry, DIST / "viewer.css")):
            # written beside and renamed: a server never serves half a file
            partial = target.with_suffix(target.suffix + ".partial")
            subprocess.run([str(ESBUILD), str(source), *common, "--format=esm" if source.suffix == ".js" else
                            "--external:*.svg", f"--outfile={partial}"], check=True, timeout=60)
            partial.replace(target)
    finally:
        entry.unlink(missing_ok=True)
    return True


if __name__ == "__main__":
    if not build():
        sys.exit(f"esbuild is not installed at {ESBUILD}: run scripts/setup.sh")
    print(f"viewer bundle: {', '.join(f'{p.name} {p.stat().st_size // 1024} KB' for p in sorted(DIST.glob('*.*')))}")
