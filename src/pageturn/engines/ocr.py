"""OCR through Tesseract (Debian's `tesseract-ocr` and its language packs), run as a command.

Tesseract writes a "text-only" PDF page for an image: invisible glyphs (render mode 3, its GlyphLessFont) placed
and stretched over each recognised word, at the page size the image has at its resolution. That one artefact
serves both uses:
- a searchable PDF: the text-only page is laid over the original page (engines.assemble), whose image stays as
  it was;
- the viewer's Text endpoint: PDFium reads the text-only page like any PDF text (engines.pdf.text), so OCR'd
  words get per-character boxes in the same units, by the same code, as native text.

Recognition runs inside a render worker, bounded by the pool's memory cap (RLIMIT_AS) and job timeout (the
worker is killed past it), with Tesseract's own per-page timeout below the job's:
- in the worker itself through tesserocr (MIT; built against Debian's libtesseract, so the same engine and
  language data as the `tesseract` command): the engine and its language model are loaded once per worker and
  kept, so a page costs no process start and no model load (about half of a bare `tesseract` run on a 300-dpi
  page);
- else (tesserocr not installed) as the `tesseract` command, a child that inherits the worker's memory limit,
  dies with the worker (PR_SET_PDEATHSIG) and has its own timeout.
"""
from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OcrFailed, OcrUnavailable

if TYPE_CHECKING:
    import tesserocr

TESSERACT = "tesseract"
# PrizmDoc's language names (the SDK's default is "english") and Tesseract's own codes are both accepted.
LANGUAGE_NAMES = {
    "english": "eng", "german": "deu", "french": "fra", "spanish": "spa", "italian": "ita",
    "portuguese": "por", "dutch": "nld",
}
_CODES_TO_NAMES = {code: name for name, code in LANGUAGE_NAMES.items()}


def _die_with_parent() -> None:
    # a worker killed for its timeout must not leave tesseract running on its own
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@functools.lru_cache(maxsize=1)
def installed_codes() -> tuple[str, ...]:
    """Tesseract's installed language codes (without the script-detection pack `osd`), () if none."""
    if shutil.which(TESSERACT) is None:
        return ()
    try:
        listing = subprocess.run([TESSERACT, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    codes = [line.strip() for line in listing.splitlines()[1:] if line.strip()]
    return tuple(sorted(c for c in codes if c != "osd"))


def installed_languages() -> list[str]:
    """What a client may ask for: the PrizmDoc names of installed packs, then every installed code."""
    codes = installed_codes()
    return [_CODES_TO_NAMES[c] for c in codes if c in _CODES_TO_NAMES] + list(codes)


def resolve_language(value: str) -> str | None:
    """A language name or code ("english", "eng", "eng+deu") as Tesseract's `-l` argument, or None when any
    part is not installed."""
    codes = installed_codes()
    parts = []
    for part in str(value).lower().split("+"):
        code = LANGUAGE_NAMES.get(part.strip(), part.strip())
        if code not in codes:
            return None
        parts.append(code)
    return "+".join(parts) if parts else None


def text_only_pdf(image: Path, language: str, dpi: float, out: Path, *, timeout: float) -> None:
    """Recognise `image` (a PBM/PGM/PNG/TIFF file) and write its text-only PDF page to `out`; the page is the
    image's size at `dpi`. `language` is a resolved `-l` argument."""
    engine = _engine(language)
    if engine is None:
        _text_only_pdf_command(image, language, dpi, out, timeout=timeout)
        return
    base = out.with_suffix("")
    engine.SetVariable("user_defined_dpi", str(max(1, round(dpi))))
    started = time.monotonic()
    done = engine.ProcessPages(str(base), str(image), timeout=max(1, int(timeout * 1000)))
    produced = base.with_suffix(".pdf")
    if time.monotonic() - started >= timeout:  # cancelled at its deadline: what it wrote is partial
        produced.unlink(missing_ok=True)
        raise OcrFailed(f"Text recognition took longer than {timeout:g} s")
    if not done or not produced.is_file():
        produced.unlink(missing_ok=True)
        raise OcrFailed("Text recognition failed: Tesseract could not read the page image")
    if produced != out:
        produced.replace(out)


class _Kept:
    """This worker's Tesseract engine, kept between jobs. One at a time: a job in another language replaces it
    (a model holds tens of MiB)."""
    binding: bool | None = None  # whether tesserocr imports (None: not tried yet)
    language: str | None = None
    api: "tesserocr.PyTessBaseAPI | None" = None


def _engine(language: str) -> "tesserocr.PyTessBaseAPI | None":
    """The kept Tesseract engine for `language`, loaded on first use; None when tesserocr is not installed."""
    if _Kept.binding is False:
        return None
    if _Kept.api is not None and _Kept.language == language:
        return _Kept.api
    # as for the command: one thread per recognition (the pool runs one worker per core), set before libgomp loads
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import tesserocr
    except ImportError:
        _Kept.binding = False
        return None
    _Kept.binding = True
    if _Kept.api is not None:
        _Kept.api.End()
        _Kept.api = _Kept.language = None
    try:
        api = tesserocr.PyTessBaseAPI(lang=language, variables={
            "tessedit_create_pdf": "1", "textonly_pdf": "1", "debug_file": "/dev/null"})
    except RuntimeError as exc:
        raise OcrFailed(f"Text recognition could not start: {str(exc)[:200]}") from None
    _Kept.api, _Kept.language = api, language
    return api


def _text_only_pdf_command(image: Path, language: str, dpi: float, out: Path, *, timeout: float) -> None:
    """text_only_pdf through the `tesseract` command (a process and a model load per page)."""
    if shutil.which(TESSERACT) is None:
        raise OcrUnavailable()
    base = out.with_suffix("")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_THREAD_LIMIT": "1", "LC_ALL": "C"}
    command = [TESSERACT, str(image), str(base), "-l", language, "--dpi", str(max(1, round(dpi))),
               "-c", "textonly_pdf=1", "pdf"]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, env=env,
                              preexec_fn=_die_with_parent, cwd=str(out.parent))
    except subprocess.TimeoutExpired:
        raise OcrFailed(f"Text recognition took longer than {timeout:g} s") from None
    produced = base.with_suffix(".pdf")
    if done.returncode != 0 or not produced.is_file():
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise OcrFailed(f"Text recognition failed: {detail[0][:200]}")
    if produced != out:
        produced.replace(out)


def picture_suffix(mode: str) -> str:
    """The file form Tesseract reads fastest for an image of `mode`: raw PBM/PGM (no compression to write or
    undo; Leptonica reads them directly), PNG for anything else."""
    return {"1": ".pbm", "L": ".pgm"}.get(mode, ".png")


def scratch_dir() -> Path:
    """A private directory for one OCR job's files; the caller removes it."""
    return Path(tempfile.mkdtemp(prefix="pageturn-ocr-"))
