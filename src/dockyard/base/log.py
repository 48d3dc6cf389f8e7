"""Logging set-up, with secrets masked wherever a log line is written.

Values registered with :func:`register_secret` are replaced by ``***`` in every record, so a
secret that reaches a message, an argument or an exception text never lands in a log file.

``import logging`` costs ~4 ms (traceback, linecache, tokenize, textwrap…), a noticeable share of
``dockyard run``; so :func:`get` hands out loggers that import it on first use, and
:func:`setup_deferred` (the ``run`` fast path) configures logging only once something logs.
"""

from __future__ import annotations

import _thread
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

_secrets: set[str] = set()
_lock = _thread.allocate_lock()  # threading's Lock, without importing threading (~1 ms)


def register_secret(value: str) -> None:
    if len(value) >= 4:  # masking very short strings would garble ordinary text
        with _lock:
            _secrets.add(value)


def mask(text: str) -> str:
    for value in _secrets:
        if value in text:
            text = text.replace(value, "***")
    return text


_pending: tuple | None = None  # setup_deferred's arguments, until logging is first used


class SecretMaskingFilter:
    """A logging filter (any object with ``filter(record)`` is one); masks registered secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = mask(record.getMessage())
            record.args = None
        return True


def setup(level: str | int = "WARNING", *, stream=None, fmt: str = "%(levelname)s %(name)s: %(message)s") -> None:
    global _pending
    _pending = None
    import logging

    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger("dockyard")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def setup_deferred(level: str | int = "WARNING") -> None:
    """:func:`setup` (to stderr), done when a logger from :func:`get` is first used."""
    global _pending
    if "logging" in sys.modules:
        setup(level)
    else:
        _pending = (level,)


def _logging():
    import logging

    if _pending is not None:
        setup(*_pending)
    return logging


def get(name: str) -> logging.Logger:
    name = name if name.startswith("dockyard") else f"dockyard.{name}"
    if "logging" in sys.modules and _pending is None:
        return sys.modules["logging"].getLogger(name)
    return _LazyLogger(name)  # type: ignore[return-value]


class _LazyLogger:
    """Stands in for ``logging.getLogger(name)``; imports logging at its first use."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger = None

    def __getattr__(self, attr: str):
        # Private names are never the logger's API; answering them would recurse forever on a
        # copy or unpickled instance, whose slots are unset.
        if attr.startswith("_"):
            raise AttributeError(attr)
        logger = self._logger
        if logger is None:
            logger = self._logger = _logging().getLogger(self._name)
        return getattr(logger, attr)
