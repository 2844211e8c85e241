"""Test files of the everyday formats beyond Office: SVG, ODG, DXF, EMF, XPS, AVIF, Markdown, JSON and XML,
each written from scratch with a visible marker."""
from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

from PIL import Image


def svg(marker: str, extra: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="200" viewBox="0 0 400 200">'
            f'<rect x="10" y="10" width="380" height="180" fill="#e0e0ff" stroke="#000080"/>'
            f'<text x="30" y="100" font-family="Liberation Sans" font-size="20">{marker}</text>{extra}</svg>'
            ).encode()


def hostile_svg(marker: str, beacon: str) -> bytes:
    """Script, event handlers, an external image, an external stylesheet, foreignObject and an entity."""
    extra = (f'<script>document.title="pwned"; fetch("{beacon}/script")</script>'
             f'<image x="0" y="0" width="50" height="50" xlink:href="{beacon}/image.png"/>'
             f'<image x="60" y="0" width="50" height="50" href="{beacon}/image2.png"/>'
             f'<rect width="10" height="10" onload="fetch(\'{beacon}/onload\')" style="fill:url({beacon}/f)"/>'
             f'<foreignObject width="100" height="50"><iframe xmlns="http://www.w3.org/1999/xhtml" '
             f'src="{beacon}/frame"/></foreignObject><text x="30" y="150">&ent;</text>')
    body = svg(marker, extra).decode().split("\n", 1)[1]
    return (f'<?xml version="1.0"?>\n<?xml-stylesheet href="{beacon}/style.css"?>\n'
            f'<!DOCTYPE svg [<!ENTITY ent SYSTEM "{beacon}/entity">]>\n' + body).encode()


def odg(marker: str) -> bytes:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">'
               '<office:body><office:drawing><draw:page draw:name="page1">'
               '<draw:frame svg:x="2cm" svg:y="2cm" svg:width="14cm" svg:height="2cm"><draw:text-box>'
               f'<text:p>{marker}</text:p></draw:text-box></draw:frame></draw:page></office:drawing></office:body>'
               '</office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.graphics"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.graphics")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def dxf(marker: str) -> bytes:
    codes = ["0", "SECTION", "2", "ENTITIES",
             "0", "LINE", "8", "0", "10", "0", "20", "0", "11", "100", "21", "50",
             "0", "TEXT", "8", "0", "10", "10", "20", "10", "40", "5", "1", marker,
             "0", "ENDSEC", "0", "EOF"]
    return ("\n".join(codes) + "\n").encode("ascii")


def emf(marker: str) -> bytes:
    """An EMF of a header, a font, one line of text (EMR_EXTTEXTOUTW) and the end record."""
    records = []
    # EMR_EXTCREATEFONTINDIRECTW (82): object 1, LOGFONTW of height -40 and face "Liberation Sans"
    face = "Liberation Sans".encode("utf-16-le").ljust(64, b"\0")
    logfont = struct.pack("<iiiiiBBBBBBBB", -40, 0, 0, 0, 400, 0, 0, 0, 0, 0, 0, 0, 0) + face
    records.append(struct.pack("<III", 82, 12 + len(logfont), 1) + logfont)
    records.append(struct.pack("<III", 37, 12, 1))  # EMR_SELECTOBJECT object 1
    text = marker.encode("utf-16-le")
    padded = text + b"\0" * (-len(text) % 4)
    dx = struct.pack(f"<{len(marker)}i", *([22] * len(marker)))
    # EMR_EXTTEXTOUTW: bounds, graphics mode, scales, then EMRTEXT (reference point, chars, offsets, options,
    # rectangle, dx offset)
    emrtext_offset = 8 + 16 + 4 + 8 + 40  # from the record start: type+size, bounds, mode, scales, EMRTEXT
    string_offset = emrtext_offset
    dx_offset = string_offset + len(padded)
    body = struct.pack("<iiii", 0, 0, 800, 200) + struct.pack("<Iff", 1, 1.0, 1.0)
    body += struct.pack("<iiIIIiiiiI", 50, 100, len(marker), string_offset, 0, 0, 0, 800, 200, dx_offset)
    body += padded + dx
    records.append(struct.pack("<II", 84, 8 + len(body)) + body)
    eof = struct.pack("<IIIII", 14, 20, 0, 0, 20)
    body_records = b"".join(records) + eof
    description = "pageturn\0test\0\0".encode("utf-16-le")
    header_size = 108
    header = struct.pack("<II", 1, header_size + len(description))
    header += struct.pack("<iiii", 0, 0, 800, 200)            # bounds (device units)
    header += struct.pack("<iiii", 0, 0, 21166, 5291)         # frame (0.01 mm)
    header += b" EMF" + struct.pack("<I", 0x10000)
    total = header_size + len(description) + len(body_records)
    header += struct.pack("<IIHH", total, len(records) + 2, 2, 0)
    header += struct.pack("<III", len(description) // 2, header_size, 0)
    header += struct.pack("<ii", 1024, 768) + struct.pack("<ii", 270, 203)   # device pixels, millimetres
    header += struct.pack("<III", 0, 0, 0) + struct.pack("<ii", 270_000, 203_000)  # no pixel format, micrometres
    assert len(header) == header_size
    return header + description + body_records


def xps(marker: str, font: Path) -> bytes:
    """One fixed page with a line of Glyphs in an embedded (not obfuscated) TrueType font."""
    rels = ('<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Type="http://schemas.microsoft.com/xps/2005/06/'
            'fixedrepresentation" Target="/FixedDocSeq.fdseq" Id="R0"/></Relationships>')
    types = ('<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
             '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="fdseq" ContentType="application/vnd.ms-package.xps-'
             'fixeddocumentsequence+xml"/><Default Extension="fdoc" ContentType="application/vnd.ms-package.xps-'
             'fixeddocument+xml"/><Default Extension="fpage" ContentType="application/vnd.ms-package.xps-'
             'fixedpage+xml"/><Default Extension="ttf" ContentType="application/vnd.ms-opentype"/></Types>')
    seq = ('<FixedDocumentSequence xmlns="http://schemas.microsoft.com/xps/2005/06"><DocumentReference '
           'Source="/Documents/1/FixedDoc.fdoc"/></FixedDocumentSequence>')
    doc = ('<FixedDocument xmlns="http://schemas.microsoft.com/xps/2005/06"><PageContent '
           'Source="/Documents/1/Pages/1.fpage"/></FixedDocument>')
    page = ('<FixedPage Width="816" Height="1056" xmlns="http://schemas.microsoft.com/xps/2005/06" xml:lang="en">'
            '<Path Data="M 50,50 L 300,50 L 300,120 L 50,120 Z" Fill="#FFDDDDFF"/>'
            f'<Glyphs Fill="#FF000000" FontUri="/Resources/font.ttf" FontRenderingEmSize="24" OriginX="60" '
            f'OriginY="100" UnicodeString="{marker}"/></FixedPage>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("FixedDocSeq.fdseq", seq)
        archive.writestr("Documents/1/FixedDoc.fdoc", doc)
        archive.writestr("Documents/1/Pages/1.fpage", page)
        archive.write(font, "Resources/font.ttf")
    return out.getvalue()


def avif(color: tuple[int, int, int] = (30, 160, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 120), color).save(out, "AVIF")
    return out.getvalue()


def heic(color: tuple[int, int, int] = (30, 160, 40)) -> bytes:
    """An HEVC-coded HEIC photo, written by Debian's heif-enc (libheif-examples, a test dependency)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        png, out = Path(work) / "in.png", Path(work) / "out.heic"
        Image.new("RGB", (200, 120), color).save(png)
        subprocess.run(["heif-enc", "-q", "90", str(png), "-o", str(out)], check=True, capture_output=True,
                       timeout=60)
        return out.read_bytes()


def markdown(marker: str) -> bytes:
    return (f"# Heading {marker}\n\nSome *emphasis* and a table:\n\n| Name | Count |\n|---|---|\n"
            f"| apples | 12 |\n\n<script>document.title='pwned'</script>\n\n- item one\n- item two\n").encode()


def json_document(marker: str) -> bytes:
    return json.dumps({"title": marker, "items": [1, 2, 3], "nested": {"ok": True}}).encode()


def xml_document(marker: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "expanded-entity">]><root><title>{marker}</title>'
            f'<item id="1">&e;</item></root>').encode()


_VISIO = "http://schemas.microsoft.com/office/visio/2012/main"
_VISIO_REL = "http://schemas.microsoft.com/visio/2010/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def vsdx(marker: str) -> bytes:
    """A Visio 2013 drawing: one page with one rectangle holding the marker text."""
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/visio/document.xml" ContentType="application/vnd.ms-visio.drawing.main+xml"/>'
             '<Override PartName="/visio/pages/pages.xml" ContentType="application/vnd.ms-visio.pages+xml"/>'
             '<Override PartName="/visio/pages/page1.xml" ContentType="application/vnd.ms-visio.page+xml"/>'
             '</Types>')
    root_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_REL}"><Relationship '
                 f'Id="rId1" Type="{_VISIO_REL}/document" Target="visio/document.xml"/></Relationships>')
    document = f'<?xml version="1.0" encoding="UTF-8"?><VisioDocument xmlns="{_VISIO}" xmlns:r="{_OFFICE_REL}"/>'
    document_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_REL}"><Relationship '
                     f'Id="rId1" Type="{_VISIO_REL}/pages" Target="pages/pages.xml"/></Relationships>')
    pages = (f'<?xml version="1.0" encoding="UTF-8"?><Pages xmlns="{_VISIO}" xmlns:r="{_OFFICE_REL}">'
             '<Page ID="0" NameU="Page-1" Name="Page-1"><PageSheet><Cell N="PageWidth" V="8.5"/>'
             '<Cell N="PageHeight" V="11"/></PageSheet><Rel r:id="rId1"/></Page></Pages>')
    pages_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE_REL}"><Relationship '
                  f'Id="rId1" Type="{_VISIO_REL}/page" Target="page1.xml"/></Relationships>')
    corners = ((0, 0), (4, 0), (4, 1), (0, 1), (0, 0))
    rows = "".join(f'<Row T="{"MoveTo" if i == 0 else "LineTo"}" IX="{i + 1}"><Cell N="X" V="{x}"/>'
                   f'<Cell N="Y" V="{y}"/></Row>' for i, (x, y) in enumerate(corners))
    page = (f'<?xml version="1.0" encoding="UTF-8"?><PageContents xmlns="{_VISIO}" xmlns:r="{_OFFICE_REL}"><Shapes>'
            '<Shape ID="1" Type="Shape"><Cell N="PinX" V="4"/><Cell N="PinY" V="8"/><Cell N="Width" V="4"/>'
            '<Cell N="Height" V="1"/><Cell N="LocPinX" V="2"/><Cell N="LocPinY" V="0.5"/>'
            f'<Section N="Geometry" IX="0">{rows}</Section><Text>{marker}</Text></Shape></Shapes></PageContents>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("[Content_Types].xml", types), ("_rels/.rels", root_rels),
                           ("visio/document.xml", document), ("visio/_rels/document.xml.rels", document_rels),
                           ("visio/pages/pages.xml", pages), ("visio/pages/_rels/pages.xml.rels", pages_rels),
                           ("visio/pages/page1.xml", page)):
            archive.writestr(name, text)
    return out.getvalue()


def wmf(marker: str) -> bytes:
    """A placeable Windows metafile: a font, one line of text (META_TEXTOUT) and the end record."""
    def record(function: int, *words: int, payload: bytes = b"") -> bytes:
        body = struct.pack(f"<{len(words)}h", *words) + payload
        body += b"\0" * (len(body) % 2)
        return struct.pack("<IH", 3 + len(body) // 2, function) + body

    face = b"Liberation Sans".ljust(32, b"\0")
    font = struct.pack("<hhhhhBBBBBBBB", -40, 0, 0, 0, 400, 0, 0, 0, 0, 0, 0, 0, 0) + face
    text = marker.encode("ascii")
    records = (record(0x020B, 0, 0)                    # META_SETWINDOWORG (y, x)
               + record(0x020C, 300, 1000)             # META_SETWINDOWEXT (height, width)
               + record(0x02FB, payload=font)          # META_CREATEFONTINDIRECT: object 0
               + record(0x012D, 0)                     # META_SELECTOBJECT
               + record(0x0521, len(text), payload=text + b"\0" * (len(text) % 2) + struct.pack("<hh", 100, 20))
               + struct.pack("<IH", 3, 0))             # META_EOF
    largest = 3 + (len(font) + 1) // 2
    header = struct.pack("<HHHIHIH", 1, 9, 0x0300, 9 + len(records) // 2, 1, largest, 0)
    left, top, right, bottom, inch = 0, 0, 1000, 300, 1440
    placeable = struct.pack("<IhhhhhHI", 0x9AC6CDD7, 0, left, top, right, bottom, inch, 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<H", placeable[:20]):
        checksum ^= word
    placeable += struct.pack("<H", checksum)
    return placeable + header + records
