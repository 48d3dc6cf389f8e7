"""Logging set-up, with secrets masked wherever a log line is written.

Values registered with :func:`register_secret` are replaced by ``***`` in every record, so a
secret that reaches a message, an argument or an exception text never lands in a log file.
"""

from __future__ import annotations

import logging
import sys
import threading

_secrets: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str) -> None:
    if len(value) >= 4:  # masking very short strings would garble ordinary text
        with _lock:
            _secrets.add(value)


def mask(text: str) -> str:
    for value in _secrets:
        if value in text:
            text = text.replace(value, "***")
    return text


class SecretMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets:
            record.msg = mask(record.getMessage())
            record.args = None
        return True


def setup(level: str | int = "WARNING", *, stream=None, fmt: str = "%(levelname)s %(name)s: %(message)s") -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger("dockyard")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def get(name: str) -> logging.Logger:
    return logging.getLogger(name if name.startswith("dockyard") else f"dockyard.{name}")
