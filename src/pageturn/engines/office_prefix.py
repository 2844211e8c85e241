"""The beginning of a long Word document as a Word document of its own, so its first pages can be shown while
LibreOffice converts the whole one.

Measured (bench/bench_office_large.py): LibreOffice loads a 3,000-page .docx in seconds and lays all of it out
before it exports even page 1 (a PageRange export right after loading costs about what the whole layout costs),
so the first pages cannot come out of the whole document early. A copy holding only the first body elements of
word/document.xml, with every other part (styles, numbering, headers, footers, media, settings) as it was,
converts in a fraction of a second, and its pages lay out as the whole document's do except:
  * near the cut: the last pages of the prefix lack what follows them (keep-with-next, widows, a section's
    column balancing, floating objects anchored further on) -> the owner shows only the prefix's pages before
    its last TRAILING_PAGES;
  * the section the cut falls in: its properties are in the next section break after the cut -> that break's
    w:sectPr becomes the prefix's last one;
  * fields that depend on the whole document (NUMPAGES in a footer, PAGEREF and REF to later bookmarks) and
    endnotes (they go to the end) -> no prefix is made for such a document. A table of contents is fine:
    LibreOffice shows the page numbers saved in it.
Runs in a render worker (memory cap, timeout): the XML is untrusted; it is read as a stream, entities are never
resolved and nothing is fetched.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import Any

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BODY, SECT_PR, P, P_PR = f"{{{W}}}body", f"{{{W}}}sectPr", f"{{{W}}}p", f"{{{W}}}pPr"
INSTR_TEXT, FLD_SIMPLE, INSTR = f"{{{W}}}instrText", f"{{{W}}}fldSimple", f"{{{W}}}instr"
FLD_CHAR, FLD_CHAR_TYPE = f"{{{W}}}fldChar", f"{{{W}}}fldCharType"
ENDNOTE_REF = f"{{{W}}}endnoteReference"
DRAWINGS = (f"{{{W}}}drawing", f"{{{W}}}pict", f"{{{W}}}object")
DOCUMENT = "word/document.xml"
# fields whose result depends on pages or text beyond the cut
# fields whose result depends on pages or text beyond the cut: LibreOffice computes these as it lays out (a
# PAGEREF or REF to a bookmark past the cut reads "Error: Reference source not found" in a prefix). A table of
# contents is not among them: LibreOffice shows the page numbers Word saved in it (the PAGEREFs inside a TOC's
# result), so its pages are the same in a prefix (measured).
WHOLE_DOCUMENT_FIELDS = re.compile(r"\b(NUMPAGES|SECTIONPAGES|PAGEREF|REF|NOTEREF|INDEX|TOA)\b", re.I)
TRAILING_PAGES = 2            # pages at the end of a prefix that may differ from the whole document's
# what an element weighs towards the prefix's budget, in characters of text: a page holds about 2,000-3,000
PICTURE_WEIGHT = 1500
ELEMENT_WEIGHT = 50
MAX_PART_BYTES = 16 << 20     # a header or footer part read whole (they are small)
MIN_DOCUMENT_BYTES = 512_000  # word/document.xml below this converts whole about as fast as a prefix would
MAX_DOCUMENT_BYTES = 128 << 20  # past this the whole conversion is what to wait for (and a bomb is not read)
COPY_RATIO = 50               # the prefix's parts may inflate to this many times the file's size ...
MAX_COPY_BYTES = 1 << 30      # ... and never past this


class _Fields:
    """Follows the fields through elements in document order (a field's code may be split over runs, and a
    table of contents spans paragraphs); says which whole-document field is found outside a TOC's result."""

    def __init__(self) -> None:
        self.open: list[list[Any]] = []    # [instruction parts, in its result] per field begun and not ended

    def _in_toc(self) -> bool:
        return any(result and "".join(parts).upper().split()[:1] == ["TOC"] for parts, result in self.open)

    def _check(self, instruction: str) -> str | None:
        found = None if self._in_toc() else WHOLE_DOCUMENT_FIELDS.search(instruction)
        return found.group(1).upper() if found else None

    def unsafe(self, element: Any) -> str | None:
        for node in element.iter(FLD_CHAR, INSTR_TEXT, FLD_SIMPLE):
            if node.tag == FLD_SIMPLE:
                found = self._check(node.get(INSTR) or "")
            elif node.tag == INSTR_TEXT:
                if self.open and not self.open[-1][1]:
                    self.open[-1][0].append(node.text or "")
                continue
            else:
                kind = node.get(FLD_CHAR_TYPE)
                if kind == "begin":
                    self.open.append([[], False])
                    continue
                if not self.open or kind not in ("separate", "end"):
                    continue
                field = self.open[-1]
                found = None
                if not field[1]:  # its code is complete: checked once, against the fields around it
                    field[1] = True
                    self.open.pop()
                    found = self._check("".join(field[0]))
                    self.open.append(field)
                if kind == "end":
                    self.open.pop()
            if found:
                return found
        return None


def _unsafe_headers(archive: zipfile.ZipFile) -> str | None:
    """A header or footer with a whole-document field (the usual "Page X of Y")."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    for info in archive.infolist():
        if re.fullmatch(r"word/(header|footer)\d*\.xml", info.filename):
            with archive.open(info) as member:
                data = member.read(MAX_PART_BYTES + 1)
            if len(data) > MAX_PART_BYTES:
                return f"{info.filename} is too large"
            found = _Fields().unsafe(etree.fromstring(data, parser))
            if found:
                return f"{info.filename} has a {found} field"
    return None


def docx_prefix(src: str, dest: str, *, budget: int = 30_000, max_elements: int = 400,
                min_document_bytes: int = MIN_DOCUMENT_BYTES) -> dict[str, Any]:
    """Writes to `dest` a copy of the .docx `src` cut after its first body elements (about `budget` characters
    of text, a picture counting PICTURE_WEIGHT, at most `max_elements`: some ten pages). Returns {"made": True,
    "elements", "weight", "keptBytes", "documentBytes"} or
    {"made": False, "reason": ...} when no prefix is made: the document is small (its word/document.xml under
    `min_document_bytes`: converting it whole is about as quick), it is not a plain .docx, or its first pages
    would not be the whole document's (see the module's docstring)."""
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        return {"made": False, "reason": f"not a Word zip ({exc})"}
    with archive:
        try:
            info = archive.getinfo(DOCUMENT)
        except KeyError:
            return {"made": False, "reason": "no word/document.xml"}
        if info.file_size < min_document_bytes:
            return {"made": False, "reason": "small document"}
        if info.file_size > MAX_DOCUMENT_BYTES:  # zipfile reads no further than the size a member declares
            return {"made": False, "reason": "word/document.xml is too large"}
        unsafe = _unsafe_headers(archive)
        if unsafe:
            return {"made": False, "reason": unsafe}
        cut = _cut(archive, budget, max_elements)
        if isinstance(cut, str):
            return {"made": False, "reason": cut}
        tree, kept, weight, kept_bytes = cut
        document = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True)
        # a zip bomb's parts must not fill the disk: the copy stops at a multiple of the file's own size
        budget = min(MAX_COPY_BYTES, max(64 << 20, COPY_RATIO * os.path.getsize(src)))
        try:
            _copy(archive, dest, document, budget)
        except _TooLarge:
            os.unlink(dest)
            return {"made": False, "reason": "its parts inflate past the copy's budget"}
    return {"made": True, "elements": kept, "weight": weight, "keptBytes": kept_bytes, "documentBytes": info.file_size}


class _TooLarge(Exception):
    pass


def _copy(archive: zipfile.ZipFile, dest: str, document: bytes, budget: int) -> None:
    """Every part of `archive` into a new zip at `dest`, word/document.xml replaced by `document`. Stored, not
    deflated: LibreOffice reads it at once and the copy is thrown away after converting."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as out:
        for member in archive.infolist():
            if member.is_dir():
                continue
            if member.filename == DOCUMENT:
                out.writestr(DOCUMENT, document)
                continue
            with archive.open(member) as reader, out.open(member.filename, "w", force_zip64=True) as writer:
                while chunk := reader.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise _TooLarge()
                    writer.write(chunk)


def _weight(element: Any) -> int:
    pictures = sum(1 for node in element.iter(*DRAWINGS))
    return ELEMENT_WEIGHT + sum(len(text) for text in element.itertext()) + PICTURE_WEIGHT * pictures


def _cut(archive: zipfile.ZipFile, budget: int, max_elements: int) -> tuple[Any, int, int, int] | str:
    """The document's tree holding its first body elements and the section break governing the last of them;
    a string saying why not when it cannot be cut safely."""
    depth = 0
    body = None
    kept = weight = kept_bytes = 0
    fields = _Fields()
    cutting = False
    governing = None      # the first section break after the cut: the properties of the cut section
    last_sect = None      # the body's own w:sectPr (its last section)
    with archive.open(DOCUMENT) as stream:
        events = etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                                 huge_tree=False, remove_blank_text=False)
        for event, element in events:
            if event == "start":
                depth += 1
                if depth == 2 and element.tag == BODY:
                    body = element
                continue
            if depth == 3 and body is not None and element.getparent() is body:
                if element.tag == SECT_PR:
                    last_sect = element
                elif not cutting and kept < max_elements and weight < budget:
                    kept += 1
                    weight += _weight(element)
                    found = fields.unsafe(element)
                    if found:
                        return f"a {found} field in the first pages"
                    if next(element.iter(ENDNOTE_REF), None) is not None:
                        return "endnotes in the first pages"
                else:
                    cutting = True
                    if governing is None and element.tag == P:
                        properties = element.find(P_PR)
                        sect = properties.find(SECT_PR) if properties is not None else None
                        if sect is not None:
                            governing = etree.fromstring(etree.tostring(sect))
                    element.clear()
                    body.remove(element)
            depth -= 1
        tree = events.root
    if body is None:
        return "no document body"
    if not cutting:
        return "small document"
    if governing is not None:
        if last_sect is not None:
            body.replace(last_sect, governing)
        else:
            body.append(governing)
    kept_bytes = len(etree.tostring(body))
    return tree, kept, weight, kept_bytes
