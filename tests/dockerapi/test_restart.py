"""The daemon killed with SIGKILL while containers run: after a restart nothing is lost."""

from __future__ import annotations

import signal
import subprocess
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


def _running(daemon: Daemon, name: str) -> bool:
    out = daemon.docker("inspect", "-f", "{{.State.Status}}", name, check=False).stdout.strip()
    return out == "running"


def test_sigterm_ends_streams_finishes_requests_and_exits_promptly(daemon: Daemon) -> None:
    # A grace far beyond the bounded wait below: only ending the streams at once lets the daemon
    # exit in time; waiting for them (they last as long as the containers) would not.
    daemon.kill(signal.SIGTERM)
    daemon.start("--shutdown-grace", "300")
    daemon.docker("run", "-d", "--name", "bg", "busybox", "sleep", "300")
    daemon.docker("run", "-d", "--name", "stubborn", "busybox", "sleep", "300")  # PID 1: ignores SIGTERM
    clients = [subprocess.Popen(["docker", *args], env=daemon.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
               for args in (["run", "--name", "fg", "busybox", "sleep", "300"], ["logs", "-f", "bg"], ["events"])]
    for _ in range(200):
        if _running(daemon, "fg"):
            break
        time.sleep(0.05)
    assert _running(daemon, "fg")
    stopping = subprocess.Popen(["docker", "stop", "-t", "2", "stubborn"], env=daemon.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # the stop is in flight: the daemon must finish it, not cut it
    daemon.proc.send_signal(signal.SIGTERM)
    try:
        daemon.proc.wait(60)
        for c in clients:
            c.wait(30)  # their streams were closed, not left hanging
        _out, err = stopping.communicate(timeout=30)
        assert stopping.returncode == 0, err
    finally:
        for c in [*clients, stopping]:
            if c.poll() is None:
                c.kill()
                c.wait()
        daemon.kill(signal.SIGKILL)
        daemon.extra = ()
        daemon.start()
    assert _running(daemon, "bg") and _running(daemon, "fg")
    assert daemon.docker("inspect", "-f", "{{.State.Status}}", "stubborn").stdout.strip() == "exited"
    daemon.docker("rm", "-f", "bg", "fg", "stubborn")
