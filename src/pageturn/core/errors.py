"""Domain errors. The API layer turns each into the protocol's own error shape; nothing here knows HTTP
beyond the status numbers the PrizmDoc contract fixes."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An error a client caused or must be told about."""

    status = 500
    error_code: str | None = None

    def __init__(self, message: str = "", *, details: Any = None, error_code: str | None = None,
                 status: int | None = None):
        super().__init__(message or self.__class__.__name__)
        self.message = message
        self.details = details
        if error_code is not None:
            self.error_code = error_code
        if status is not None:
            self.status = status


class InputError(DomainError):
    """480 with errorCode/errorDetails: the request's input is wrong."""

    status = 480

    def __init__(self, error_code: str, details: Any = None, message: str = ""):
        super().__init__(message or error_code, details=details, error_code=error_code)


def missing(at: str, where: str = "body") -> InputError:
    return InputError("MissingInput", {"in": where, "at": at})


def invalid(at: str, expected: str, where: str = "body", received: Any = None) -> InputError:
    details: dict[str, Any] = {"in": where, "at": at, "expected": expected}
    if received is not None:
        details["received"] = received if isinstance(received, (str, int, float, bool)) else type(received).__name__
    return InputError("InvalidInput", details)


def input_object(body: Any, expected: str, received: Any = None) -> dict[str, Any]:
    """The `input` object of a process request ({"input": {...}}), or the 480 naming what is wrong with the body
    (`expected` describes the whole body)."""
    if not isinstance(body, dict):
        raise invalid("", expected, received=received)
    data = body.get("input")
    if data is None:
        raise missing("input")
    if not isinstance(data, dict):
        raise invalid("input", "an object", received=data)
    return data


class ServerError(DomainError):
    """580 with an errorCode: we could not do what was asked."""

    status = 580

    def __init__(self, error_code: str, message: str = "", details: Any = None):
        super().__init__(message or error_code, details=details, error_code=error_code)


class StatusOnlyError(DomainError):
    """An error told only by status, reason phrase and Accusoft-Status-* headers (no JSON body)."""

    def __init__(self, status: int, message: str, status_number: int | None = None):
        super().__init__(message, status=status)
        self.status_number = status_number if status_number is not None else status


class UnrecognizedFormat(StatusOnlyError):
    def __init__(self) -> None:
        super().__init__(580, "Unrecognized File Format")


class PasswordRequired(StatusOnlyError):
    def __init__(self) -> None:
        super().__init__(480, "Document requires a password", status_number=4001)


class SessionNotFound(DomainError):
    """Unknown or malformed id: 500 on the V1 URLs (documented), 404 on the v2 URLs and DELETE."""

    status = 500


class SessionGone(StatusOnlyError):
    """Expired, deleted, stopped or errored: the session's own status and reason phrase."""

    def __init__(self, status: int = 403, message: str = "The session is invalid or has expired") -> None:
        super().__init__(status, message)


class TooLarge(DomainError):
    status = 413


class NotFound(DomainError):
    status = 404
