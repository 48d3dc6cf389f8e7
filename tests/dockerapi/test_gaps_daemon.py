"""Issue #6 audit gaps in the daemon itself, through the real docker CLI and docker-py: an exec's
terminal has its size before the command runs (``docker exec -it … stty size``), and a rootless
daemon told to use a group it is not in warns and serves on a 0660 socket of its own group."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import docker
import pytest

import support
from tests.dockerapi.daemonproc import DOCKYARD, Daemon

NOBODY = 65534


def _in_pty(argv: list[str], env: dict[str, str], rows: int, cols: int, timeout: float = 60) -> str:
    """Run *argv* on a new pty of *rows* x *cols* (as a user's terminal); all it printed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    try:
        out = support.read_until(master, None, timeout)  # until the command and its pty are gone
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    return out.decode(errors="replace")


@pytest.mark.parametrize("runtime", ["runc", "dockyard"])
def test_exec_tty_has_its_size_from_the_start(daemon: Daemon, runtime: str) -> None:
    daemon.docker("run", "-d", "--name", "x-tty", "--runtime", runtime, "busybox", "sleep", "300")
    try:
        # docker exec -it sends ConsoleSize (the CLI's terminal size) and then resizes
        out = _in_pty(["docker", "exec", "-it", "x-tty", "stty", "size"], daemon.env, 33, 101)
        assert "33 101" in out, out
        # docker-py: a resize before the exec starts is kept and applied when it does
        client = docker.DockerClient(base_url=f"unix://{daemon.sock}", version="auto")
        try:
            ex = client.api.exec_create("x-tty", ["stty", "size"], tty=True)
            client.api.exec_resize(ex["Id"], height=21, width=77)
            assert client.api.exec_start(ex["Id"], tty=True).decode().split() == ["21", "77"]
            # ConsoleSize in the create body (API ≥ 1.42), for clients that send it there
            ex = client.api._post_json(client.api._url("/containers/{0}/exec", "x-tty"),
                                      data={"Cmd": ["stty", "size"], "Tty": True, "AttachStdout": True,
                                            "ConsoleSize": [12, 34]}).json()
            assert client.api.exec_start(ex["Id"], tty=True).decode().split() == ["12", "34"]
        finally:
            client.close()
    finally:
        daemon.docker("rm", "-f", "x-tty", check=False)


def test_rootless_daemon_with_a_foreign_group_warns_and_keeps_its_own(tmp_path: Path) -> None:
    base = Path("/tmp") / f"dyg-{os.urandom(4).hex()}"  # short: a unix socket path is ≤ 108 bytes
    base.mkdir(mode=0o755)
    for d in ("root", "state"):
        (base / d).mkdir()
        os.chown(base / d, NOBODY, NOBODY)
    conf = base / "daemon.toml"  # pytest's tmp_path is not readable by nobody
    conf.write_text('[daemon]\ngroup = "root"\n')
    conf.chmod(0o644)
    sock, log = base / "state" / "d.sock", tmp_path / "daemon.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(base), "DOCKYARD_ROOT": str(base / "root"),
           "DOCKYARD_STATE": str(base / "state")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", DOCKYARD,
                                 "serve", "--socket", str(sock), "--config", str(conf)],
                                env=env, stdout=out, stderr=out, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        st = sock.stat()
        assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o660, NOBODY, NOBODY)
        assert sorted(p.name for p in (base / "state").iterdir() if p.name.startswith(".dy")) == []
        version = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                                 text=True, env={**os.environ, "DOCKER_HOST": f"unix://{sock}"}, timeout=30)
        assert version.returncode == 0 and version.stdout.strip(), version.stderr
        assert "cannot give it to group 'root'" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        subprocess.run(["rm", "-rf", str(base)], check=False)
    assert proc.returncode == 0, log.read_text()
