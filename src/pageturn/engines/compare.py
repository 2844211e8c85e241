"""Word comparison: a redlined DOCX with real revision marks, its list of changes, and where each change lands
in the PDF that LibreOffice renders from it.

1. `compare_docx` runs the Docxodus engine (shipped by python-redlines with its own .NET runtime); it writes a
   DOCX whose differences are Word tracked changes (w:ins, w:del, w:moveFrom/moveTo, w:rPrChange, w:pPrChange,
   w:numberingChange, w:tcPrChange, w:cellIns/cellDel, w:sectPrChange, row w:trPr/w:ins|del, style marks).
2. `parse_changes` reads those marks with lxml into the revisionData change list, in document order.
3. `add_change_markers` writes a copy of the redlined DOCX for rendering: two collapsed bookmarks per change
   (`pageturnchg{id}s` where it starts, `pageturnchg{id}e` where it ends), and formatting marks that change
   nothing removed so LibreOffice does not paint unchanged text as changed. Converted with the
   `ExportBookmarksToPDFDestination` filter option, each bookmark becomes a PDF named destination at the exact
   caret position; nothing is drawn and the layout is untouched.
4. `locate_changes` reads those destinations with PDFium and turns each start/end pair into pages and
   rectangles of the characters between them. Without destinations it falls back to finding each change's text
   in the page text, in document order.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT_PART = "word/document.xml"
STYLES_PART = "word/styles.xml"
SETTINGS_PART = "word/settings.xml"
MARKER_PREFIX = "pageturnchg"      # letters and digits only: LibreOffice escapes other characters in names
TEXT_LIMIT = 200
MAX_XML_PART_BYTES = 256 * 1024 * 1024   # refuse zip bombs before lxml sees them

# Filter options LibreOffice needs for `locate_changes` (bookmarks -> named destinations).
PDF_EXPORT_FILTER_DATA = {"ExportBookmarksToPDFDestination": True}
PDF_EXPORT_FILTER = 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'

CHANGE_TYPES = ("contentInserted", "contentDeleted", "propertyChanged", "paragraphNumberChanged",
                "paragraphPropertyChanged", "tablePropertyChanged", "sectionPropertyChanged",
                "styleDefinitionChanged", "contentMovedFrom", "contentMovedTo", "tableCellInserted",
                "tableCellDeleted", "tableCellsMerged")


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


class CompareError(RuntimeError):
    """The comparison engine failed or a document could not be read."""


# ---- 1. running the engine ------------------------------------------------------------------------------------

_binary_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _cached_binary() -> str:
    from python_redlines import DocxodusEngine  # extracts its .NET build once into the user cache directory
    return DocxodusEngine().extracted_binaries_path


def redline_binary() -> str:
    """Path of the Docxodus `redline` executable (extracted on first use; call at startup to warm it)."""
    with _binary_lock:
        return _cached_binary()


def compare_docx(original: Path, revised: Path, out: Path, author: str = "pageturn", *,
                 detect_moves: bool = True, timeout: float = 120) -> None:
    """Writes to `out` the revised document with every difference from `original` as a Word tracked change."""
    env = dict(os.environ)
    env.setdefault("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")  # no libicu needed
    env.setdefault("DOTNET_CLI_TELEMETRY_OPTOUT", "1")
    env.setdefault("DOTNET_TieredPGO", "0")  # a one-shot process: profiling the JIT costs ~10% and never pays back
    command = [redline_binary(), str(original), str(revised), str(out), f"--author={author}"]
    if detect_moves:
        command.append("--detect-moves")
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise CompareError(f"the comparison took longer than {timeout:g} s") from exc
    if result.returncode != 0 or not Path(out).is_file():
        detail = (result.stderr or result.stdout or "").strip()[-1000:]
        raise CompareError(f"the comparison engine failed ({result.returncode}): {detail}")


# ---- reading parts safely ---------------------------------------------------------------------------------------

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False)


def _read_part(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_XML_PART_BYTES:
        raise CompareError(f"{name} is too large")
    return etree.fromstring(archive.read(info), _PARSER)


def _story_parts(archive: zipfile.ZipFile) -> list[str]:
    """The parts whose text the reader sees: the body first, then headers, footers, footnotes and endnotes."""
    names = archive.namelist()

    def numbered(prefix: str) -> list[str]:
        found = [n for n in names if re.fullmatch(rf"word/{prefix}\d*\.xml", n)]
        return sorted(found, key=lambda n: int(re.sub(r"\D", "", n) or 0))

    extra = numbered("header") + numbered("footer")
    extra += [n for n in ("word/footnotes.xml", "word/endnotes.xml") if n in names]
    return [DOCUMENT_PART, *extra]


# ---- comparing property sets -------------------------------------------------------------------------------------

_IGNORED_ATTRIBUTES = re.compile(r"rsid", re.IGNORECASE)
_CHANGE_TAGS = {w(t) for t in ("rPrChange", "pPrChange", "tblPrChange", "trPrChange", "tcPrChange", "sectPrChange",
                               "tblPrExChange", "tblGridChange", "numberingChange")}
_MARK_TAGS = {w(t) for t in ("ins", "del", "moveFrom", "moveTo", "cellIns", "cellDel", "cellMerge")}


_VAL = w("val")
_ON_OFF = {"true": "1", "on": "1", "1": "1", "false": "0", "off": "0", "0": "0"}


def _canonical(element: etree._Element, skip: frozenset[str] = frozenset()) -> tuple:
    """A comparable form of a property element: tag, attributes (without rsids) and children, minus revision
    marks and the tags in `skip`."""
    attributes = {k: v for k, v in element.attrib.items() if not _IGNORED_ATTRIBUTES.search(k)}
    # on/off properties: <w:b/>, <w:b w:val="true"/> and <w:b w:val="1"/> say the same
    value = attributes.get(_VAL)
    if value is None and len(element) == 0 and not attributes:
        attributes[_VAL] = "1"
    elif value in _ON_OFF:
        attributes[_VAL] = _ON_OFF[value]
    attributes = tuple(sorted(attributes.items()))
    children = tuple(_canonical(child) for child in element
                     if isinstance(child.tag, str) and child.tag not in skip and child.tag not in _CHANGE_TAGS
                     and child.tag not in _MARK_TAGS and not _IGNORED_ATTRIBUTES.search(child.tag))
    return (element.tag, attributes, children)


def _old_and_new(change: etree._Element, skip: frozenset[str] = frozenset()) -> tuple[tuple, tuple]:
    """(old properties, new properties) of a w:*PrChange: the old set is its child, the new set its parent."""
    old_element = next((c for c in change if isinstance(c.tag, str)), None)
    empty = (None, (), ())
    old = _canonical(old_element, skip) if old_element is not None else empty
    new = _canonical(change.getparent(), skip)
    return (None, (), old[2]), (None, (), new[2])


_PARAGRAPH_SKIP = frozenset({w("rPr"), w("sectPr"), w("numPr")})
_SECTION_SKIP = frozenset({w("headerReference"), w("footerReference")})
_STYLE_SKIP = frozenset({w("rsid")})
_CELL_MERGE_TAGS = frozenset({w("gridSpan"), w("vMerge"), w("hMerge"), w("tcW")})


def _numbering_of(properties: etree._Element | None) -> tuple:
    if properties is None:
        return ()
    num_pr = properties.find(w("numPr"))
    return _canonical(num_pr)[2] if num_pr is not None else ()


# ---- 2. the change list -------------------------------------------------------------------------------------------

@dataclass
class Anchor:
    """A caret position in a paragraph: before/after a run-level node, or the start/end of a paragraph."""
    node: etree._Element
    side: str  # "before" | "after" | "start" | "end"


@dataclass
class _Change:
    type: str
    texts: list[str] = field(default_factory=list)
    start: Anchor | None = None
    end: Anchor | None = None
    style_id: str | None = None

    def as_dict(self, change_id: int) -> dict:
        change = {"id": change_id, "type": self.type, "text": shorten("".join(self.texts))}
        if self.style_id is not None:
            change["styleId"] = self.style_id
        return change


def shorten(text: str, limit: int = TEXT_LIMIT) -> str:
    text = re.sub(r"[ \t\r\n\u00a0]+", " ", text).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


_CONTENT_TYPES = {"ins": "contentInserted", "del": "contentDeleted",
                  "moveFrom": "contentMovedFrom", "moveTo": "contentMovedTo"}
# a paragraph mark's revision belongs to the open content change it ends
_MARK_JOINS = {"ins": {"ins", "moveTo"}, "del": {"del", "moveFrom"}, "moveFrom": {"moveFrom", "del"},
               "moveTo": {"moveTo", "ins"}}
_RUN_CONTAINERS = {w(t) for t in ("hyperlink", "smartTag", "customXml", "fldSimple", "sdtContent", "dir", "bdo")}
_VISIBLE_RUN_CHILDREN = {w(t) for t in ("t", "delText", "tab", "br", "cr", "drawing", "pict", "object", "sym",
                                       "noBreakHyphen", "softHyphen", "footnoteReference", "endnoteReference",
                                       "ptab")}


def _run_text(run: etree._Element) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag in (w("t"), w("delText")):
            parts.append(child.text or "")
        elif tag in (w("tab"), w("ptab")):
            parts.append("\t")
        elif tag in (w("br"), w("cr")):
            parts.append("\n")
        elif tag == w("noBreakHyphen"):
            parts.append("-")
    return "".join(parts)


def _is_visible(run: etree._Element) -> bool:
    return any(child.tag in _VISIBLE_RUN_CHILDREN and (child.tag not in (w("t"), w("delText")) or child.text)
               for child in run)


def _paragraphs(element: etree._Element) -> list[etree._Element]:
    return [p for p in element.iter(w("p"))]


def _paragraph_text(p: etree._Element) -> str:
    return "".join(_run_text(r) for r in p.iter(w("r")))


class _StyleUse:
    """Which changed style definitions a paragraph (or table) shows, through basedOn inheritance."""

    def __init__(self, styles: etree._Element | None, changed: list[str]):
        self.pending = list(changed)
        self.names: dict[str, str] = {}
        based_on: dict[str, str] = {}
        self.default_paragraph = self.default_table = None
        for style in (styles.findall(w("style")) if styles is not None else []):
            style_id = style.get(w("styleId"))
            if style_id is None:
                continue
            name = style.find(w("name"))
            self.names[style_id] = name.get(w("val")) if name is not None else style_id
            parent = style.find(w("basedOn"))
            if parent is not None:
                based_on[style_id] = parent.get(w("val"))
            if style.get(w("default")) in ("1", "true", "on"):
                if style.get(w("type")) == "paragraph":
                    self.default_paragraph = style_id
                elif style.get(w("type")) == "table":
                    self.default_table = style_id
        self.names.setdefault("docDefaults", "Document defaults")
        self.based_on = based_on

    def lineage(self, style_id: str | None) -> set[str]:
        seen: set[str] = {"docDefaults"}
        while style_id and style_id not in seen:
            seen.add(style_id)
            style_id = self.based_on.get(style_id)
        return seen

    def take_used(self, element: etree._Element, is_table: bool = False) -> list[str]:
        """The pending changed styles `element` uses; each is reported once, at its first use."""
        if not self.pending:
            return []
        if is_table:
            style = element.find(f"{w('tblPr')}/{w('tblStyle')}")
            used = self.lineage(style.get(w("val")) if style is not None else self.default_table)
        else:
            style = element.find(f"{w('pPr')}/{w('pStyle')}")
            used = self.lineage(style.get(w("val")) if style is not None else self.default_paragraph)
            for run_style in element.iter(w("rStyle")):
                used |= self.lineage(run_style.get(w("val")))
        found = [s for s in self.pending if s in used]
        self.pending = [s for s in self.pending if s not in found]
        return found


class _Scanner:
    """Walks one story (body, header, …) in document order and collects changes with their anchors."""

    def __init__(self, styles: _StyleUse):
        self.styles = styles
        self.changes: list[_Change] = []
        self.open: _Change | None = None       # the change the next adjacent mark may extend
        self.open_group: str | None = None     # its kind: ins/del/moveFrom/moveTo/format
        self.swallowed_cells: list[etree._Element] = []   # deleted cells a horizontal merge absorbed

    # -- helpers
    def close(self) -> None:
        self.open = self.open_group = None

    def add(self, change: _Change) -> _Change:
        self.changes.append(change)
        return change

    def add_block(self, change_type: str, first: etree._Element, last: etree._Element, text: str) -> _Change:
        return self.add(_Change(change_type, [text], Anchor(first, "start"), Anchor(last, "end")))

    # -- block level
    def blocks(self, container: etree._Element) -> None:
        for child in container:
            tag = child.tag
            if tag == w("p"):
                self.paragraph(child)
            elif tag == w("tbl"):
                self.table(child)
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.blocks(content)
            elif tag == w("customXml"):
                self.blocks(child)
            elif tag == w("sectPr"):
                self.section(child, container)

    def section(self, sect_pr: etree._Element, body: etree._Element) -> None:
        change = sect_pr.find(w("sectPrChange"))
        if change is None:
            return
        old, new = _old_and_new(change, _SECTION_SKIP)
        if old == new:
            return
        paragraphs = [p for p in body.iter(w("p"))]
        self.close()
        if paragraphs:
            # a section's properties end where the section ends: its last paragraph
            host = paragraphs[-1] if sect_pr.getparent() is body else sect_pr.getparent().getparent()
            self.add_block("sectionPropertyChanged", host, host, "")
        else:
            self.add(_Change("sectionPropertyChanged"))

    def paragraph(self, p: etree._Element) -> None:
        for style_id in self.styles.take_used(p):
            self.add(_Change("styleDefinitionChanged", [self.styles.names.get(style_id, style_id)],
                             Anchor(p, "start"), Anchor(p, "end"), style_id))
        p_pr = p.find(w("pPr"))
        if p_pr is not None:
            self.paragraph_properties(p, p_pr)
        self.run_level(p, p, None)
        mark = p_pr.find(w("rPr")) if p_pr is not None else None
        mark_kind = None
        if mark is not None:
            for tag in ("ins", "del", "moveFrom", "moveTo"):
                if mark.find(w(tag)) is not None:
                    mark_kind = tag
        if mark_kind is None:
            self.close()               # an unchanged paragraph mark ends any change
        elif self.open is not None and self.open_group in _MARK_JOINS[mark_kind]:
            self.open.end = Anchor(p, "end")
            self.open.texts.append("\n")
        else:                          # a paragraph break inserted or deleted on its own
            self.open = self.add(_Change(_CONTENT_TYPES[mark_kind], ["\n"], Anchor(p, "end"), Anchor(p, "end")))
            self.open_group = mark_kind
        sect_pr = p_pr.find(w("sectPr")) if p_pr is not None else None
        if sect_pr is not None:
            self.section(sect_pr, p)

    def paragraph_properties(self, p: etree._Element, p_pr: etree._Element) -> None:
        numbered = p_pr.find(f"{w('numPr')}/{w('numberingChange')}") is not None or any(
            p_pr.find(f"{w('numPr')}/{w(tag)}") is not None for tag in ("ins", "del"))
        change = p_pr.find(w("pPrChange"))
        formatted = False
        if change is not None:
            old_element = next((c for c in change if isinstance(c.tag, str)), None)
            if _numbering_of(old_element) != _numbering_of(p_pr):
                numbered = True
            old, new = _old_and_new(change, _PARAGRAPH_SKIP)
            formatted = old != new
        text = _paragraph_text(p)
        if numbered:
            self.add_block("paragraphNumberChanged", p, p, text)
        if formatted:
            self.add_block("paragraphPropertyChanged", p, p, text)

    # -- run level
    def run_level(self, container: etree._Element, p: etree._Element, kind: str | None,
                  outer: etree._Element | None = None) -> None:
        for node in container:
            tag = node.tag
            if not isinstance(tag, str):
                continue
            anchor_node = outer if outer is not None else node
            local = etree.QName(tag).localname if tag.startswith(f"{{{W_NS}}}") else None
            if local in _CONTENT_TYPES:
                self.run_level(node, p, local, anchor_node)
            elif tag in _RUN_CONTAINERS or tag == w("sdt"):
                inner = node.find(w("sdtContent")) if tag == w("sdt") else node
                if inner is not None:
                    self.run_level(inner, p, kind, outer)
            elif tag == w("r"):
                self.run(node, kind, anchor_node)

    def run(self, run: etree._Element, kind: str | None, anchor_node: etree._Element) -> None:
        text = _run_text(run)
        if kind is not None:
            if self.open is not None and self.open_group == kind:
                self.open.texts.append(text)
                self.open.end = Anchor(anchor_node, "after")
            else:
                self.open = self.add(_Change(_CONTENT_TYPES[kind], [text], Anchor(anchor_node, "before"),
                                             Anchor(anchor_node, "after")))
                self.open_group = kind
            return
        change = run.find(f"{w('rPr')}/{w('rPrChange')}")
        if change is not None and _is_real_change(change):
            if self.open is not None and self.open_group == "format":
                self.open.texts.append(text)
                self.open.end = Anchor(anchor_node, "after")
            else:
                self.open = self.add(_Change("propertyChanged", [text], Anchor(anchor_node, "before"),
                                             Anchor(anchor_node, "after")))
                self.open_group = "format"
        elif _is_visible(run):
            self.close()

    # -- tables
    def table(self, tbl: etree._Element) -> None:
        self.close()
        for style_id in self.styles.take_used(tbl, is_table=True):
            first, last = _first_last_paragraph(tbl)
            if first is not None:
                self.add(_Change("styleDefinitionChanged", [self.styles.names.get(style_id, style_id)],
                                 Anchor(first, "start"), Anchor(last, "end"), style_id))
        first, last = _first_last_paragraph(tbl)
        table_changed = any(_is_real_change(change)
                            for properties in tbl.iterchildren(w("tblPr"), w("tblGrid"))
                            for change in properties.iterchildren(w("tblPrChange"), w("tblGridChange")))
        if table_changed and first is not None:
            self.add_block("tablePropertyChanged", first, last, _paragraph_text(first))
        merged_columns: set[int] = set()       # grid columns whose vertical merge is already reported
        for tr in tbl.iterchildren(w("tr")):
            merged_columns = self.row(tr, merged_columns)
        self.close()

    def row(self, tr: etree._Element, merged_above: set[int]) -> set[int]:
        self.close()
        tr_pr = tr.find(w("trPr"))
        first, last = _first_last_paragraph(tr)
        row_mark = None
        if tr_pr is not None:
            row_mark = next((k for k in ("ins", "del") if tr_pr.find(w(k)) is not None), None)
        if row_mark is not None:
            if first is not None:
                text = " | ".join(_paragraph_text(p) for p in tr.iter(w("p")) if _paragraph_text(p))
                self.add_block(_CONTENT_TYPES[row_mark], first, last, text)
            return set()
        if tr_pr is not None and first is not None and any(_is_real_change(c) for c in tr_pr.iterchildren(
                w("trPrChange"))):
            self.add_block("tablePropertyChanged", first, last, _paragraph_text(first))
        merged_here: set[int] = set()
        column = _int_val(tr_pr, "gridBefore", 0)
        cells_to_absorb = 0
        merge: _Change | None = None
        for tc in tr.iterchildren(w("tc")):
            self.close()
            tc_pr = tc.find(w("tcPr"))
            span = _int_val(tc_pr, "gridSpan", 1)
            first, last = _first_last_paragraph(tc)
            text = " ".join(t for t in (_paragraph_text(p) for p in tc.iter(w("p"))) if t)
            marks = {t: tc_pr.find(w(t)) for t in ("cellIns", "cellDel", "cellMerge")} if tc_pr is not None else {}
            if marks.get("cellDel") is not None and cells_to_absorb > 0 and merge is not None:
                cells_to_absorb -= 1             # the cell that a horizontal merge swallowed
                self.swallowed_cells.append(tc)
                column += span
                continue
            cells_to_absorb, merge = 0, None
            if marks.get("cellIns") is not None or marks.get("cellDel") is not None:
                kind = "tableCellInserted" if marks.get("cellIns") is not None else "tableCellDeleted"
                if first is not None:
                    self.add_block(kind, first, last, text)
                column += span
                continue
            horizontal = vertical = other = False
            change = tc_pr.find(w("tcPrChange")) if tc_pr is not None else None
            if change is not None:
                old_element = next((c for c in change if isinstance(c.tag, str)), None)
                horizontal = span > _int_val(old_element, "gridSpan", 1)
                old_v, new_v = _v_merge(old_element), _v_merge(tc_pr)
                vertical = new_v is not None and new_v != old_v
                # widths are left to the table's grid change: a resized column would otherwise count per cell
                old, new = _old_and_new(change, _CELL_MERGE_TAGS)
                other = old != new
                if horizontal:
                    cells_to_absorb = span - _int_val(old_element, "gridSpan", 1)
            word_merge = marks.get("cellMerge")
            if word_merge is not None:
                vertical, new_v = True, "continue" if word_merge.get(w("vMerge")) == "cont" else "restart"
            if vertical:
                merged_here.add(column)
                if new_v == "continue" and column in merged_above:
                    vertical = False             # this cell extends the merge reported for the cell above
            if (horizontal or vertical) and first is not None:
                merge = self.add_block("tableCellsMerged", first, last, text)
            if other and first is not None:
                self.add_block("tablePropertyChanged", first, last, text)
            self.blocks(tc)
            self.close()
            column += span
        return merged_here


def _first_last_paragraph(element: etree._Element) -> tuple[etree._Element | None, etree._Element | None]:
    paragraphs = _paragraphs(element)
    return (paragraphs[0], paragraphs[-1]) if paragraphs else (None, None)


def _int_val(properties: etree._Element | None, tag: str, default: int) -> int:
    element = properties.find(w(tag)) if properties is not None else None
    try:
        return int(element.get(w("val"))) if element is not None else default
    except (TypeError, ValueError):
        return default


def _v_merge(properties: etree._Element | None) -> str | None:
    element = properties.find(w("vMerge")) if properties is not None else None
    if element is None:
        return None
    return "restart" if element.get(w("val")) == "restart" else "continue"


def _is_real_change(change: etree._Element) -> bool:
    """A *PrChange whose old and new properties differ (engines also emit marks that change nothing)."""
    if change.tag == w("pPrChange"):
        old_element = next((c for c in change if isinstance(c.tag, str)), None)
        old, new = _old_and_new(change, _PARAGRAPH_SKIP)
        return old != new or _numbering_of(old_element) != _numbering_of(change.getparent())
    if change.tag == w("sectPrChange"):
        old, new = _old_and_new(change, _SECTION_SKIP)
        return old != new
    old, new = _old_and_new(change)
    return old != new


# ---- style definitions ----------------------------------------------------------------------------------------

def _style_elements(styles: etree._Element | None) -> dict[str, etree._Element]:
    if styles is None:
        return {}
    found = {s.get(w("styleId")): s for s in styles.findall(w("style")) if s.get(w("styleId"))}
    defaults = styles.find(w("docDefaults"))
    if defaults is not None:
        found["docDefaults"] = defaults
    return found


def _differing_styles(original: Path, revised: Path) -> list[str]:
    """Style ids defined in both inputs whose definitions differ (rsids aside)."""
    with zipfile.ZipFile(original) as a, zipfile.ZipFile(revised) as b:
        try:
            if a.getinfo(STYLES_PART).CRC == b.getinfo(STYLES_PART).CRC:
                return []  # the same bytes: nothing to compare
        except KeyError:
            pass
        before, after = _style_elements(_read_part(a, STYLES_PART)), _style_elements(_read_part(b, STYLES_PART))
    differing = []
    for style_id, definition in after.items():
        old = before.get(style_id)
        # serialising is cheap; the canonical form (which ignores rsids and attribute order) only when needed
        if old is not None and etree.tostring(old) != etree.tostring(definition) and \
                _canonical(old, _STYLE_SKIP) != _canonical(definition, _STYLE_SKIP):
            differing.append(style_id)
    return differing


def _changed_styles(redlined_styles: etree._Element | None, original: Path | None,
                    revised: Path | None) -> list[str]:
    """Styles whose definition changed: marked by the engine, or found different between the two inputs."""
    changed: list[str] = []
    if redlined_styles is not None:
        for style in redlined_styles.findall(w("style")):
            if any(_is_real_change(c) for tag in _CHANGE_TAGS for c in style.iter(tag)):
                changed.append(style.get(w("styleId")))
        defaults = redlined_styles.find(w("docDefaults"))
        if defaults is not None and any(_is_real_change(c) for tag in _CHANGE_TAGS for c in defaults.iter(tag)):
            changed.append("docDefaults")
    if original is not None and revised is not None:
        changed.extend(s for s in _differing_styles(original, revised) if s not in changed)
    order = {s.get(w("styleId")): i for i, s in enumerate(redlined_styles.findall(w("style")))} \
        if redlined_styles is not None else {}
    return sorted(dict.fromkeys(c for c in changed if c), key=lambda s: (s != "docDefaults", order.get(s, 1 << 30)))


# ---- putting it together --------------------------------------------------------------------------------------

def _scan(parts: dict[str, etree._Element], styles: _StyleUse,
          names: list[str]) -> tuple[list[_Change], list[etree._Element]]:
    """Every change of every story in reading order, and the table cells merges swallowed."""
    found: list[_Change] = []
    swallowed: list[etree._Element] = []
    for name in names:
        root = parts.get(name)
        if root is None:
            continue
        scanner = _Scanner(styles)
        if name == DOCUMENT_PART:
            body = root.find(w("body"))
            if body is not None:
                scanner.blocks(body)
        elif root.tag in (w("footnotes"), w("endnotes")):
            for note in root:
                if note.get(w("type")) in (None, "normal"):
                    scanner.blocks(note)
                    scanner.close()
        else:
            scanner.blocks(root)
        found.extend(scanner.changes)
        swallowed.extend(scanner.swallowed_cells)
    # styles nobody uses: still changes, with no place on the pages
    found.extend(_Change("styleDefinitionChanged", [styles.names.get(s, s)], style_id=s) for s in styles.pending)
    return found, swallowed


def _load(archive: zipfile.ZipFile) -> tuple[dict[str, etree._Element], list[str]]:
    names = _story_parts(archive)
    parts = {name: _read_part(archive, name) for name in names}
    if parts.get(DOCUMENT_PART) is None:
        raise CompareError("not a Word document: word/document.xml is missing")
    return parts, names


def parse_changes(redlined_docx: Path, original: Path | None = None, revised: Path | None = None) -> list[dict]:
    """The changes a redlined DOCX records, in document order: [{"id", "type", "text"}, …] (style changes also
    carry "styleId"). With the two inputs, style definition changes the engine did not mark are found too."""
    try:
        with zipfile.ZipFile(redlined_docx) as archive:
            parts, names = _load(archive)
            styles_root = _read_part(archive, STYLES_PART)
    except zipfile.BadZipFile as exc:
        raise CompareError(f"not a DOCX file: {exc}") from exc
    styles = _StyleUse(styles_root, _changed_styles(styles_root, original, revised))
    return [change.as_dict(i) for i, change in enumerate(_scan(parts, styles, names)[0])]


# ---- 3. markers for the rendered PDF ------------------------------------------------------------------------------

def marker_names(change_id: int) -> tuple[str, str]:
    return f"{MARKER_PREFIX}{change_id}s", f"{MARKER_PREFIX}{change_id}e"


def _place(anchor: Anchor, elements: list[etree._Element]) -> None:
    node, side = anchor.node, anchor.side
    if side == "before":
        for element in elements:
            node.addprevious(element)
    elif side == "after":
        for element in reversed(elements):
            node.addnext(element)
    elif side == "start":
        index = 1 if len(node) and node[0].tag == w("pPr") else 0
        for offset, element in enumerate(elements):
            node.insert(index + offset, element)
    else:
        node.extend(elements)


def _strip_noise(root: etree._Element) -> None:
    """Removes formatting marks whose old and new properties are equal: LibreOffice would paint the text as a
    formatting change although nothing changed."""
    for tag in ("rPrChange", "pPrChange", "tblPrChange", "trPrChange", "tcPrChange", "sectPrChange"):
        for change in list(root.iter(w(tag))):
            if not _is_real_change(change):
                change.getparent().remove(change)


def add_change_markers(redlined_docx: Path, out_docx: Path, changes: list[dict]) -> None:
    """Writes `out_docx`: the redlined document with a start and an end bookmark for every change (named by
    `marker_names`), noise-free formatting marks, and revisions shown (never hidden by the document's view)."""
    style_ids = [c["styleId"] for c in changes if c["type"] == "styleDefinitionChanged" and c.get("styleId")]
    with zipfile.ZipFile(redlined_docx) as archive:
        parts, names = _load(archive)
        styles_root = _read_part(archive, STYLES_PART)
        settings = _read_part(archive, SETTINGS_PART)
        found, swallowed = _scan(parts, _StyleUse(styles_root, style_ids), names)
        if [c.type for c in found] != [c["type"] for c in changes]:
            raise CompareError("the change list does not belong to this redlined document")
        next_id = 1 + max((int(v) for root in parts.values() if root is not None
                           for v in root.xpath("//@w:id", namespaces={"w": W_NS}) if v.lstrip("-").isdigit()),
                          default=0)
        for change, public in zip(found, changes):
            if change.start is None or change.end is None:
                continue
            for anchor, name in zip((change.start, change.end), marker_names(public["id"])):
                start = etree.Element(w("bookmarkStart"), {w("id"): str(next_id), w("name"): name})
                end = etree.Element(w("bookmarkEnd"), {w("id"): str(next_id)})
                next_id += 1
                _place(anchor, [start, end])
        for root in parts.values():
            if root is not None:
                _strip_noise(root)
        for cell in swallowed:
            # LibreOffice cannot show a merge's deleted cell: it would draw it beside the widened cell
            cell.getparent().remove(cell)
        if settings is not None:
            for view in settings.findall(w("revisionView")):
                settings.remove(view)
        replaced = {name: root for name, root in parts.items() if root is not None}
        if settings is not None:
            replaced[SETTINGS_PART] = settings
        tmp = out_docx.with_name(out_docx.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as target:
            for info in archive.infolist():
                if info.filename in replaced:
                    data = etree.tostring(replaced[info.filename], xml_declaration=True, encoding="UTF-8",
                                          standalone=True)
                    target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                else:
                    with archive.open(info) as source, target.open(info, "w") as copy:
                        shutil.copyfileobj(source, copy, 1 << 20)
    os.replace(tmp, out_docx)


# ---- 4. finding the changes on the PDF pages ------------------------------------------------------------------------

@dataclass
class _Char:
    index: int
    char: str
    left: float
    top: float
    right: float
    bottom: float


class _PageText:
    """The characters of one PDF page with top-left-origin boxes, loaded on first use."""

    def __init__(self, pdf: Any, page_index: int):
        import ctypes
        import pypdfium2.raw as raw
        page = pdf[page_index]
        self.height = page.get_height()
        text_page = page.get_textpage()
        self.chars: list[_Char] = []
        for i in range(text_page.count_chars()):
            if raw.FPDFText_IsGenerated(text_page.raw, i) == 1:
                continue
            code = raw.FPDFText_GetUnicode(text_page.raw, i)
            try:
                left, bottom, right, top = text_page.get_charbox(i)
            except Exception:  # PDFium has no box for some characters
                continue
            # glyph boxes hug each letter ("e" is shorter than "g"): span the font's usual ascent and descent
            # from the baseline so that every rectangle of a line has the same height
            size = raw.FPDFText_GetFontSize(text_page.raw, i)
            origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
            if size > 0 and raw.FPDFText_GetCharOrigin(text_page.raw, i, origin_x, origin_y):
                top, bottom = max(top, origin_y.value + 0.8 * size), min(bottom, origin_y.value - 0.22 * size)
            self.chars.append(_Char(i, chr(code) if code else "", left, self.height - top, right,
                                    self.height - bottom))
        text_page.close()
        page.close()

    def position(self, x: float, y_top: float, at_end: bool) -> int | None:
        """Index (into self.chars) of the character that starts (or ends, `at_end`) at the caret (x, y_top)."""
        def edge(c: _Char) -> float:
            return c.right if at_end else c.left

        # the caret's top is the line's top: its characters lie just below it
        below = [i for i, c in enumerate(self.chars)
                 if c.bottom > y_top + 0.5 and c.top - y_top < max(14.0, 1.6 * (c.bottom - c.top))]
        exact = [i for i in below if abs(edge(self.chars[i]) - x) <= 1.0]
        pool = exact or below
        if not pool:
            return None
        return min(pool, key=lambda i: abs(self.chars[i].top - y_top) + abs(edge(self.chars[i]) - x) * 0.2)


def _named_destinations(pdf: Any) -> dict[str, tuple[int, float, float]]:
    """PDF named destinations: name -> (page index, x, y) with y measured from the top of the page."""
    import ctypes
    import pypdfium2.raw as raw
    found: dict[str, tuple[int, float, float]] = {}
    heights: dict[int, float] = {}
    for i in range(raw.FPDF_CountNamedDests(pdf.raw)):
        size = ctypes.c_long(0)
        raw.FPDF_GetNamedDest(pdf.raw, i, None, ctypes.byref(size))
        if size.value <= 0:
            continue
        buffer = ctypes.create_string_buffer(size.value)
        dest = raw.FPDF_GetNamedDest(pdf.raw, i, buffer, ctypes.byref(size))
        if not dest:
            continue
        name = buffer.raw[:size.value].decode("utf-16-le", errors="replace").rstrip("\0")
        if not name.startswith(MARKER_PREFIX):
            continue
        page = raw.FPDFDest_GetDestPageIndex(pdf.raw, dest)
        has_x, has_y, has_zoom = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        x, y, zoom = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        if page < 0 or not raw.FPDFDest_GetLocationInPage(dest, has_x, has_y, has_zoom, x, y, zoom):
            continue
        if page not in heights:
            heights[page] = pdf[page].get_height()
        found[name] = (page, x.value if has_x.value else 0.0, heights[page] - y.value if has_y.value else 0.0)
    return found


def _rectangles(pieces: Iterable[tuple[int, list[_Char]]]) -> list[dict]:
    """One rectangle per line (or table cell) of consecutive characters."""
    rectangles: list[dict] = []
    for page_index, chars in pieces:
        current: list[float] | None = None
        for c in chars:
            if not c.char.strip() or c.right <= c.left:
                continue
            same_line = current is not None and c.top < current[3] and c.bottom > current[1] \
                and current[0] - 1 <= c.left <= current[2] + 12
            if same_line:
                current[0], current[1] = min(current[0], c.left), min(current[1], c.top)
                current[2], current[3] = max(current[2], c.right), max(current[3], c.bottom)
            else:
                if current is not None:
                    rectangles.append(_rect(page_index, current))
                current = [c.left, c.top, c.right, c.bottom]
        if current is not None:
            rectangles.append(_rect(page_index, current))
    return rectangles


def _rect(page_index: int, box: list[float]) -> dict:
    return {"pageIndex": page_index, "x": round(box[0], 2), "y": round(box[1], 2),
            "width": round(box[2] - box[0], 2), "height": round(box[3] - box[1], 2)}


def locate_changes(changes: list[dict], pdf_path: Path | str) -> list[dict]:
    """For each change (same order): {"startPageIndex", "endPageIndex", "rectangles": [{pageIndex, x, y, width,
    height}]} in PDF points from the top-left corner of the page, as the Text API measures."""
    import pypdfium2 as pdfium
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        pages: dict[int, _PageText] = {}

        def page_text(index: int) -> _PageText:
            if index not in pages:
                pages[index] = _PageText(pdf, index)
            return pages[index]

        destinations = _named_destinations(pdf)
        if not destinations and changes:
            return _locate_by_text(changes, [page_text(i) for i in range(len(pdf))])
        located = []
        previous_page = 0
        for change in changes:
            start_name, end_name = marker_names(change["id"])
            start, end = destinations.get(start_name), destinations.get(end_name)
            if start is None or end is None:
                located.append({"startPageIndex": previous_page, "endPageIndex": previous_page, "rectangles": []})
                continue
            pieces = _between(page_text, start, end)
            located.append({"startPageIndex": start[0], "endPageIndex": max(start[0], end[0]),
                            "rectangles": _rectangles(pieces)})
            previous_page = end[0]
        return located
    finally:
        pdf.close()


def _between(page_text, start: tuple[int, float, float], end: tuple[int, float, float]) -> Iterator[
        tuple[int, list[_Char]]]:
    """The characters from the start caret to the end caret, page by page, in the page's text order."""
    first_page, last_page = start[0], max(start[0], end[0])
    for index in range(first_page, last_page + 1):
        text = page_text(index)
        begin = 0
        stop = len(text.chars) - 1
        if index == first_page:
            found = text.position(start[1], start[2], at_end=False)
            begin = found if found is not None else len(text.chars)
        if index == last_page:
            found = text.position(end[1], end[2], at_end=True)
            stop = found if found is not None else -1
        if begin <= stop:
            yield index, text.chars[begin:stop + 1]


def _locate_by_text(changes: list[dict], pages: list[_PageText]) -> list[dict]:
    """Fallback without destinations: each change's text searched in the document text after the previous one
    (whitespace ignored). Changes without text, or not found, take the page of the change before."""
    stream = [(p, c) for p, page in enumerate(pages) for c in page.chars if c.char.strip()]
    haystack = "".join(c.char for _, c in stream)
    cursor, previous_page, located = 0, 0, []
    for change in changes:
        needle = re.sub(r"\s+", "", (change.get("text") or "").rstrip("…").replace(" | ", ""))
        at = haystack.find(needle, cursor) if needle and change["type"] != "styleDefinitionChanged" else -1
        if at < 0:
            located.append({"startPageIndex": previous_page, "endPageIndex": previous_page, "rectangles": []})
            continue
        span = stream[at:at + len(needle)]
        by_page: dict[int, list[_Char]] = {}
        for page_index, char in span:
            by_page.setdefault(page_index, []).append(char)
        located.append({"startPageIndex": span[0][0], "endPageIndex": span[-1][0],
                        "rectangles": _rectangles(by_page.items())})
        cursor, previous_page = at + len(needle), span[-1][0]
    return located
