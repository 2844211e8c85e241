"""One entry point for both message formats."""
from __future__ import annotations

from .mime import parse_eml
from ..errors import EngineError, UnreadableDocument
from .model import DEFAULT_LIMITS, Attachment, MailLimits, MailTooComplex, Message
from .msg import parse_msg

FORMATS = ("eml", "msg")


def read_message(data: bytes, extension: str, limits: MailLimits = DEFAULT_LIMITS) -> Message:
    """The message, or UnreadableDocument (MailTooComplex past a limit): a damaged message never raises
    anything else (the parsers' own errors on hostile input are many and undocumented)."""
    try:
        return parse_msg(data, limits) if extension == "msg" else parse_eml(data, limits)
    except EngineError:
        raise
    except RecursionError:
        raise MailTooComplex("the message nests too deeply") from None
    except Exception as exc:  # noqa: BLE001 - see above
        raise UnreadableDocument(f"the message could not be read ({exc.__class__.__name__})") from None


def attachment(data: bytes, extension: str, index: int, limits: MailLimits = DEFAULT_LIMITS) -> Attachment | None:
    """The attachment at 1-based `index` of the attachment list, or None when there is none there."""
    attachments = read_message(data, extension, limits).attachments
    return attachments[index - 1] if 1 <= index <= len(attachments) else None
