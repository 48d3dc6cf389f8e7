"""`docker push` and `docker pull` through the daemon, to the registry the daemon also serves."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dockerapi.daemonproc import Daemon


@pytest.fixture
def daemon_with_registry(tmp_path: Path) -> Iterator[tuple[Daemon, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = Daemon(tmp_path)
    d.bootstrap()
    d.start("--registry", f"127.0.0.1:{port}")
    yield d, port
    d.cleanup()


def test_push_then_pull_through_the_embedded_registry(daemon_with_registry: tuple[Daemon, int]) -> None:
    daemon, port = daemon_with_registry
    ref = f"127.0.0.1:{port}/team/bb:1"
    daemon.docker("tag", "busybox", ref)
    pushed = daemon.docker("push", ref).stdout
    assert "digest: sha256:" in pushed
    daemon.docker("rmi", ref)
    assert ref not in daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    daemon.docker("pull", ref)
    assert daemon.docker("run", "--rm", ref, "echo", "pulled").stdout == "pulled\n"
    r = daemon.docker("pull", f"127.0.0.1:{port}/team/missing:1", check=False)
    assert r.returncode != 0 and r.stderr
