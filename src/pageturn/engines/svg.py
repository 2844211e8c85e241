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

from . import pdf, poppler_svg
from .errors import CorruptDocument, EngineError
from .raster import LIMITS
from .watermark import Watermark, svg_overlay

_ROOT = re.compile(rb"<svg\b[^>]*>")
_COUNTED = rb"(surface|image|clip|mask|pattern|source|linear|radial|filter)"
_COUNTED_ID = re.compile(rb'\sid="' + _COUNTED + rb'(\d+)"')
_COUNTED_REFERENCE = re.compile(rb'(\sid="|href="#|url\(#)' + _COUNTED + rb'(\d+)(?=[")])')
_PR_SET_PDEATHSIG = 1


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _prepare_child() -> None:
    """In the pdftocairo process before exec: cap its memory, and have it killed if this worker dies (a worker
    killed for a timeout must not leave a converter running)."""
    if LIMITS.svg_memory_mb:
        limit = LIMITS.svg_memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # a worker under a smaller cap cannot raise it for its child
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


def _renumber(svg: bytes) -> bytes:
    """Number cairo's surface/image/clip/... ids from 1 in order of appearance. cairo counts some of them per
    process, so a renderer that stays loaded would write ever longer ids; renumbered, the SVG of a page is the same
    whichever renderer drew it, and never longer than a fresh pdftocairo's (rank k <= the k-th smallest id)."""
    numbers: dict[bytes, dict[bytes, bytes]] = {}
    for family, number in _COUNTED_ID.findall(svg):
        family_numbers = numbers.setdefault(family, {})
        family_numbers.setdefault(number, str(len(family_numbers) + 1).encode())
    if all(old == new for family_numbers in numbers.values() for old, new in family_numbers.items()):
        return svg

    def rename(match: re.Match) -> bytes:
        new = numbers.get(match.group(2), {}).get(match.group(3))
        return match.group(1) + match.group(2) + new if new is not None else match.group(0)

    return _COUNTED_REFERENCE.sub(rename, svg)


def _prefix_ids(svg: bytes, prefix: bytes) -> bytes:
    """Prefix every id and every reference to one. cairo writes ids and references only in these three forms, and
    never those characters elsewhere (text is drawn as glyph outlines, images are base64), so plain replacement is
    exact; a reference to a missing id stays a reference to a missing id."""
    return (svg.replace(b' id="', b' id="' + prefix).replace(b'href="#', b'href="#' + prefix)
            .replace(b"url(#", b"url(#" + prefix))


def prestart() -> None:
    """Start this worker's SVG helper ahead of its first SVG page (when the helper is enabled)."""
    if LIMITS.svg_helper:
        poppler_svg.prestart(_prepare_child)


def _raw_svg(path: str, page: int, document: pdf.OpenPdf, password: str | None) -> bytes:
    if LIMITS.svg_helper and poppler_svg.available():
        try:
            return poppler_svg.render(path, page, password, timeout=LIMITS.svg_timeout, prepare=_prepare_child)
        except OSError:
            pass  # poppler-glib is not installed for /usr/bin/python3: pdftocairo per page, as before
    if document.encrypted:
        fd = document.decrypted_copy()
        return pdftocairo_svg(f"/dev/fd/{fd}", page, pass_fds=(fd,))
    return pdftocairo_svg(path, page)


def render(path: str, page: int, password: str | None = None, watermarks: list[Watermark] | None = None) -> bytes:
    document = pdf.open_pdf(path, password)
    width, height = document.page_size(page)
    svg = _renumber(_raw_svg(path, page, document, password))
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
