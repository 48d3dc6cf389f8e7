"""Helpers tests import by name (``from support import require_tool``).

They live here rather than in conftest.py because ``conftest`` is not a unique module name: every
test folder may have one, and ``from conftest import …`` picks whichever was imported first.
"""

from __future__ import annotations

import shutil

import pytest


def require_tool(name: str) -> str:
    """Path of a real peer; fails (never skips) when it is missing — CI installs them all."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run `make deps` (CI installs it)")
    return path
