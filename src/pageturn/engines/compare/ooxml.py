"""What every stage of the comparison shares: the WordprocessingML names, safe reading of a DOCX's parts, and
the comparison of property sets (a revision mark whose old and new properties are equal changes nothing)."""
from __future__ import annotations

import re
import zipfile

from lxml import etree

from ..errors import CompareError

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
    ordered = tuple(sorted(attributes.items()))
    children = tuple(_canonical(child) for child in element
                     if isinstance(child.tag, str) and child.tag not in skip and child.tag not in _CHANGE_TAGS
                     and child.tag not in _MARK_TAGS and not _IGNORED_ATTRIBUTES.search(child.tag))
    return (element.tag, ordered, children)


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



def _load(archive: zipfile.ZipFile) -> tuple[dict[str, etree._Element], list[str]]:
    names = _story_parts(archive)
    parts = {name: _read_part(archive, name) for name in names}
    if parts.get(DOCUMENT_PART) is None:
        raise CompareError("not a Word document: word/document.xml is missing")
    return parts, names
