"""Which scripts and styles the viewer page names: the bundle (dist/, built by scripts/build_viewer.py) while it
is newer than every source file, else the source modules and style sheets as they are. Bundle URLs carry a
version, so browsers may keep them for a year; the source files are revalidated on each use."""
from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

STATIC_PREFIX = "/viewer/static/"
# the viewer page's blocks the bundle replaces (viewer.html marks them)
SOURCES_START, SOURCES_END = "<!--sources-->", "<!--/sources-->"
SOURCE_SCRIPT = '<script type="module" src="static/js/viewer.js"></script>'
YEAR = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Bundle:
    script: str  # URLs relative to the viewer page
    style: str


_versions: dict[tuple[str, int, int], str] = {}


def _version(path: Path) -> str:
    """A short hash of the file's bytes (kept per mtime and size: a rebuilt file gets a new one)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _versions:
        _versions[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _versions[key]


def fresh_bundle(viewer_dir: Path) -> Bundle | None:
    """The bundle, when both its files exist and are newer than every module and style sheet."""
    script, style = viewer_dir / "dist" / "viewer.js", viewer_dir / "dist" / "viewer.css"
    try:
        built = min(script.stat().st_mtime_ns, style.stat().st_mtime_ns)
        sources = [*(viewer_dir / "js").glob("*.js"), *(viewer_dir / "css").glob("*.css")]
        if any(source.stat().st_mtime_ns > built for source in sources):
            return None
        return Bundle(f"static/dist/viewer.js?v={_version(script)}", f"static/dist/viewer.css?v={_version(style)}")
    except OSError:
        return None


def with_assets(template: str, viewer_dir: Path) -> str:
    """The viewer page naming the bundle when it is fresh; as written (the source modules) otherwise."""
    bundle = fresh_bundle(viewer_dir)
    start, end = template.find(SOURCES_START), template.find(SOURCES_END)
    if bundle is None or start < 0 or end < start or SOURCE_SCRIPT not in template:
        return template
    script, style = html.escape(bundle.script), html.escape(bundle.style)
    tags = f'<link rel="stylesheet" href="{style}">\n  <link rel="modulepreload" href="{script}">'
    page = template[:start] + tags + template[end + len(SOURCES_END):]
    return page.replace(SOURCE_SCRIPT, f'<script type="module" src="{script}"></script>', 1)


async def cache_static(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: versioned bundle files are kept for a year; other static files are revalidated
    (Last-Modified/ETag answer 304), so an updated server is seen at once."""
    if not request.path.startswith(STATIC_PREFIX) or response.status not in (200, 304):
        return
    versioned = request.path.startswith(STATIC_PREFIX + "dist/") and "v" in request.query
    response.headers["Cache-Control"] = YEAR if versioned else "no-cache"
