"""Word comparison: a redlined DOCX with real revision marks, its list of changes, and where each change lands
in the PDF that LibreOffice renders from it. One module per stage, and where each stage runs:

1. redline.py  `compare_docx` runs the Docxodus engine (python-redlines' .NET build): a DOCX whose differences are
   Word tracked changes (w:ins, w:del, w:moveFrom/moveTo, w:rPrChange, w:pPrChange, w:numberingChange,
   w:tcPrChange, w:cellIns/cellDel, w:sectPrChange, row w:trPr/w:ins|del, style marks).
                                                               -> subprocess, inside the sandboxed job
2. changes.py  `parse_changes` reads those marks with lxml into the revisionData change list, in document order.
                                                               -> the sandboxed job (untrusted XML)
3. markers.py  `add_change_markers` writes a copy for rendering with a start and an end bookmark per change;
   converted with `PDF_EXPORT_FILTER` each becomes a PDF named destination.
                                                               -> the sandboxed job
   (LibreOffice renders the marked copy: the office pool, in its own sandbox.)
4. locate.py   `locate_changes` turns the destinations into pages and rectangles with PDFium.
                                                               -> a render worker (engines/jobs.py)

job.py is the sandboxed job's entry point (stages 1-3 in one bounded process); runner.py is the server side that
starts it: its own queue and process limit, bubblewrap, a timeout, a memory cap and a private temp directory.
ooxml.py holds what the stages share.
"""
from __future__ import annotations

from .changes import Anchor, parse_changes, shorten
from .locate import locate_changes
from .markers import add_change_markers, marker_names
from .ooxml import (CHANGE_TYPES, DOCUMENT_PART, MARKER_PREFIX, MAX_XML_PART_BYTES, PDF_EXPORT_FILTER,
                    PDF_EXPORT_FILTER_DATA, SETTINGS_PART, STYLES_PART, TEXT_LIMIT, W_NS, CompareError, w)
from .redline import compare_docx, redline_binary

__all__ = ["Anchor", "CHANGE_TYPES", "DOCUMENT_PART", "MARKER_PREFIX", "MAX_XML_PART_BYTES", "PDF_EXPORT_FILTER",
           "PDF_EXPORT_FILTER_DATA", "SETTINGS_PART", "STYLES_PART", "TEXT_LIMIT", "W_NS", "CompareError",
           "add_change_markers", "compare_docx", "locate_changes", "marker_names", "parse_changes",
           "redline_binary", "shorten", "w"]
