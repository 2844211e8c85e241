"""Engine and pool errors: one module, a unique code each, and they cross the worker pipe as themselves."""
from __future__ import annotations

import io
import pickle
import subprocess

import pytest

from pageturn.engines import errors
from pageturn.workers import worker as worker_module
from pageturn.workers.pool import _load_result


def test_every_error_has_its_own_code():
    classes = errors.all_errors()
    assert len(classes) >= 19
    codes = [cls.code for cls in classes]
    assert all(isinstance(code, str) and code for code in codes)
    assert len(set(codes)) == len(codes), "two error classes share a code"
    for cls in classes:
        assert "code" in vars(cls), f"{cls.__name__} inherits its code instead of declaring one"


def test_memory_limit_code():
    assert errors.MemoryLimitExceeded.code == "DocumentTooComplex"
    assert issubclass(errors.MemoryLimitExceeded, errors.EngineError)


@pytest.mark.parametrize("cls", errors.all_errors(), ids=lambda cls: cls.__name__)
def test_each_error_crosses_the_worker_pipe_as_itself(cls):
    sent = worker_module._sendable(cls("why"))
    out = io.BytesIO()
    worker_module.write_frame(out, (1, False, sent))
    job_id, ok, received = _load_result(out.getvalue()[worker_module.HEADER.size:])
    assert type(received) is cls and received.message == "why" and received.code == cls.code


def test_a_foreign_exception_class_is_not_unpickled():
    with pytest.raises(pickle.UnpicklingError):
        _load_result(pickle.dumps((1, False, subprocess.CalledProcessError(1, "x"))))
