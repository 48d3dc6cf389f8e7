"""The daemon killed with SIGKILL while containers run: after a restart nothing is lost."""

from __future__ import annotations

import signal
import time
import urllib.request

from tests.dockerapi.daemonproc import Daemon


def test_sigkill_then_restart_keeps_containers_ports_and_logs(daemon: Daemon, free_port: int) -> None:
    daemon.docker("run", "-d", "--name", "srv", "-p", f"127.0.0.1:{free_port}:80", "busybox",
                  "httpd", "-f", "-p", "80", "-h", "/etc")
    daemon.docker("run", "-d", "--name", "talker", "busybox", "sh", "-c",
                  "for i in 1 2 3 4 5; do echo n$i; sleep 0.3; done")
    daemon.kill(signal.SIGKILL)
    time.sleep(1.0)  # talker keeps writing while no daemon runs
    daemon.start()
    names = daemon.docker("ps", "--format", "{{.Names}}").stdout.split()
    assert "srv" in names
    with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/hostname", timeout=5) as resp:
        assert resp.status == 200
    assert daemon.docker("wait", "talker").stdout.strip() == "0"
    assert daemon.docker("logs", "talker").stdout == "".join(f"n{i}\n" for i in range(1, 6))
    daemon.docker("rm", "-f", "srv", "talker")


def test_sigterm_leaves_containers_running(daemon: Daemon) -> None:
    daemon.docker("run", "-d", "--name", "stay", "busybox", "sleep", "300")
    daemon.kill(signal.SIGTERM)
    daemon.start()
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "stay").stdout.strip() == "running"
    daemon.docker("rm", "-f", "stay")
