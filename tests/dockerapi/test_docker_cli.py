"""The real docker CLI (28.x) against ``dockyard serve`` through DOCKER_HOST=unix://…."""

from __future__ import annotations

import json
import os
import pty
import time
import urllib.request
from pathlib import Path

import support
from tests.dockerapi.daemonproc import Daemon


def test_version_names_our_server(daemon: Daemon) -> None:
    out = daemon.docker("version", "--format", "{{json .Server}}").stdout
    server = json.loads(out)
    assert server["ApiVersion"] and server["Platform"]["Name"] == "dockyard"


def test_run_rm_prints_output_and_exit_code(daemon: Daemon) -> None:
    assert daemon.docker("run", "--rm", "busybox", "echo", "hi").stdout == "hi\n"
    r = daemon.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    assert daemon.docker("ps", "-aq").stdout == ""  # --rm removed them


def test_detached_httpd_answers_and_logs_follow(daemon: Daemon, free_port: int) -> None:
    cid = daemon.docker("run", "-d", "--name", "web", "--network", "host", "busybox",
                        "httpd", "-f", "-p", f"127.0.0.1:{free_port}", "-h", "/etc").stdout.strip()
    try:
        body = _get(f"http://127.0.0.1:{free_port}/hostname")
        assert body  # served from the container's /etc
        ps = daemon.docker("ps", "--format", "{{.Names}} {{.State}}").stdout
        assert "web running" in ps
        doc = json.loads(daemon.docker("inspect", "web").stdout)[0]
        assert doc["Id"] == cid and doc["State"]["Running"] and doc["HostConfig"]["NetworkMode"] == "host"
    finally:
        daemon.docker("rm", "-f", "web")
    assert "web" not in daemon.docker("ps", "-a").stdout
    daemon.docker("run", "-d", "--name", "lg", "busybox", "sh", "-c", "for i in 1 2 3; do echo l$i; sleep 0.2; done")
    assert daemon.docker("logs", "-f", "lg").stdout == "l1\nl2\nl3\n"
    daemon.docker("rm", "lg")


def _get(url: str) -> bytes:
    for _ in range(50):
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url}: no answer")


def test_exec_of_what_cannot_run_exits_as_docker_does(daemon: Daemon) -> None:
    daemon.docker("run", "-d", "--name", "execfail", "busybox", "sleep", "300")
    try:
        for tty in ([], ["-t"]):
            missing = daemon.docker("exec", *tty, "execfail", "nosuchcmd", check=False)
            assert missing.returncode == 127, missing
            assert daemon.docker("exec", *tty, "execfail", "/no/such/file", check=False).returncode == 127
            not_executable = daemon.docker("exec", *tty, "execfail", "/etc/passwd", check=False)
            assert not_executable.returncode == 126, not_executable
        assert daemon.docker("exec", "execfail", "sh", "-c", "exit 3", check=False).returncode == 3
    finally:
        daemon.docker("rm", "-f", "execfail")


def test_exec_and_cp_both_ways(daemon: Daemon, tmp_path: Path) -> None:
    daemon.docker("run", "-d", "--name", "box", "busybox", "sleep", "300")
    try:
        assert daemon.docker("exec", "box", "echo", "in-exec").stdout == "in-exec\n"
        assert daemon.docker("exec", "box", "sh", "-c", "exit 7", check=False).returncode == 7
        (tmp_path / "in.txt").write_text("hello cp\n")
        daemon.docker("cp", str(tmp_path / "in.txt"), "box:/tmp/")
        assert daemon.docker("exec", "box", "cat", "/tmp/in.txt").stdout == "hello cp\n"
        daemon.docker("cp", "box:/tmp/in.txt", str(tmp_path / "out.txt"))
        assert (tmp_path / "out.txt").read_text() == "hello cp\n"
        top = daemon.docker("top", "box").stdout
        assert "sleep 300" in top
    finally:
        daemon.docker("rm", "-f", "box")


def test_run_interactive_tty_through_a_pty(daemon: Daemon) -> None:
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("docker", ["docker", "run", "--rm", "-it", "busybox", "sh"], daemon.env)
    out = support.read_until(fd, b"# ")
    os.write(fd, b"echo $((6*7))\r")
    out += support.read_until(fd, b"42")
    os.write(fd, b"exit 5\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert b"42" in out
    assert os.waitstatus_to_exitcode(status) == 5


def test_build_then_run_images_and_inspect(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM busybox\nRUN echo built > /b.txt\nCMD ["cat", "/b.txt"]\n')
    r = daemon.docker("build", "-t", "cli-built", str(tmp_path), timeout=120)
    assert "Successfully tagged cli-built:latest" in r.stdout
    assert daemon.docker("run", "--rm", "cli-built").stdout == "built\n"
    assert "cli-built" in daemon.docker("images", "--format", "{{.Repository}}").stdout
    doc = json.loads(daemon.docker("image", "inspect", "cli-built").stdout)[0]
    assert doc["Config"]["Cmd"] == ["cat", "/b.txt"]
    daemon.docker("rmi", "cli-built")
    assert "cli-built" not in daemon.docker("images").stdout


def test_bad_input_gives_docker_errors_and_creates_nothing(daemon: Daemon) -> None:
    before = daemon.docker("ps", "-aq").stdout
    r = daemon.docker("run", "--rm", "-v", "/does/not/exist:/x", "busybox", "true", check=False)
    assert r.returncode == 125 and "bind source path does not exist" in r.stderr
    r = daemon.docker("run", "--privileged", "busybox", "true", check=False)
    assert r.returncode == 125 and "Privileged" in r.stderr
    r = daemon.docker("inspect", "no-such-thing", check=False)
    assert r.returncode == 1 and "No such" in r.stderr
    r = daemon.docker("run", "--name", "dup", "-d", "busybox", "sleep", "60")
    r = daemon.docker("run", "--name", "dup", "busybox", "true", check=False)
    assert r.returncode == 125 and "already in use" in r.stderr
    daemon.docker("rm", "-f", "dup")
    assert daemon.docker("ps", "-aq").stdout == before


def test_volumes_named_and_listed(daemon: Daemon) -> None:
    daemon.docker("volume", "create", "data1")
    daemon.docker("run", "--rm", "-v", "data1:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert daemon.docker("run", "--rm", "-v", "data1:/data", "busybox", "cat", "/data/f").stdout == "kept\n"
    assert "data1" in daemon.docker("volume", "ls", "-q").stdout
    daemon.docker("volume", "rm", "data1")
    assert "data1" not in daemon.docker("volume", "ls", "-q").stdout


def test_published_port_and_name_resolution_on_a_user_network(daemon: Daemon, free_port: int) -> None:
    daemon.docker("run", "-d", "--name", "pub", "-p", f"127.0.0.1:{free_port}:80", "busybox",
                  "httpd", "-f", "-p", "80", "-h", "/etc")
    try:
        assert _get(f"http://127.0.0.1:{free_port}/hostname")
        doc = json.loads(daemon.docker("inspect", "pub").stdout)[0]
        assert doc["NetworkSettings"]["IPAddress"]
        assert doc["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"] == str(free_port)
        daemon.docker("network", "create", "appnet")
        assert "appnet" in daemon.docker("network", "ls", "--format", "{{.Name}}").stdout
        daemon.docker("run", "-d", "--name", "srv1", "--network", "appnet", "busybox", "httpd", "-f", "-p", "80",
                      "-h", "/etc")
        ip = daemon.docker("inspect", "-f", "{{.NetworkSettings.Networks.appnet.IPAddress}}", "srv1").stdout.strip()
        # busybox's own resolver (static busybox's wget cannot use glibc's NSS)
        out = daemon.docker("run", "--rm", "--network", "appnet", "busybox", "nslookup", "srv1").stdout
        assert ip and ip in out
    finally:
        daemon.docker("rm", "-f", "pub", "srv1", check=False)
        daemon.docker("network", "rm", "appnet", check=False)
