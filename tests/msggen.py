"""Outlook .msg test files: a small compound-file (CFB v3) writer and the MAPI property streams of
[MS-OXMSG]. Streams under 4096 bytes go to the mini stream as Outlook's own files do, so the reader meets the
same layout as in real messages."""
from __future__ import annotations

import struct
from datetime import datetime, timezone

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

Tree = dict  # name -> bytes (a stream) or Tree (a storage)


def cfb(tree: Tree) -> bytes:
    entries: list[dict] = [{"name": "Root Entry", "type": 5, "kids": [], "data": b""}]

    def add(node: Tree, parent: int) -> None:
        for name, value in node.items():
            index = len(entries)
            entries.append({"name": name, "type": 1 if isinstance(value, dict) else 2, "kids": [],
                            "data": value if isinstance(value, bytes) else b""})
            entries[parent]["kids"].append(index)
            if isinstance(value, dict):
                add(value, index)
    add(tree, 0)
    # mini stream: small streams, 64-byte mini sectors
    ministream, minifat = bytearray(), []
    for entry in entries:
        if entry["type"] == 2 and len(entry["data"]) < CUTOFF:
            count = max(1, -(-len(entry["data"]) // MINI)) if entry["data"] else 0
            entry["start"] = len(minifat) if count else END
            for i in range(count):
                minifat.append(len(minifat) + 1 if i < count - 1 else END)
            ministream += entry["data"].ljust(count * MINI, b"\0")
    # regular sectors, in order: directory, mini FAT, mini stream, big streams; the FAT goes first
    chains: list[tuple[str, bytes]] = []
    directory_size = len(entries) * 128
    chains.append(("dir", b"\0" * directory_size))          # filled in below
    chains.append(("minifat", b"".join(struct.pack("<I", v) for v in minifat)))
    chains.append(("ministream", bytes(ministream)))
    for index, entry in enumerate(entries):
        if entry["type"] == 2 and len(entry["data"]) >= CUTOFF:
            chains.append((f"s{index}", entry["data"]))
    counts = [-(-len(data) // SECTOR) for _, data in chains]
    total = sum(counts)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < total + fat_sectors:
        fat_sectors += 1
    assert fat_sectors <= 109
    fat = [FATSECT] * fat_sectors
    starts: dict[str, int] = {}
    for (name, _data), count in zip(chains, counts):
        starts[name] = len(fat) if count else END
        for i in range(count):
            fat.append(len(fat) + 1 if i < count - 1 else END)
    fat += [FREE] * (fat_sectors * (SECTOR // 4) - len(fat))
    entries[0]["start"], entries[0]["size"] = starts["ministream"], len(ministream)
    for index, entry in enumerate(entries):
        if entry["type"] == 2:
            entry["size"] = len(entry["data"])
            if entry["size"] >= CUTOFF:
                entry["start"] = starts[f"s{index}"]
    directory = b"".join(_dir_entry(entry, entries) for entry in entries)
    chains[0] = ("dir", directory)
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", header, 44, fat_sectors, starts["dir"], 0, CUTOFF)
    struct.pack_into("<III", header, 60, starts["minifat"] if minifat else END,
                     -(-len(minifat) * 4 // SECTOR), END)
    struct.pack_into("<I", header, 72, 0)
    difat = list(range(fat_sectors)) + [FREE] * (109 - fat_sectors)
    struct.pack_into("<109I", header, 76, *difat)
    body = b"".join(struct.pack("<I", v) for v in fat)
    for (_, data), count in zip(chains, counts):
        body += data.ljust(count * SECTOR, b"\0")
    return bytes(header) + body


def _dir_entry(entry: dict, entries: list[dict]) -> bytes:
    name = entry["name"].encode("utf-16-le")
    raw = bytearray(128)
    raw[0:len(name)] = name
    struct.pack_into("<HBB", raw, 64, len(name) + 2, entry["type"], 1)
    right = entry.get("right", NOSTREAM)
    kids = entry["kids"]
    for a, b in zip(kids, kids[1:]):  # siblings as a chain of right links
        entries[a]["right"] = b
    struct.pack_into("<III", raw, 68, NOSTREAM, right, kids[0] if kids else NOSTREAM)
    struct.pack_into("<IQ", raw, 116, entry.get("start", END) if entry["type"] != 1 else 0, entry.get("size", 0))
    return bytes(raw)


# ---- MAPI properties ----------------------------------------------------------------------------------------
def _unicode(prop: int, value: str) -> tuple[str, bytes]:
    return f"__substg1.0_{prop:04X}001F", value.encode("utf-16-le")


def _binary(prop: int, value: bytes) -> tuple[str, bytes]:
    return f"__substg1.0_{prop:04X}0102", value


def _fixed(header: bytes, props: list[tuple[int, int, bytes]]) -> bytes:
    return header + b"".join(struct.pack("<II8s", (pid << 16) | ptype, 6, value.ljust(8, b"\0"))
                             for pid, ptype, value in props)


def _filetime(when: datetime) -> bytes:
    delta = when - datetime(1601, 1, 1, tzinfo=timezone.utc)
    return struct.pack("<Q", int(delta.total_seconds() * 10_000_000))


def message_tree(*, subject: str, sender_name: str, sender_email: str, to: list[tuple[str, str]],
                 cc: list[tuple[str, str]] = (), body: str = "", html: str | None = None,
                 attachments: list[dict] = (), sent: datetime | None = None, top: bool = True,
                 rtf: bytes | None = None) -> Tree:
    """attachments: {"name", "data", "mime", "cid"} or {"name", "message": message_tree(..., top=False)}."""
    tree: Tree = dict([_unicode(0x0037, subject), _unicode(0x0C1A, sender_name), _unicode(0x5D01, sender_email),
                       _unicode(0x0E04, "; ".join(n for n, _ in to)), _unicode(0x1000, body)])
    if cc:
        tree.update([_unicode(0x0E03, "; ".join(n for n, _ in cc))])
    if html is not None:
        tree.update([_binary(0x1013, html.encode("utf-8"))])
    if rtf is not None:  # PR_RTF_COMPRESSED, as Outlook keeps rich-text bodies
        import compressed_rtf
        tree.update([_binary(0x1009, compressed_rtf.compress(rtf))])
    when = sent or datetime(2026, 3, 14, 9, 26, 53, tzinfo=timezone.utc)
    recipients = [(n, a, 1) for n, a in to] + [(n, a, 2) for n, a in cc]
    header = struct.pack("<8xIIII", len(recipients), len(attachments), len(recipients), len(attachments))
    tree["__properties_version1.0"] = _fixed(header + (b"\0" * 8 if top else b""),
                                             [(0x0039, 0x0040, _filetime(when))])
    for i, (name, address, kind) in enumerate(recipients):
        tree[f"__recip_version1.0_#{i:08X}"] = {
            **dict([_unicode(0x3001, name), _unicode(0x39FE, address)]),
            "__properties_version1.0": _fixed(b"\0" * 8, [(0x0C15, 0x0003, struct.pack("<I", kind))]),
        }
    for i, item in enumerate(attachments):
        storage: Tree = dict([_unicode(0x3707, item["name"]), _unicode(0x3704, item["name"][:12])])
        if "message" in item:
            storage["__substg1.0_3701000D"] = item["message"]
            method = 5
        else:
            storage.update([_binary(0x3701, item["data"]), _unicode(0x370E, item.get("mime",
                                                                                      "application/octet-stream"))])
            if item.get("cid"):
                storage.update([_unicode(0x3712, item["cid"])])
            method = 1
        storage["__properties_version1.0"] = _fixed(b"\0" * 8, [(0x3705, 0x0003, struct.pack("<I", method))])
        tree[f"__attach_version1.0_#{i:08X}"] = storage
    if top:
        tree["__nameid_version1.0"] = {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                       "__substg1.0_00040102": b""}
    return tree


def msg_file(**kw) -> bytes:
    return cfb(message_tree(**kw))
