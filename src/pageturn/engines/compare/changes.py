"""Stage 2, reading the changes: the redlined DOCX's revision marks, read with lxml, become the revisionData
change list (13 change types) in document order. Runs inside the sandboxed comparison job (job.py): the DOCX is
untrusted input, so its parse never runs in the server's threads."""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .ooxml import (_CELL_MERGE_TAGS, _CHANGE_TAGS, _PARAGRAPH_SKIP, _SECTION_SKIP, _STYLE_SKIP, DOCUMENT_PART,
                    STYLES_PART, TEXT_LIMIT, W_NS, CompareError, _canonical, _is_real_change, _load,
                    _numbering_of, _old_and_new, _read_part, w)

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

