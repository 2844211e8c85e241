"""Stage 3, markers: a copy of the redlined DOCX for rendering, with two collapsed bookmarks per change
(`pageturnchg{id}s` where it starts, `pageturnchg{id}e` where it ends) and formatting marks that change nothing
removed. LibreOffice, converting with `PDF_EXPORT_FILTER`, turns each bookmark into a PDF named destination at the
exact caret position. Runs inside the sandboxed comparison job (job.py)."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from lxml import etree

from .changes import Anchor, _scan, _StyleUse
from .ooxml import (MARKER_PREFIX, SETTINGS_PART, STYLES_PART, W_NS, CompareError, _is_real_change, _load,
                    _read_part, w)

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

