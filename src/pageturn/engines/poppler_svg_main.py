"""The long-lived SVG renderer: poppler-glib + cairo in one process that stays loaded (engines.poppler_svg starts it).

Runs under Debian's /usr/bin/python3 (the GObject bindings of poppler exist only there), not in pageturn's venv, so
it imports nothing from pageturn. It draws exactly what `pdftocairo -svg` draws (the same poppler CairoOutputDev in
printing mode, onto a cairo SVG surface restricted to SVG 1.2) without starting a process and re-parsing the file
for every page.

Protocol on stdin/stdout: a request is a 4-byte big-endian length + JSON {"path", "page" (0-based), "password"};
an answer is one status byte (b"O" ok, b"E" error) + 4-byte length + the SVG or a UTF-8 message. The parent sets
the address-space cap and kills this process on a timeout.
"""
from __future__ import annotations

import io
import json
import os
import struct
import sys
from collections import OrderedDict

LENGTH = struct.Struct(">I")
OPEN_DOCUMENTS = 4


def main() -> None:
    import gi
    gi.require_version("Poppler", "0.18")
    import cairo
    from gi.repository import GLib, Poppler

    documents: OrderedDict[tuple[str, str | None, int, int], Poppler.Document] = OrderedDict()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

    def answer(status: bytes, payload: bytes) -> None:
        stdout.write(status + LENGTH.pack(len(payload)) + payload)
        stdout.flush()

    def document(path: str, password: str | None) -> Poppler.Document:
        stat = os.stat(path)
        key = (path, password, stat.st_mtime_ns, stat.st_size)
        if key in documents:
            documents.move_to_end(key)
            return documents[key]
        opened = Poppler.Document.new_from_file(GLib.filename_to_uri(os.path.abspath(path), None), password)
        documents[key] = opened
        while len(documents) > OPEN_DOCUMENTS:
            documents.popitem(last=False)
        return opened

    def render(path: str, number: int, password: str | None) -> bytes:
        page = document(path, password).get_page(number)
        if page is None:
            raise ValueError(f"page {number} does not exist")
        width, height = page.get_size()
        out = io.BytesIO()
        surface = cairo.SVGSurface(out, width, height)
        surface.restrict_to_version(cairo.SVG_VERSION_1_2)
        context = cairo.Context(surface)
        page.render_for_printing(context)
        context.show_page()
        surface.finish()
        return out.getvalue()

    answer(b"O", b"ready")
    while True:
        head = stdin.read(LENGTH.size)
        if len(head) < LENGTH.size:
            return
        request = json.loads(stdin.read(LENGTH.unpack(head)[0]))
        try:
            answer(b"O", render(request["path"], int(request["page"]), request.get("password")))
        except (GLib.Error, ValueError, OSError, MemoryError) as error:
            answer(b"E", str(error).encode("utf-8", "replace")[:500])


if __name__ == "__main__":
    try:
        main()
    except (ImportError, ValueError) as error:  # no poppler-glib here: say so, the parent falls back to pdftocairo
        message = f"poppler-glib is not available: {error}".encode()
        sys.stdout.buffer.write(b"E" + LENGTH.pack(len(message)) + message)
        sys.stdout.buffer.flush()
