"""Shared fixtures: every test gets its own data root, state dir and names.

Tests without a tier marker are ``unit`` tests.  ``privileged`` tests need root and kernel
features; ``e2e`` tests drive real peers (skopeo, umoci, runc, crun, kubectl …), which ``make test``
installs.  A test that finds a peer missing fails rather than skips: CI installs them all, so a
missing peer is a broken set-up, not a reason to pass.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TIERS = {"unit", "privileged", "e2e"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not TIERS & {m.name for m in item.iter_markers()}:
            item.add_marker(pytest.mark.unit)
        if "privileged" in {m.name for m in item.iter_markers()} and os.geteuid() != 0:
            item.add_marker(pytest.mark.skip(reason="needs root"))


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data root, also exported as DOCKYARD_ROOT for code and subprocesses."""
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setenv("DOCKYARD_ROOT", str(root))
    return root


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Kept short: unix socket paths are limited to 108 bytes.
    state = Path("/tmp") / f"dy-{uuid.uuid4().hex[:10]}"
    state.mkdir(mode=0o711)
    monkeypatch.setenv("DOCKYARD_STATE", str(state))
    yield state
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def venv_bin() -> Iterator[Path]:
    import sys

    yield Path(sys.executable).parent
