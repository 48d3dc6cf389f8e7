"""The daemon boots a shim ahead of the next create once a container is done, and lets it go
when it stops."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.dockerapi.daemonproc import Daemon


def _shim_dirs(daemon: Daemon) -> set[str]:
    shims = daemon.state / "shims"
    return {p.name for p in shims.iterdir()} if shims.exists() else set()


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_create_takes_the_spare_shim_and_a_stopped_daemon_leaves_none(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    try:
        daemon.bootstrap()
        daemon.start()
        assert daemon.docker("run", "--rm", "--network", "none", "busybox", "true").returncode == 0
        # once that container is gone, a shim is started for the next create
        assert _eventually(lambda: len(_shim_dirs(daemon)) == 1)
        spare = _shim_dirs(daemon)
        cid = daemon.docker("create", "--network", "none", "busybox", "sh", "-c", "exit 3").stdout.strip()
        assert cid[:24] in spare  # the container's pod is that shim
        assert daemon.docker("start", "-a", cid, check=False).returncode == 3
        daemon.docker("rm", cid)
        assert _eventually(lambda: len(_shim_dirs(daemon)) == 1)  # the next spare, after its exit
        daemon.kill(signal.SIGTERM)
        assert _eventually(lambda: _shim_dirs(daemon) == set())
    finally:
        daemon.cleanup()
