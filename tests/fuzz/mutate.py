"""A small seeded mutator for the fuzz suite: bit flips, interesting bytes, truncation, chunk duplication and
deletion, number inflation (sizes, lengths and counts in PDF, XML and HTML text), and for ZIP containers
(docx, xlsx, pptx) corruption of one member inside an otherwise valid archive. Every choice comes from the
`random.Random` it is given, so (seed, case) reproduces a file byte for byte."""
from __future__ import annotations

import io
import random
import re
import zipfile
import zlib
from typing import Callable

INTERESTING = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE)
HUGE_NUMBERS = (b"0", b"-1", b"4294967295", b"2147483648", b"99999999999", b"1e308", b"65536", b"-0.0")
_NUMBER = re.compile(rb"\d{1,9}")
MAX_GROWTH = 4 << 20  # a mutated file stays under a few MB: the suite probes parsers, not upload limits

Mutation = Callable[[random.Random, bytes], bytes]


def flip_bits(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 32)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def interesting_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        out[rng.randrange(len(out))] = rng.choice(INTERESTING)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(1, len(data))]


def duplicate_chunk(rng: random.Random, data: bytes) -> bytes:
    start = rng.randrange(len(data))
    chunk = data[start:start + rng.randint(1, 4096)]
    at = rng.randrange(len(data) + 1)
    times = rng.choice((1, 1, 2, 16, 256))
    times = max(1, min(times, MAX_GROWTH // max(1, len(chunk))))
    return data[:at] + chunk * times + data[at:]


def delete_chunk(rng: random.Random, data: bytes) -> bytes:
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 4096):]


def inflate_number(rng: random.Random, data: bytes) -> bytes:
    """Replace one number written as text: object sizes, stream lengths, widths, counts, offsets."""
    numbers = [m.span() for m in _NUMBER.finditer(data[:1 << 20])]
    if not numbers:
        return flip_bits(rng, data)
    start, end = rng.choice(numbers)
    return data[:start] + rng.choice(HUGE_NUMBERS) + data[end:]


BYTE_MUTATIONS: tuple[Mutation, ...] = (flip_bits, interesting_bytes, truncate, duplicate_chunk, delete_chunk,
                                        inflate_number)


def corrupt_zip_member(rng: random.Random, data: bytes) -> bytes:
    """Rewrite the archive with one member mutated (or dropped): the container opens, its content is wrong."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            members = [(info, source.read(info)) for info in source.infolist()]
    except (zipfile.BadZipFile, ValueError, EOFError, zlib.error, NotImplementedError, RuntimeError):
        return flip_bits(rng, data)  # an earlier step broke the archive itself
    target = rng.randrange(len(members))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (info, content) in enumerate(members):
            if index == target:
                if rng.random() < 0.15:
                    continue  # a missing part
                if content:
                    content = rng.choice(BYTE_MUTATIONS)(rng, content)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def mutate(rng: random.Random, data: bytes, *, is_zip: bool = False) -> tuple[bytes, list[str]]:
    """One to three mutations; returns the bytes and the names of what was done (for the record)."""
    done: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        if is_zip and rng.random() < 0.6:
            step: Mutation = corrupt_zip_member
        else:
            step = rng.choice(BYTE_MUTATIONS)
        data = step(rng, data)
        done.append(step.__name__)
    return data or b"\x00", done
