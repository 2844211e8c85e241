"""Outlook .msg files ([MS-OXMSG]: an OLE compound file of MAPI property streams), read over olefile (BSD).

A reader of our own: the maintained Python readers are GPL (extract-msg), unmaintained since 2019 (msg-parser)
or a 0.0.x pre-release (python-oxmsg). The part needed here is small and documented: string and binary
properties live in `__substg1.0_<id><type>` streams, fixed-size ones in `__properties_version1.0`, recipients
and attachments in numbered sub-storages, and an attached message in its attachment's `__substg1.0_3701000D`
storage. Every stream is read with its size checked first, and the total read is bounded by MailLimits."""
from __future__ import annotations

import io
import struct
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime

import olefile

from .model import Attachment, MailLimits, MailTooComplex, Message, clean_header
from ..errors import UnreadableDocument

PT_STRING8, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x001E, 0x001F, 0x0102, 0x000D
PT_LONG, PT_SYSTIME = 0x0003, 0x0040

SUBJECT, SENDER_NAME, SENDER_EMAIL, SENDER_SMTP = 0x0037, 0x0C1A, 0x0C1F, 0x5D01
DISPLAY_TO, DISPLAY_CC = 0x0E04, 0x0E03
CLIENT_SUBMIT_TIME, DELIVERY_TIME = 0x0039, 0x0E06
BODY, BODY_HTML, RTF_COMPRESSED = 0x1000, 0x1013, 0x1009
ATTACH_DATA, ATTACH_FILENAME, ATTACH_LONG_FILENAME, ATTACH_MIME_TAG, ATTACH_CONTENT_ID = \
    0x3701, 0x3704, 0x3707, 0x370E, 0x3712
ATTACH_METHOD, ATTACH_EMBEDDED = 0x3705, 5
DISPLAY_NAME, EMAIL_ADDRESS, SMTP_ADDRESS, RECIPIENT_TYPE = 0x3001, 0x3003, 0x39FE, 0x0C15
PROPERTIES = "__properties_version1.0"


def is_msg(ole: olefile.OleFileIO) -> bool:
    return ole.exists(PROPERTIES) and any(entry[0].startswith("__substg1.0_") for entry in ole.listdir())


def parse_msg(data: bytes, limits: MailLimits) -> Message:
    if len(data) > limits.max_bytes:
        raise MailTooComplex(f"the message is larger than {limits.max_bytes} bytes")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises assorted errors on damaged containers
        raise UnreadableDocument(f"not a readable Outlook message ({exc.__class__.__name__})") from None
    with ole:
        if not is_msg(ole):
            raise UnreadableDocument("not an Outlook message")
        entries = len(ole.direntries)
        if entries > limits.max_parts * 50:
            raise MailTooComplex(f"the message has more than {limits.max_parts} parts")
        reader = _Reader(ole, limits)
        return reader.message([], top=True, depth=0)


class _Reader:
    def __init__(self, ole: olefile.OleFileIO, limits: MailLimits):
        self.ole = ole
        self.limits = limits
        self.budget = limits.max_bytes * 2   # bytes read in all: stream sizes are the file's claims

    # ---- raw properties ---------------------------------------------------------------------------------
    def _read(self, path: list[str]) -> bytes | None:
        if not self.ole.exists("/".join(path)):
            return None
        size = self.ole.get_size("/".join(path))
        if size > self.budget:
            raise MailTooComplex("the message's streams are larger than the message may be")
        self.budget -= size
        with self.ole.openstream("/".join(path)) as stream:
            return stream.read(size)

    def string(self, base: list[str], prop: int) -> str | None:
        raw = self._read(base + [f"__substg1.0_{prop:04X}{PT_UNICODE:04X}"])
        if raw is not None:
            return raw.decode("utf-16-le", "replace").rstrip("\x00")
        raw = self._read(base + [f"__substg1.0_{prop:04X}{PT_STRING8:04X}"])
        if raw is not None:
            return raw.decode("cp1252", "replace").rstrip("\x00")
        return None

    def binary(self, base: list[str], prop: int) -> bytes | None:
        return self._read(base + [f"__substg1.0_{prop:04X}{PT_BINARY:04X}"])

    def fixed(self, base: list[str], header: int) -> dict[int, tuple[int, bytes]]:
        """The fixed-size properties: id -> (type, 8 value bytes)."""
        raw = self._read(base + [PROPERTIES]) or b""
        found: dict[int, tuple[int, bytes]] = {}
        for offset in range(header, len(raw) - 15, 16):
            tag, _flags, value = struct.unpack_from("<II8s", raw, offset)
            found[tag >> 16] = (tag & 0xFFFF, value)
        return found

    def substorages(self, base: list[str], prefix: str) -> list[str]:
        names = set()
        depth = len(base)
        for entry in self.ole.listdir(streams=True, storages=True):
            if len(entry) > depth and entry[:depth] == base and entry[depth].startswith(prefix):
                names.add(entry[depth])
        if len(names) > self.limits.max_parts:
            raise MailTooComplex(f"the message has more than {self.limits.max_parts} parts")
        return sorted(names)

    # ---- the message ------------------------------------------------------------------------------------
    def message(self, base: list[str], *, top: bool, depth: int) -> Message:
        if depth > self.limits.max_message_depth:
            raise MailTooComplex(f"messages nest deeper than {self.limits.max_message_depth} levels")
        fixed = self.fixed(base, 32 if top else 24)
        message = Message()
        sender_name = self.string(base, SENDER_NAME) or ""
        sender_address = self.string(base, SENDER_SMTP) or self.string(base, SENDER_EMAIL) or ""
        sender = f"{sender_name} <{sender_address}>" if sender_name and sender_address else \
            sender_name or sender_address
        to, cc = self._recipients(base)
        to = to or self.string(base, DISPLAY_TO) or ""
        cc = cc or self.string(base, DISPLAY_CC) or ""
        sent = _systime(fixed.get(CLIENT_SUBMIT_TIME)) or _systime(fixed.get(DELIVERY_TIME))
        message.subject = clean_header(self.string(base, SUBJECT) or "")
        for label, value in (("From", sender), ("Sent", format_datetime(sent) if sent else ""), ("To", to),
                             ("Cc", cc), ("Subject", message.subject)):
            if value:
                message.headers.append((label, clean_header(value)))
        html = self.binary(base, BODY_HTML)
        html_text = None
        if html is not None:
            html_text = html.decode("utf-8", "replace") if _looks_utf8(html) else html.decode("cp1252", "replace")
        else:
            html_text = self.string(base, BODY_HTML)
        text = html_text if html_text else self.string(base, BODY)
        if text is not None and len(text) > self.limits.max_body_chars:
            text, message.truncated = text[:self.limits.max_body_chars], True
        if html_text:
            message.html = text
        else:
            message.text = text or ""
        if not text:
            self._rtf_only_body(base, message)
        for storage in self.substorages(base, "__attach_version1.0_#"):
            self._attachment(base + [storage], message, depth)
        return message

    def _rtf_only_body(self, base: list[str], message: Message) -> None:
        """A body Outlook kept only as compressed RTF: offered as an attachment (LibreOffice shows RTF), with a
        note where the body would be."""
        compressed = self.binary(base, RTF_COMPRESSED)
        if not compressed:
            return
        if len(compressed) > self.limits.max_bytes // 9:  # LZFu expands at most about 8.5 times
            raise MailTooComplex("the message's RTF body is larger than the message may be")
        import compressed_rtf  # MIT: [MS-OXRTFCP] decompression

        try:
            rtf = compressed_rtf.decompress(compressed)
        except Exception:  # noqa: BLE001 - a damaged stream: the body stays empty
            return
        if len(rtf) > self.limits.max_bytes:
            raise MailTooComplex("the message's RTF body is larger than the message may be")
        message.text = "[The body of this message is stored as rich text: open the attachment \"message body.rtf\".]"
        message.attachments.append(Attachment("message body.rtf", "application/rtf", rtf))

    def _recipients(self, base: list[str]) -> tuple[str, str]:
        lists: dict[int, list[str]] = {1: [], 2: []}
        for storage in self.substorages(base, "__recip_version1.0_#"):
            where = base + [storage]
            kind = self.fixed(where, 8).get(RECIPIENT_TYPE)
            kind_value = struct.unpack_from("<I", kind[1])[0] if kind else 1
            name = self.string(where, DISPLAY_NAME) or ""
            address = self.string(where, SMTP_ADDRESS) or self.string(where, EMAIL_ADDRESS) or ""
            shown = f"{name} <{address}>" if name and address and name != address else name or address
            if kind_value in lists and shown:
                lists[kind_value].append(shown)
        return ", ".join(lists[1]), ", ".join(lists[2])

    def _attachment(self, where: list[str], message: Message, depth: int) -> None:
        if len(message.attachments) >= self.limits.max_attachments:
            raise MailTooComplex(f"the message has more than {self.limits.max_attachments} attachments")
        fixed = self.fixed(where, 8)
        method = fixed.get(ATTACH_METHOD)
        name = self.string(where, ATTACH_LONG_FILENAME) or self.string(where, ATTACH_FILENAME) or ""
        mime = (self.string(where, ATTACH_MIME_TAG) or "application/octet-stream").strip().lower()
        content_id = (self.string(where, ATTACH_CONTENT_ID) or "").strip().strip("<>")
        embedded = where + [f"__substg1.0_{ATTACH_DATA:04X}{PT_OBJECT:04X}"]
        if (method and struct.unpack_from("<I", method[1])[0] == ATTACH_EMBEDDED) or \
                self.ole.exists("/".join(embedded)):
            inner = self.message(embedded, top=False, depth=depth + 1)
            display = (name or inner.subject or "message").replace("/", "_").replace("\\", "_")
            if not display.lower().endswith((".eml", ".msg")):
                display += ".eml"
            elif display.lower().endswith(".msg"):
                display = display[:-4] + ".eml"
            message.attachments.append(Attachment(clean_header(display, 255), "message/rfc822",
                                                  to_eml(inner), True))
            return
        data = self.binary(where, ATTACH_DATA) or b""
        if content_id and mime.startswith("image/") and message.html and f"cid:{content_id}" in message.html:
            message.inline[content_id] = (mime, data)
            return
        display = clean_header(name or "attachment", 255).replace("/", "_").replace("\\", "_")
        message.attachments.append(Attachment(display, mime, data))


def _systime(value: tuple[int, bytes] | None) -> datetime | None:
    if value is None or value[0] != PT_SYSTIME:
        return None
    ticks = struct.unpack("<Q", value[1])[0]
    try:
        return datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


def _looks_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def to_eml(message: Message) -> bytes:
    """A message read from a .msg as MIME bytes: how an attached Outlook message is handed on to be viewed."""
    out = EmailMessage()
    for label, value in message.headers:
        name = {"Sent": "Date"}.get(label, label)
        try:
            out[name] = value
        except Exception:  # a value the policy cannot fold as an address header: keep it as text
            out[name] = value.encode("ascii", "replace").decode()
    if message.html is not None:
        out.set_content(message.html, subtype="html")
    else:
        out.set_content(message.text or "")
    for content_id, (mime, data) in message.inline.items():
        maintype, _, subtype = mime.partition("/")
        out.add_attachment(data, maintype=maintype, subtype=subtype or "octet-stream", cid=f"<{content_id}>",
                           disposition="inline")
    for attachment in message.attachments:
        if attachment.is_message:
            out.add_attachment(attachment.data, maintype="application", subtype="octet-stream",
                               filename=attachment.name)
        else:
            maintype, _, subtype = attachment.content_type.partition("/")
            out.add_attachment(attachment.data, maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=attachment.name)
    return out.as_bytes()
