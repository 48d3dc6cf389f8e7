"""Helpers tests import by name (``from support import require_tool``).

They live here rather than in conftest.py because ``conftest`` is not a unique module name: every
test folder may have one, and ``from conftest import …`` picks whichever was imported first.
"""

from __future__ import annotations

import os
import select
import shutil
import time

import pytest


def require_tool(name: str) -> str:
    """Path of a real peer; fails (never skips) when it is missing — CI installs them all."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run `make deps` (CI installs it)")
    return path


def read_until(fd: int, marker: bytes | None, timeout: float = 15) -> bytes:
    """What a pty master (or pipe) gives until *marker* shows up (None: never), EOF/EIO (the
    other side is gone), or *timeout* seconds."""
    out = b""
    deadline = time.monotonic() + timeout
    while (marker is None or marker not in out) and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the last holder of the slave is gone
                break
            if not chunk:
                break
            out += chunk
    return out
