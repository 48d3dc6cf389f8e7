"""Lazy loggers and secret masking (dockyard.base.log)."""

from __future__ import annotations

import copy
import io
import pickle

import pytest

from dockyard.base import log


def test_lazy_logger_survives_copy_and_pickle() -> None:
    lazy = log._LazyLogger("dockyard.test.lazy")
    for clone in (copy.copy(lazy), copy.deepcopy(lazy), pickle.loads(pickle.dumps(lazy))):
        assert clone.name == "dockyard.test.lazy"  # a working logger, not a RecursionError
    with pytest.raises(AttributeError):
        _ = object.__new__(log._LazyLogger)._logger  # unset slot: an error, not recursion


def test_secrets_are_masked_in_log_lines() -> None:
    import logging

    root = logging.getLogger("dockyard")
    saved = (root.handlers[:], root.level, root.propagate)
    stream = io.StringIO()
    try:
        log.setup("INFO", stream=stream)
        log.register_secret("hunter2-secret")
        log.get("test.mask").info("token is %s", "hunter2-secret")
    finally:
        root.handlers[:], root.level, root.propagate = saved[0], saved[1], saved[2]
    assert "hunter2-secret" not in stream.getvalue()
    assert "token is ***" in stream.getvalue()
