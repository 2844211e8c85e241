"""Small files that inflate to gigabytes when parsed: the bomb suite's documents, generated, never stored."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib


def _raw_deflate(block: bytes, count: int, crc: int = 0) -> tuple[bytes, int, int]:
    """Raw deflate data of `block` repeated `count` times, its CRC-32 (continuing `crc`) and Adler-32. Fast:
    one block is compressed once and its output repeated, which is valid because a full flush ends it on a byte
    boundary with no reference to earlier data."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    adler = 1
    for _ in range(count):
        crc, adler = zlib.crc32(block, crc), zlib.adler32(block, adler)
    return piece * count + final, crc, adler


def _zlib_repeated(block: bytes, count: int) -> bytes:
    raw, _crc, adler = _raw_deflate(block, count)
    return b"\x78\xda" + raw + struct.pack(">I", adler)


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< " + dictionary + b" /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + \
        b"\nendstream"


def pdf_content_bomb(size: int = 2 << 30) -> bytes:
    """A one-page PDF whose content stream inflates to `size` bytes (tiny path operators, tens of millions of them)."""
    unit = b"0 0 m 1 1 l S " * 64
    block = unit * ((1 << 22) // len(unit))
    data = _zlib_repeated(block, max(1, size // len(block)))
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        _stream(b"", data),
    ])


def png_rgba(side: int = 14_000) -> bytes:
    """A side x side RGBA PNG of zeros (side² x 4 bytes decoded: 784 MB for 14000), a few hundred KB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + side * 4)
    rows_per_block = 64
    whole, rest = divmod(side, rows_per_block)
    raw, _crc, adler = _raw_deflate(row * rows_per_block, whole)
    # the rest of the rows as one more (final) block, continuing the checksum
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = raw[:-2] + tail.compress(row * rest) + tail.flush()  # drop the empty final block, end with the tail
    adler = zlib.adler32(row * rest, adler)
    idat = b"\x78\xda" + raw + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def docx_bomb(size: int = 2 << 30) -> bytes:
    """A .docx whose document.xml inflates to `size` bytes: one paragraph run after another (a few MB zipped)."""
    head = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
    tail = b"</w:body></w:document>"
    unit = b"<w:p><w:r><w:t>bomb bomb bomb bomb</w:t></w:r></w:p>"
    block = unit * ((1 << 22) // len(unit))
    count = max(1, size // len(block))
    body, crc, _adler = _raw_deflate(block, count, zlib.crc32(head))
    # the head and the tail become the first and the last blocks of the same raw deflate stream
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    head_raw = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail_raw = last.compress(tail) + last.flush()
    data = head_raw + body[:-2] + tail_raw
    crc = zlib.crc32(tail, crc)
    plain_size = len(head) + len(block) * count + len(tail)
    members = [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
    ]
    return _zip(members, ("word/document.xml", data, crc, plain_size))


CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                 b'2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                 b'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
                 b'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 b'wordprocessingml.document.main+xml"/></Types>')
RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')


def _zip(small: list[tuple[str, bytes]], big: tuple[str, bytes, int, int]) -> bytes:
    """A zip archive of `small` members (deflated here) and one precompressed member, with zip64 sizes for it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in small:
            archive.writestr(name, data)
    archive_bytes = out.getvalue()
    # append the big member by hand: local header, data, then rebuild the central directory
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as existing:
        infos = existing.infolist()
        start_of_cd = min(i.header_offset for i in infos) + sum(
            len(_local(i.filename.encode(), i.CRC, i.compress_size, i.file_size)) + i.compress_size for i in infos)
    body = archive_bytes[:start_of_cd]
    name, data, crc, plain_size = big
    offset = len(body)
    big64 = plain_size >= 0xFFFFFFFF  # LibreOffice reads plain zip more readily than zip64: only when needed
    local = _local(name.encode(), crc, len(data), plain_size, zip64=big64)
    body += local + data
    entries = [(i.filename.encode(), i.CRC, i.compress_size, i.file_size, i.header_offset, False) for i in infos]
    entries.append((name.encode(), crc, len(data), plain_size, offset, big64))
    cd = b""
    for fname, fcrc, csize, usize, off, z64 in entries:
        extra = struct.pack("<HHQQQ", 1, 24, usize, csize, off) if z64 else b""
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45 if z64 else 20, 45 if z64 else 20, 0, 8, 0, 0, fcrc,
                          0xFFFFFFFF if z64 else csize, 0xFFFFFFFF if z64 else usize, len(fname), len(extra),
                          0, 0, 0, 0, 0xFFFFFFFF if z64 else off) + fname + extra
    cd_offset = len(body)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), cd_offset, 0)
    return body + cd + end


def _local(name: bytes, crc: int, csize: int, usize: int, zip64: bool = False) -> bytes:
    extra = struct.pack("<HHQQ", 1, 16, usize, csize) if zip64 else b""
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0, 8, 0, 0, crc, 0xFFFFFFFF if zip64 else csize,
                       0xFFFFFFFF if zip64 else usize, len(name), len(extra)) + name + extra
