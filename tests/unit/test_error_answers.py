"""The one table from engine errors to the answers clients get. Every engine error class has its own row, so
renaming or adding a class without deciding its answer fails here instead of changing an HTTP status."""
from __future__ import annotations

import pytest

from pageturn.core import engine_errors
from pageturn.core.errors import InputError, PasswordRequired, ServerError
from pageturn.engines import errors as engine

SPECIAL = {engine.PasswordRequired, engine.PageOutOfRange}  # answered with 480s, not from the table


@pytest.mark.parametrize("cls", engine.all_errors(), ids=lambda cls: cls.__name__)
def test_every_engine_error_has_its_own_row(cls):
    assert cls in engine_errors.TABLE or cls in SPECIAL, f"{cls.__name__} has no answer in core.engine_errors"


@pytest.mark.parametrize("exc,stage,code", [
    (engine.JobTimeout("slow"), "render", "RenderTimeout"),
    (engine.WorkerCrashed("gone"), "render", "RenderFailed"),
    (engine.CorruptDocument("bad"), "render", "InvalidDocument"),
    (engine.ImageTooLarge("big"), "render", "ImageTooLarge"),
    (engine.PoolBusy("full"), "render", "ServerBusy"),
    (engine.MemoryLimitExceeded("huge"), "render", "DocumentTooComplex"),
    (engine.MemoryLimitExceeded("huge"), "convert", "DocumentTooComplex"),
    (engine.UnreadableDocument("bad"), "convert", "ConversionFailed"),
    (engine.ConversionTimeout("slow"), "convert", "ConversionFailed"),
    (engine.QueueFull("full"), "convert", "ServerBusy"),
    (engine.OfficeUnavailable("starting"), "convert", "ServerBusy"),
])
def test_engine_failures_become_580s_with_their_code(exc, stage, code):
    error = engine_errors.to_domain(exc, stage)
    assert isinstance(error, ServerError) and error.status == 580 and error.error_code == code
    assert error.details["message"]


def test_password_and_page_range_become_480s():
    assert isinstance(engine_errors.to_domain(engine.PasswordRequired(), "render"), PasswordRequired)
    assert isinstance(engine_errors.to_domain(engine.PasswordRequired(), "convert"), PasswordRequired)
    error = engine_errors.to_domain(engine.PageOutOfRange(), "render")
    assert isinstance(error, InputError) and error.details["at"] == "PageNumber"


def test_the_engines_words_reach_the_client_where_they_help():
    error = engine_errors.to_domain(engine.ConversionTimeout("LibreOffice took longer than 1 s"), "convert")
    assert "longer than 1 s" in error.details["message"]


def test_an_unexpected_exception_is_a_plain_failure():
    error = engine_errors.to_domain(KeyError("internal detail"), "convert")
    assert error.error_code == "ConversionFailed" and "internal detail" not in error.details["message"]


def test_failures_of_the_moment_are_not_remembered_and_document_failures_are_for_a_while():
    assert engine_errors.remember_seconds(engine.WorkerCrashed()) == 0
    assert engine_errors.remember_seconds(engine.QueueFull()) == 0
    assert engine_errors.remember_seconds(engine.PoolBusy()) == 0
    assert 0 < engine_errors.remember_seconds(engine.ConversionTimeout()) < \
        engine_errors.remember_seconds(engine.UnreadableDocument())
    assert engine_errors.remember_seconds(engine.UnreadableDocument()) <= 120
