"""One daemon per test module: starting it and bootstrapping busybox costs ~1 s, tests share it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dockerapi.daemonproc import Daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("dockerapi"))
    d.bootstrap()
    d.start()
    yield d
    d.cleanup()


@pytest.fixture
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).name != "test_units.py":
            item.add_marker(pytest.mark.privileged)
            item.add_marker(pytest.mark.e2e)
