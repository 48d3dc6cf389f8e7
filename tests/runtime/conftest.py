"""Fixtures for the runtime tests: a busybox rootfs, bundles, a runtime root, and a sweep.

The rootfs is built once per worker from the host's static /bin/busybox (a copy plus one
symlink per applet); each test gets its own bundle dir whose config.json points at it.  The
``runtime`` fixture runs ``dockyard-runc --root <own dir>`` and, after the test, checks that
nothing is left: no state dirs, no cgroups named after the test's containers, no mounts under the
bundle, no processes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.runc_fixtures import BUSYBOX, Runtime, build_rootfs, leftovers, ours_argv


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not os.path.exists(BUSYBOX):
        pytest.fail("/bin/busybox is missing; run `make deps` (busybox-static)")
    return build_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@pytest.fixture
def runtime(tmp_path: Path, rootfs: Path, state_dir: Path) -> Iterator[Runtime]:
    rt = Runtime(ours_argv(), state_dir / "runc", tmp_path, rootfs)
    yield rt
    for cid in rt.ids:
        rt("delete", "--force", cid)
    assert leftovers(rt) == []
