"""What the viewer shows of an e-mail, whatever file format it came in, and the limits every reader keeps."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import MessageTooComplex


@dataclass(frozen=True)
class MailLimits:
    """Bounds on what a message may make the server do: it is parsed in the server process (in a thread), so
    these keep a hostile message from taking its memory or time."""

    max_bytes: int = 25 * 1024 * 1024      # the message file itself (what mail servers commonly cap at)
    max_parts: int = 1000                  # MIME parts, or MSG attachments and recipients, in one message
    max_depth: int = 8                     # MIME multipart nesting within one file
    max_body_chars: int = 5_000_000        # body text beyond this is cut (a note says so)
    max_attachments: int = 200             # attachments listed (and viewable) per message
    max_message_depth: int = 4             # messages inside messages inside messages, across viewing sessions


DEFAULT_LIMITS = MailLimits()


# a message past one of MailLimits is refused whole (580), never shown in part
MailTooComplex = MessageTooComplex


@dataclass
class Attachment:
    name: str                 # file name as shown (never used as a path)
    content_type: str
    data: bytes
    is_message: bool = False  # a message attached to the message (viewable as .eml)

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def extension(self) -> str | None:
        """The name's extension, lower case, when it is a plain alphanumeric one."""
        if self.is_message:
            return "eml"
        stem, dot, ext = self.name.rpartition(".")
        ext = ext.lower()
        return ext if dot and stem and ext.isalnum() and ext.isascii() and len(ext) <= 16 else None


@dataclass
class Message:
    headers: list[tuple[str, str]] = field(default_factory=list)   # (label, value) in display order
    subject: str = ""
    html: str | None = None           # the HTML body, unsanitised (render.py sanitises it)
    text: str | None = None           # the plain body, when there is no HTML one
    inline: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # Content-ID -> (MIME type, bytes)
    attachments: list[Attachment] = field(default_factory=list)
    truncated: bool = False           # the body was cut at MailLimits.max_body_chars


def clean_header(value: str, limit: int = 2000) -> str:
    """A header value fit to show on one line: no control characters, bounded."""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
