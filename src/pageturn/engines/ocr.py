"""OCR through Tesseract (Debian's `tesseract-ocr` and its language packs), run as a command.

Tesseract writes a "text-only" PDF page for an image: invisible glyphs (render mode 3, its GlyphLessFont) placed
and stretched over each recognised word, at the page size the image has at its resolution. That one artefact
serves both uses:
- a searchable PDF: the text-only page is laid over the original page (engines.assemble), whose image stays as
  it was;
- the viewer's Text endpoint: PDFium reads the text-only page like any PDF text (engines.pdf.text), so OCR'd
  words get per-character boxes in the same units, by the same code, as native text.

Runs inside a render worker (memory cap and job timeout of the pool); the tesseract child inherits the
worker's memory limit, dies with the worker (PR_SET_PDEATHSIG) and has its own timeout below the job's.
"""
from __future__ import annotations

import ctypes
import functools
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .errors import OcrFailed, OcrUnavailable

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
    """Recognise `image` (a PNG/TIFF file) and write its text-only PDF page to `out`; the page is the image's
    size at `dpi`. `language` is a resolved `-l` argument."""
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


def scratch_dir() -> Path:
    """A private directory for one OCR job's files; the caller removes it."""
    return Path(tempfile.mkdtemp(prefix="pageturn-ocr-"))
