"""SVG of a PDF page through poppler's `pdftocairo -svg` (PDFium has no SVG output).

The SVG's `width`, `height` and `viewBox` are in page units (points), like the spec's
`<svg width="595" height="842" viewBox="0 0 595 842">`, and equal the sizes `pdf.info` reports. Text is drawn as
glyph outlines (cairo symbols), so it looks the same in every browser whatever fonts it has. Element ids are
prefixed per page so several pages can be inlined into one HTML document without clashing. Watermarks are
appended as SVG elements over the page.

pdftocairo runs with a timeout and an address-space limit; an encrypted document is given as a private decrypted
copy in memory (a memfd it reads as /dev/fd/N), so the password never appears on a command line and no decrypted
file is ever left on disk.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess

from . import pdf
from .errors import CorruptDocument, EngineError
from .raster import LIMITS
from .watermark import Watermark, svg_overlay

_ROOT = re.compile(rb"<svg\b[^>]*>")
_ID = re.compile(rb'\bid="([^"]+)"')
_REFERENCE = re.compile(rb'(\bid="|href="#|url\(#)([^")]+)')
_PR_SET_PDEATHSIG = 1


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _prepare_child() -> None:
    """In the pdftocairo process before exec: cap its memory, and have it killed if this worker dies (a worker
    killed for a timeout must not leave a converter running)."""
    if LIMITS.svg_memory_mb:
        limit = LIMITS.svg_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the converter's own timeout still bounds it


def pdftocairo_svg(path: str, page: int, pass_fds: tuple[int, ...] = ()) -> bytes:
    """Raw SVG of one page (0-based) from pdftocairo (`pass_fds`: descriptors it may read, as /dev/fd/N)."""
    tool = shutil.which("pdftocairo")
    if tool is None:
        raise EngineError("SVG output needs poppler's pdftocairo, which is not installed")
    number = str(page + 1)
    try:
        done = subprocess.run([tool, "-svg", "-f", number, "-l", number, os.path.abspath(path), "-"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=LIMITS.svg_timeout,
                              preexec_fn=_prepare_child, pass_fds=pass_fds)
    except subprocess.TimeoutExpired:
        raise EngineError(f"Producing SVG for page {page} took longer than {LIMITS.svg_timeout:g} s") from None
    if done.returncode != 0 or not done.stdout.lstrip().startswith((b"<?xml", b"<svg")):
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise CorruptDocument(f"Page {page} could not be converted to SVG ({detail[0][:200]})")
    return done.stdout


def _size_root(svg: bytes, width: float, height: float) -> bytes:
    match = _ROOT.search(svg)
    if match is None:
        raise CorruptDocument("pdftocairo produced no SVG element")
    root = match.group(0)
    root = re.sub(rb'\s(width|height)="[^"]*"', b"", root)
    if b"viewBox=" not in root:
        root = root[:-1] + f' viewBox="0 0 {_number(width)} {_number(height)}">'.encode()
    root = root[:4] + f' width="{_number(width)}" height="{_number(height)}"'.encode() + root[4:]
    return svg[:match.start()] + root + svg[match.end():]


def _prefix_ids(svg: bytes, prefix: bytes) -> bytes:
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def rename(match: re.Match) -> bytes:
        name = match.group(2)
        return match.group(1) + prefix + name if name in ids else match.group(0)

    return _REFERENCE.sub(rename, svg)


def render(path: str, page: int, password: str | None = None, watermarks: list[Watermark] | None = None) -> bytes:
    document = pdf.open_pdf(path, password)
    width, height = document.page_size(page)
    if document.encrypted:
        fd = document.decrypted_copy()
        svg = pdftocairo_svg(f"/dev/fd/{fd}", page, pass_fds=(fd,))
    else:
        svg = pdftocairo_svg(path, page)
    svg = _size_root(svg, width, height)
    prefix = f"p{page}-{hashlib.sha1(path.encode()).hexdigest()[:6]}-".encode()
    svg = _prefix_ids(svg, prefix)
    overlay = svg_overlay(watermarks or [], width, height)
    if overlay:
        end = svg.rfind(b"</svg>")
        if end < 0:
            raise CorruptDocument("pdftocairo produced an incomplete SVG")
        svg = svg[:end] + overlay.encode("utf-8") + b"\n" + svg[end:]
    return svg
