"""Errors the render engines raise. Each carries a message fit to show a user, and pickles by its message alone,
so a worker process can send it back and the caller receives the same class."""
from __future__ import annotations


class EngineError(Exception):
    """A page or document could not be produced. `message` says why in words a user understands."""

    default_message = "The document could not be rendered"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.default_message


class PasswordRequired(EngineError):
    default_message = "Document requires a password"


class UnsupportedDocument(EngineError):
    default_message = "The document is of a kind this server cannot render"


class CorruptDocument(EngineError):
    default_message = "The document is damaged or not of its stated format"


class ImageTooLarge(EngineError):
    default_message = "The image is larger than this server accepts"


class PageOutOfRange(EngineError):
    default_message = "The page number is outside the document"


class SvgNotAvailable(EngineError):
    default_message = "SVG is not available for this document"
