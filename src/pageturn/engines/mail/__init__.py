"""E-mail messages (MIME .eml and Outlook .msg): read into one model under size, part-count and depth limits,
rendered to a sanitised HTML page for LibreOffice, and their attachments extracted one at a time."""
from __future__ import annotations

from .model import Attachment, MailLimits, Message
from .read import read_message

__all__ = ["Attachment", "MailLimits", "Message", "read_message"]
