"""testcontainers-python starting a container and waiting for its log line."""

from __future__ import annotations

import pytest

from tests.dockerapi.daemonproc import Daemon


def test_testcontainers_waits_for_log_line(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    monkeypatch.setenv("DOCKER_HOST", f"unix://{daemon.sock}")
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")  # no reaper image offline
    container = (DockerContainer("busybox").with_command(["sh", "-c", "echo ready; sleep 300"])
                 .waiting_for(LogMessageWaitStrategy("ready").with_startup_timeout(30)))
    with container:
        assert b"ready" in container.get_logs()[0]
        code, out = container.exec(["echo", "inside"])
        assert (code, out) == (0, b"inside\n")
    assert daemon.docker("ps", "-q").stdout == ""
