"""Issue #6 audit gaps on the container side: ``docker run -it`` sized from the first byte
(``HostConfig.ConsoleSize``), a resize sent while a container is not running kept for its start,
and ``docker ps``'s networks, resolved ports and filters — through the docker CLI and docker-py."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import termios
import time

import docker
import pytest

from tests.dockerapi.daemonproc import Daemon

ROWS, COLS = 37, 113


@pytest.fixture
def client(daemon: Daemon):
    c = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto", timeout=60)
    yield c
    c.close()


def _through_pty(daemon: Daemon, *args: str) -> bytes:
    """Run ``docker ARGS`` on a terminal of ROWS rows and COLS columns; everything it printed."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execvpe("docker", ["docker", *args], daemon.env)
        finally:
            os._exit(127)
    out, end = b"", time.monotonic() + 30
    while time.monotonic() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    if time.monotonic() >= end:
        os.kill(pid, 9)  # hung: fail on its status below rather than wait forever
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out


def test_run_and_exec_it_see_the_terminal_size_at_once(daemon: Daemon) -> None:
    out = _through_pty(daemon, "run", "--rm", "-it", "busybox", "stty", "size")
    assert out.split() == [str(ROWS).encode(), str(COLS).encode()]
    out = _through_pty(daemon, "run", "--rm", "-t", "busybox", "stty", "size")  # no stdin: same size
    assert out.split() == [str(ROWS).encode(), str(COLS).encode()]
    daemon.docker("run", "-d", "-t", "--name", "gapexec", "busybox", "sleep", "300")
    try:
        out = _through_pty(daemon, "exec", "-it", "gapexec", "stty", "size")
        assert out.split() == [str(ROWS).encode(), str(COLS).encode()]
    finally:
        daemon.docker("rm", "-f", "gapexec")


def test_a_resize_before_the_process_runs_is_kept_for_its_start(client) -> None:
    api = client.api
    cid = api.create_container("busybox", ["stty", "size"], tty=True, name="gapsize")["Id"]
    try:
        api.resize(cid, height=21, width=77)  # created, not started
        api.start(cid)
        assert api.wait(cid)["StatusCode"] == 0
        assert api.logs(cid).split() == [b"21", b"77"]
        api.resize(cid, height=19, width=66)  # exited: its next start gets it
        api.start(cid)
        assert api.wait(cid)["StatusCode"] == 0
        assert api.logs(cid).split()[-2:] == [b"19", b"66"]
    finally:
        api.remove_container(cid, force=True)


def _names(daemon: Daemon, *args: str) -> set[str]:
    return set(daemon.docker("ps", *args, "--format", "{{.Names}}").stdout.split())


def test_ps_shows_networks_and_resolved_ports_and_filters_as_docker(daemon: Daemon, client) -> None:
    daemon.docker("network", "create", "gapnet")
    daemon.docker("run", "-d", "--name", "gapweb", "-p", "127.0.0.1::80", "--expose", "81", "busybox",
                  "sleep", "300")
    daemon.docker("run", "-d", "--name", "gapuser", "--network", "gapnet", "--network-alias", "svc",
                  "busybox", "sleep", "300")
    daemon.docker("run", "--name", "gapexit", "busybox", "sh", "-c", "exit 3", check=False)
    try:
        doc = client.api.inspect_container("gapweb")
        row = client.api.containers(filters={"name": "gapweb"})[0]
        bridge = row["NetworkSettings"]["Networks"]["bridge"]
        settings = doc["NetworkSettings"]
        assert bridge["Gateway"] == settings["Gateway"] and bridge["Gateway"]
        assert bridge["IPAddress"] == settings["IPAddress"] and bridge["IPPrefixLen"] > 0
        assert bridge["NetworkID"] == json.loads(daemon.docker("network", "inspect", "bridge").stdout)[0]["Id"]
        assert bridge["MacAddress"] == settings["Networks"]["bridge"]["MacAddress"] != ""
        assert bridge["EndpointID"]
        host_port = int(settings["Ports"]["80/tcp"][0]["HostPort"])
        assert host_port > 0
        assert {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": host_port, "Type": "tcp"} in row["Ports"]
        assert {"PrivatePort": 81, "Type": "tcp"} in row["Ports"]
        user = client.api.containers(filters={"name": "gapuser"})[0]["NetworkSettings"]["Networks"]
        assert list(user) == ["gapnet"] and "svc" in user["gapnet"]["Aliases"]
        assert daemon.docker("ps", "--filter", "name=gapweb", "--format", "{{.Ports}}").stdout.strip() == \
            f"81/tcp, 127.0.0.1:{host_port}->80/tcp"

        assert _names(daemon, "--filter", "network=gapnet") == {"gapuser"}
        assert _names(daemon, "--filter", "network=bridge") == {"gapweb"}
        assert _names(daemon, "--filter", f"publish={host_port}") == {"gapweb"}
        assert _names(daemon, "--filter", "expose=80-81/tcp") == {"gapweb"}
        assert _names(daemon, "--filter", "expose=80/udp") == set()
        assert _names(daemon, "-a", "--filter", "exited=3") == {"gapexit"}
        assert _names(daemon, "-a", "--filter", "exited=0") == set()
        assert _names(daemon, "-a", "--filter", "before=gapuser") == {"gapweb"}
        assert _names(daemon, "-a", "--filter", "since=gapweb") == {"gapuser", "gapexit"}
        assert _names(daemon, "-a", "--filter", "ancestor=busybox") >= {"gapweb", "gapuser", "gapexit"}
        assert _names(daemon, "-a", "--filter", "ancestor=nosuchimage") == set()
        for bad in ("volume=data", "health=healthy", "is-task=true", "bogus=1"):
            res = daemon.docker("ps", "--filter", bad, check=False)
            assert res.returncode != 0 and f"invalid filter '{bad.partition('=')[0]}'" in res.stderr
    finally:
        daemon.docker("rm", "-f", "gapweb", "gapuser", "gapexit", check=False)
        daemon.docker("network", "rm", "gapnet", check=False)
