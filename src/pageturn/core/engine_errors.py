"""The one table that turns engine and pool errors into the domain errors the APIs answer with.

Keyed by class, so renaming an engine error breaks an import or the table's completeness test instead of
silently changing an HTTP status. Two stages read it: rendering a page and converting a document, which tell
the same failure differently (a damaged PDF page is InvalidDocument; a damaged Word file is ConversionFailed)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from ..engines import errors as engine
from .errors import DomainError, InputError, PasswordRequired, ServerError, invalid

log = logging.getLogger(__name__)

Stage = Literal["render", "convert"]


@dataclass(frozen=True)
class Answer:
    """A 580 errorCode and the message a user sees; `detail` adds the engine's own words."""

    error_code: str
    message: str
    detail: bool = True
    # how long a conversion failure is answered from memory before the document is tried again: a failure of
    # the document for a minute; a timeout (perhaps only the machine's load) briefly, so that clients polling
    # every 250 ms do not restart a bomb each time; busy, restarting or killed converters never
    remember: float = 60.0


_BUSY = Answer("ServerBusy", "The server is busy; try again shortly", remember=0)
_TOO_COMPLEX = Answer("DocumentTooComplex", "The document needs more memory than this server allows")

# (render answer, conversion answer) per engine error; PasswordRequired and PageOutOfRange answer 480 instead.
TABLE: dict[type[engine.EngineError], tuple[Answer, Answer]] = {
    engine.EngineError: (Answer("RenderFailed", "The page could not be rendered", detail=False),
                         Answer("ConversionFailed", "The document could not be converted", detail=False)),
    engine.UnsupportedDocument: (Answer("InvalidDocument", "The document cannot be rendered"),
                                 Answer("ConversionFailed", "The document could not be read")),
    engine.CorruptDocument: (Answer("InvalidDocument", "The document is damaged or not of its stated format"),
                             Answer("ConversionFailed", "The document could not be read")),
    engine.ImageTooLarge: (Answer("ImageTooLarge", "The image is larger than this server accepts"),
                           Answer("ImageTooLarge", "The image is larger than this server accepts")),
    engine.SvgNotAvailable: (Answer("SvgNotAvailable", "SVG is not available for this document"),
                             Answer("ConversionFailed", "The document could not be converted")),
    engine.MemoryLimitExceeded: (_TOO_COMPLEX, _TOO_COMPLEX),
    engine.OfficeError: (Answer("ConversionFailed", "The document could not be converted", detail=False),
                         Answer("ConversionFailed", "The document could not be converted", detail=False)),
    engine.ConversionFailed: (Answer("ConversionFailed", "The document could not be read"),
                              Answer("ConversionFailed", "The document could not be read")),
    engine.OfficeCrashed: (Answer("ConversionFailed", "The converter stopped while working on this document",
                                 remember=0),
                          Answer("ConversionFailed", "The converter stopped while working on this document",
                                 remember=0)),
    engine.UnreadableDocument: (Answer("ConversionFailed", "The document could not be read"),
                                Answer("ConversionFailed", "The document could not be read")),
    engine.MessageTooComplex: (Answer("ConversionFailed", "The e-mail is larger or more deeply nested than this "
                                      "server reads"),
                               Answer("ConversionFailed", "The e-mail is larger or more deeply nested than this "
                                      "server reads")),
    engine.ConversionTimeout: (Answer("ConversionFailed", "Converting the document took too long", remember=10),
                               Answer("ConversionFailed", "Converting the document took too long",
                                      remember=10)),
    engine.QueueFull: (_BUSY, Answer("ServerBusy", "Too many documents are waiting for conversion; try again "
                                                   "shortly", detail=False, remember=0)),
    engine.OfficeUnavailable: (_BUSY, Answer("ServerBusy", "The document converter is starting; try again shortly",
                                             detail=False, remember=0)),
    engine.CompareError: (Answer("ConversionFailed", "The documents could not be compared"),
                          Answer("ConversionFailed", "The documents could not be compared")),
    engine.CompareTimeout: (Answer("ConversionFailed", "The documents could not be compared", remember=10),
                            Answer("ConversionFailed", "The documents could not be compared", remember=10)),
    engine.CompareTooLarge: (_TOO_COMPLEX, _TOO_COMPLEX),
    engine.SandboxUnavailable: (Answer("FeatureDisabled", "The document engine cannot run isolated on this server",
                                      detail=False),
                               Answer("FeatureDisabled", "The document engine cannot run isolated on this server",
                                      detail=False)),
    engine.OcrFailed: (Answer("OcrFailed", "Text recognition failed on this page"),
                       Answer("OcrFailed", "Text recognition failed")),
    engine.OcrUnavailable: (Answer("FeatureDisabled", "Text recognition is not installed on this server",
                                   detail=False),
                            Answer("FeatureDisabled", "Text recognition is not installed on this server",
                                   detail=False)),
    engine.PoolError: (Answer("RenderFailed", "The page could not be rendered", remember=0),
                       Answer("ConversionFailed", "The document could not be converted", remember=0)),
    engine.WorkerCrashed: (Answer("RenderFailed", "The renderer stopped while working on this page", remember=0),
                           Answer("ConversionFailed", "The converter stopped while working on this document",
                                  remember=0)),
    engine.JobTimeout: (Answer("RenderTimeout", "Rendering this page took too long", remember=10),
                        Answer("ConversionFailed", "Converting the document took too long", remember=10)),
    engine.PoolBusy: (Answer("ServerBusy", "Too many pages are waiting to be rendered; try again shortly",
                             remember=0), _BUSY),
    engine.PoolClosed: (Answer("ServerBusy", "The renderer is restarting; try again shortly", remember=0),
                        _BUSY),
}


def answer_for(exc: engine.EngineError, stage: Stage) -> Answer:
    """The nearest class's answer (UnreadableDocument is both a ConversionFailed and a CorruptDocument)."""
    for cls in type(exc).__mro__:
        if cls in TABLE:
            render, convert = TABLE[cls]
            return render if stage == "render" else convert
    raise KeyError(type(exc))  # unreachable: EngineError itself is in the table


def remember_seconds(exc: BaseException) -> float:
    """How long a conversion failure stands for its document (see Answer.remember)."""
    if isinstance(exc, engine.EngineError):
        return answer_for(exc, "convert").remember
    if isinstance(exc, DomainError) and exc.error_code == "ServerBusy":
        return 0
    return Answer.remember  # the domain's own refusals (a password, a disabled feature) and the unexpected


def to_domain(exc: BaseException, stage: Stage) -> DomainError:
    """The domain error a client is told for an engine failure; unexpected exceptions are logged here."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, engine.PasswordRequired):
        return PasswordRequired()
    if isinstance(exc, engine.PageOutOfRange):
        return invalid("PageNumber", "a page number within the document", where="path")
    if isinstance(exc, ValueError) and stage == "render":  # the engine refused the request's parameters
        return InputError("InvalidInput", {"in": "query", "message": str(exc)})
    if not isinstance(exc, engine.EngineError):
        log.error("%s failed unexpectedly", stage, exc_info=exc)
        exc = engine.EngineError()
    answer = answer_for(exc, stage)
    message = f"{answer.message}: {exc.message}" if answer.detail and exc.message else answer.message
    return ServerError(answer.error_code, message, {"message": message})
