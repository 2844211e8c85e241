"""One entry point for both message formats."""
from __future__ import annotations

from .mime import parse_eml
from .model import DEFAULT_LIMITS, Attachment, MailLimits, Message
from .msg import parse_msg

FORMATS = ("eml", "msg")


def read_message(data: bytes, extension: str, limits: MailLimits = DEFAULT_LIMITS) -> Message:
    return parse_msg(data, limits) if extension == "msg" else parse_eml(data, limits)


def attachment(data: bytes, extension: str, index: int, limits: MailLimits = DEFAULT_LIMITS) -> Attachment | None:
    """The attachment at 1-based `index` of the attachment list, or None when there is none there."""
    attachments = read_message(data, extension, limits).attachments
    return attachments[index - 1] if 1 <= index <= len(attachments) else None
