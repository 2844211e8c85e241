"""The README's settings table lists exactly the settings config.py defines, each with its real default and the
same meaning as `pageturn serve --help` gives."""
from __future__ import annotations

import re
from pathlib import Path

from pageturn.config import Settings, _convert

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| setting (`--flag`, `PAGETURN_…`) | default | meaning |"


def readme_settings() -> dict[str, tuple[str, str]]:
    """name -> (default as written, meaning) from the table under HEADER."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2  # after the header and its | --- | row
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 3, f"a settings row needs three cells: {line}"
        match = re.fullmatch(r"`([a-z0-9_]+)`", cells[0])
        assert match, f"the first cell names one setting in backquotes: {line}"
        assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
        rows[match.group(1)] = (cells[1], cells[2])
    return rows


def _default_as_written(written: str, kind: str):
    if written in ("", "(none)"):
        return [] if kind == "list" else ""
    return _convert(kind, written)


def test_the_table_lists_every_setting_and_nothing_else():
    listed = set(readme_settings())
    defined = {f.name for f in Settings.fields()}
    assert listed - defined == set(), "in the README but not in config.py"
    assert defined - listed == set(), "in config.py but not in the README"


def test_defaults_and_meanings_match_the_code():
    rows = readme_settings()
    defaults = Settings()
    for f in Settings.fields():
        written, meaning = rows[f.name]
        kind = f.metadata["kind"]
        assert _default_as_written(written, kind) == getattr(defaults, f.name), (f.name, written)
        assert " ".join(meaning.split()) == " ".join(f.metadata["help"].split()), f.name
