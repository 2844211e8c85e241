"""Every error the engines and their process pools raise, in one module.

Each class carries a `code`, unique among these classes, that callers map to their protocol's answers (a class
rename then cannot silently change an HTTP status), and a message fit to show a user. They pickle by their
message alone, so a render worker can send one back and the server receives the same class: the pool unpickles
exceptions from this module and the built-ins only.
"""
from __future__ import annotations


class EngineError(Exception):
    """A page or document could not be produced. `message` says why in words a user understands."""

    code = "EngineError"
    default_message = "The document could not be rendered"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.default_message


# ---- the document itself ---------------------------------------------------------------------------------------
class PasswordRequired(EngineError):
    """A missing or wrong password (PDF or office document), never a hang."""

    code = "PasswordRequired"
    default_message = "Document requires a password"


class UnsupportedDocument(EngineError):
    code = "UnsupportedDocument"
    default_message = "The document is of a kind this server cannot render"


class CorruptDocument(EngineError):
    code = "CorruptDocument"
    default_message = "The document is damaged or not of its stated format"


class ImageTooLarge(EngineError):
    code = "ImageTooLarge"
    default_message = "The image is larger than this server accepts"


class PageOutOfRange(EngineError):
    code = "PageOutOfRange"
    default_message = "The page number is outside the document"


class SvgNotAvailable(EngineError):
    code = "SvgNotAvailable"
    default_message = "SVG is not available for this document"


class MemoryLimitExceeded(EngineError):
    """The process working on the document passed its memory cap; it was stopped and replaced."""

    code = "DocumentTooComplex"
    default_message = "The document needs more memory than this server allows"


# ---- LibreOffice conversions -----------------------------------------------------------------------------------
class OfficeError(EngineError):
    """A LibreOffice conversion did not produce a document."""

    code = "OfficeError"
    default_message = "The document could not be converted"


class ConversionFailed(OfficeError):
    """LibreOffice could not convert the document, or stopped while converting it."""

    code = "ConversionFailed"


class OfficeCrashed(ConversionFailed):
    """The LibreOffice process died while converting (killed, or crashed): says nothing sure about the document."""

    code = "OfficeCrashed"


class UnreadableDocument(ConversionFailed, CorruptDocument):
    """LibreOffice could not open the document: damaged, or not of its stated format."""

    code = "UnreadableDocument"


class MessageTooComplex(UnreadableDocument):
    """An e-mail past one of the reader's limits (size, parts, nesting, attachments): engines/mail/model.py."""

    code = "MessageTooComplex"


class ConversionTimeout(OfficeError):
    """The conversion took longer than its timeout; the process was killed and replaced."""

    code = "ConversionTimeout"


class QueueFull(OfficeError):
    """Every process is busy and the waiting line is at its limit."""

    code = "QueueFull"


class OfficeUnavailable(OfficeError):
    """LibreOffice cannot be started here, or the pool is not running."""

    code = "OfficeUnavailable"


class SandboxUnavailable(EngineError):
    """The isolation asked for cannot be set up on this machine."""

    code = "SandboxUnavailable"
    default_message = "The document engine cannot be isolated on this machine"


# ---- Word comparison -------------------------------------------------------------------------------------------
class CompareError(EngineError):
    """The comparison engine failed or a document could not be read."""

    code = "CompareFailed"
    default_message = "The documents could not be compared"


class CompareTimeout(CompareError):
    """The comparison took longer than its timeout; its processes were killed."""

    code = "CompareTimeout"


class CompareTooLarge(CompareError):
    """The comparison needed more memory than its cap allows, or found more changes than can be listed."""

    code = "CompareTooLarge"


# ---- text recognition ------------------------------------------------------------------------------------------
class OcrFailed(EngineError):
    code = "OcrFailed"
    default_message = "Text recognition failed"


class OcrUnavailable(EngineError):
    code = "OcrUnavailable"
    default_message = "Text recognition (Tesseract) is not installed on this server"


# ---- the render worker pool ------------------------------------------------------------------------------------
class PoolError(EngineError):
    code = "PoolError"
    default_message = "The render service failed"


class WorkerCrashed(PoolError):
    code = "WorkerCrashed"
    default_message = "The renderer stopped while working on this page"


class JobTimeout(PoolError):
    code = "JobTimeout"
    default_message = "Rendering took too long"


class PoolBusy(PoolError):
    code = "PoolBusy"
    default_message = "The render service is busy; try again shortly"


class PoolClosed(PoolError):
    code = "PoolClosed"
    default_message = "The render service is not running"


def all_errors() -> list[type[EngineError]]:
    """Every error class of this module (the classes a worker may send back; codes are unique among them)."""
    return [value for value in globals().values()
            if isinstance(value, type) and issubclass(value, EngineError)]
