"""The CLI with a daemon and without: the same command lines, the same output and exit codes.

A real ``dockyard serve`` listens on its state dir's default socket (so discovery finds it with no
configuration); every scenario runs twice, once through it and once with ``DOCKYARD_HOST=local``,
and the two transcripts must match once ids, names and ages are normalised.  Containers made in
one mode are seen and driven from the other: both share the data root.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import support
from tests.dockerapi.daemonproc import DOCKYARD, Daemon

pytestmark = [pytest.mark.privileged, pytest.mark.e2e]

Yard = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("remote"))
    d.sock = d.state / "dockyard.sock"  # the default socket: found without DOCKYARD_HOST
    os.environ.pop("DOCKYARD_HOST", None)
    d.bootstrap()
    d.start()
    yield d
    d.cleanup()


def _yard(d: Daemon, **extra: str) -> Yard:
    env = {**d.env, "DOCKYARD_RUNTIME": "runc", "DOCKYARD_NETWORK": "none", **extra}
    env.pop("DOCKER_HOST", None)
    if not extra.get("DOCKYARD_HOST"):
        env.pop("DOCKYARD_HOST", None)

    def yard(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([DOCKYARD, *args], env=env, capture_output=True, text=True, timeout=60, input=input)

    return yard


@pytest.fixture(scope="module")
def remote(daemon: Daemon) -> Yard:
    return _yard(daemon)


@pytest.fixture(scope="module")
def local(daemon: Daemon) -> Yard:
    return _yard(daemon, DOCKYARD_HOST="local")


def _norm(text: str, prefix: str) -> str:
    text = text.replace(prefix, "P")
    text = re.sub(r"\b[0-9a-f]{64}\b", "<id>", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "<short>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>", text)
    text = re.sub(r"(Less than a second|\d+ seconds?|About a minute|\d+ minutes?)", "<ago>", text)
    return re.sub(r" +", " ", text)


def _transcript(yard: Yard, tmp: Path) -> list[tuple[str, int, str, str]]:
    """The most used verbs, as a user types them; each step's (command, code, stdout, stderr)."""
    prefix = f"r{uuid.uuid4().hex[:8]}"
    host = tmp / prefix
    host.mkdir()
    (host / "f").write_text("from the host\n")
    steps = [
        ("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 7"),
        ("run", "--rm", "-e", "X=1", "-e", "HOME", "-w", "/tmp", "-u", "1000:1000", "busybox",
         "sh", "-c", 'echo "$X $HOME"; pwd; id -u'),
        ("run", "--rm", "-v", f"{host}:/mnt:ro", "busybox", "sh", "-c", "cat /mnt/f; touch /mnt/g"),
        ("run", "--rm", "--entrypoint", "echo", "busybox", "hi", "there"),
        ("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z; echo done"),
        ("run", "--rm", "--name", f"{prefix}-n", "busybox", "hostname"),
        ("run", "--rm", "busybox", "no-such-command"),
        ("run", "--rm", "busybox", "/etc"),
        ("run", "--rm", "no-such-image", "true"),
        ("run", "--rm", "-v", "relative:/x", "busybox", "true"),
        ("run", "-d", "--name", f"{prefix}-a", "busybox", "sh", "-c",
         "trap 'echo bye; exit 0' TERM; echo ready; while true; do sleep 0.1; done"),
        ("run", "--name", f"{prefix}-b", "busybox", "sh", "-c", "echo one; echo two >&2; exit 3"),
        ("ps", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.State}}"),
        ("ps", "-a", "--format", "{{.Names}} {{.State}} {{.Status}}"),
        ("ps", "-a"),
        ("wait", f"{prefix}-b"),
        ("logs", f"{prefix}-b"),
        ("logs", "--tail", "1", f"{prefix}-b"),
        ("logs", "-t", f"{prefix}-b"),
        ("logs", "-f", f"{prefix}-b"),
        ("logs", "--tail", "x", f"{prefix}-b"),
        ("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Config.Cmd}} {{.Name}}", f"{prefix}-b"),
        ("exec", "-e", "Y=2", f"{prefix}-a", "sh", "-c", 'echo "y=$Y"; echo e >&2; exit 4'),
        ("exec", "-i", f"{prefix}-a", "cat"),
        ("exec", f"{prefix}-a", "no-such-command"),
        ("exec", f"{prefix}-a", "/etc"),
        ("exec", f"{prefix}-b", "true"),
        ("start", f"{prefix}-b"),
        ("wait", f"{prefix}-b"),
        ("start", "-a", f"{prefix}-b"),
        ("stop", "-t", "5", f"{prefix}-a"),
        ("logs", f"{prefix}-a"),
        ("kill", f"{prefix}-a"),
        ("kill", "-s", "NOPE", f"{prefix}-a"),
        ("rm", f"{prefix}-a", f"{prefix}-b", f"{prefix}-missing"),
        ("inspect", f"{prefix}-a"),
        ("images",),
        ("images", "-q", "--no-trunc"),
        ("tag", "busybox", f"{prefix}/img:1"),
        ("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"),
        ("rmi", f"{prefix}/img:1"),
        ("rmi", f"{prefix}/img:1"),
        ("tag", f"{prefix}/none", f"{prefix}/img:2"),
        ("ps", "-a", "-q"),
    ]
    out = []
    for args in steps:
        proc = yard(*args, input="typed in\n" if "-i" in args[:3] else None)
        out.append((_norm(" ".join(args), prefix), proc.returncode, _norm(proc.stdout, prefix),
                    _norm(proc.stderr, prefix)))
    return out


# Where the Docker API words an error differently from the engine; the exit code still matches.
_WORDED_BY_DAEMON = {"exec P-b true"}


def test_same_transcript_with_and_without_the_daemon(remote: Yard, local: Yard, tmp_path: Path) -> None:
    through_daemon = _transcript(remote, tmp_path)
    daemonless = _transcript(local, tmp_path)
    for ours, theirs in zip(through_daemon, daemonless, strict=True):
        if ours[0] in _WORDED_BY_DAEMON and ours[1] != 0:
            assert ours[:3] == theirs[:3]
        else:
            assert ours == theirs
    codes = {cmd: code for cmd, code, _, _ in daemonless}
    assert codes["run --rm busybox no-such-command"] == 127
    assert codes["run --rm busybox /etc"] == 126
    assert codes["run --rm no-such-image true"] == 125
    assert through_daemon[0][1:] == (7, "out\n", "err\n")


def test_each_side_sees_and_drives_the_others_containers(remote: Yard, local: Yard) -> None:
    a, b = f"v{uuid.uuid4().hex[:8]}", f"v{uuid.uuid4().hex[:8]}"
    assert remote("run", "-d", "--name", a, "busybox", "sleep", "60").returncode == 0
    assert local("run", "-d", "--name", b, "busybox", "sleep", "60").returncode == 0
    for yard in (remote, local):
        names = yard("ps", "--format", "{{.Names}}").stdout.split()
        assert a in names and b in names
    assert remote("inspect", "-f", "{{.State.Status}}", b).stdout == "running\n"
    assert local("exec", a, "echo", "hi").stdout == "hi\n"
    assert remote("kill", b).stdout == f"{b}\n"
    assert local("rm", "-f", a).returncode == 0
    assert remote("rm", b).stdout == f"{b}\n"
    assert a not in local("ps", "-a").stdout and b not in remote("ps", "-a").stdout


def test_the_daemon_really_serves_when_found(daemon: Daemon, tmp_path: Path) -> None:
    # A client whose own data root is empty lists the daemon's image: the listing came over the socket.
    empty = tmp_path / "empty-root"
    yard = _yard(daemon, DOCKYARD_HOST=f"unix://{daemon.sock}", DOCKYARD_ROOT=str(empty))
    assert yard("images", "--format", "{{.Repository}}").stdout == "busybox\n"
    assert _yard(daemon, DOCKYARD_HOST="local", DOCKYARD_ROOT=str(empty))("images", "-q").stdout == ""


def test_a_dead_daemon_named_in_dockyard_host_is_one_clear_error(daemon: Daemon, tmp_path: Path) -> None:
    dead = Path("/tmp") / f"dead-{uuid.uuid4().hex[:8]}.sock"
    proc = _yard(daemon, DOCKYARD_HOST=f"unix://{dead}")("ps")
    assert proc.returncode == 125 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert str(dead) in proc.stderr and "dockyard serve" in proc.stderr and "DOCKYARD_HOST=local" in proc.stderr
    bad = _yard(daemon, DOCKYARD_HOST="tcp://127.0.0.1:1")("ps")
    assert bad.returncode == 125 and "unix://" in bad.stderr


def test_a_stale_socket_falls_back_to_daemonless(daemon: Daemon, tmp_path: Path) -> None:
    state = Path("/tmp") / f"dys-{uuid.uuid4().hex[:8]}"
    state.mkdir()
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(state / "dockyard.sock"))  # bound, never listening: what a killed daemon leaves
            yard = _yard(daemon, DOCKYARD_STATE=str(state))
            proc = yard("images", "--format", "{{.Repository}}")
        assert (proc.returncode, proc.stdout) == (0, "busybox\n")
    finally:
        subprocess.run(["rm", "-rf", str(state)], check=False)


def test_interrupting_an_attached_run_stops_the_container(remote: Yard, daemon: Daemon) -> None:
    name = f"s{uuid.uuid4().hex[:8]}"
    env = {**daemon.env, "DOCKYARD_RUNTIME": "runc", "DOCKYARD_NETWORK": "none"}
    env.pop("DOCKYARD_HOST", None)
    proc = subprocess.Popen([DOCKYARD, "run", "--rm", "--name", name, "busybox", "sh", "-c",
                             "trap 'echo got INT; exit 5' INT; echo up; while true; do sleep 0.1; done"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "up\n"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (5, "got INT\n")
    assert name not in remote("ps", "-a").stdout


def _tty_session(env: dict[str, str], *argv: str) -> tuple[bytes, int]:
    """Drive ``dockyard run -it …`` on a real terminal: size, resize, a command, exit 5."""
    import fcntl
    import pty
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.execve(DOCKYARD, [DOCKYARD, *argv], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))

    def read_until(marker: bytes, timeout: float = 15) -> bytes:
        return support.read_until(fd, marker, timeout)

    seen = read_until(b"# ")
    os.write(fd, b"stty size; tty\n")
    seen += read_until(b"/dev/pts/")
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 150, 0, 0))  # the CLI gets SIGWINCH
    time.sleep(0.3)
    os.write(fd, b"stty size\n")
    seen += read_until(b"50 150", timeout=5)
    os.write(fd, b"exit 5\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return seen, os.waitstatus_to_exitcode(status)


@pytest.mark.parametrize("host", ["", "local"])
def test_interactive_terminal(daemon: Daemon, host: str) -> None:
    env = {**daemon.env, "DOCKYARD_RUNTIME": "runc", "DOCKYARD_NETWORK": "none", "DOCKYARD_HOST": host}
    seen, code = _tty_session(env, "run", "--rm", "-it", "busybox", "sh")
    assert code == 5
    assert b"33 101" in seen and b"/dev/pts/0" in seen and b"50 150" in seen


@pytest.mark.parametrize("host", ["", "local"])
def test_exec_with_a_terminal(daemon: Daemon, remote: Yard, host: str) -> None:
    name = f"x{uuid.uuid4().hex[:8]}"
    assert remote("run", "-d", "--name", name, "busybox", "sleep", "60").returncode == 0
    env = {**daemon.env, "DOCKYARD_RUNTIME": "runc", "DOCKYARD_NETWORK": "none", "DOCKYARD_HOST": host}
    try:
        seen, code = _tty_session(env, "exec", "-it", name, "sh")
    finally:
        remote("rm", "-f", name)
    assert code == 5
    assert b"33 101" in seen and b"/dev/pts/" in seen and b"50 150" in seen


def _network_transcript(yard: Yard) -> list[tuple[str, int, str, str]]:
    from tests.engine import netenv

    prefix = f"w{uuid.uuid4().hex[:8]}"
    steps = [
        ("network", "create", "--subnet", netenv.free_subnet(), "--label", "team=a", f"{prefix}-net"),
        ("network", "create", "--driver", "macvlan", f"{prefix}-x"),
        ("network", "ls", "--filter", "label=team=a"),
        ("network", "ls", "-q", "--filter", f"name={prefix}"),
        ("run", "-d", "--name", f"{prefix}-c", "--network", f"{prefix}-net", "-p", "127.0.0.1::80", "busybox",
         "httpd", "-f", "-p", "80"),
        ("ps", "--format", "{{.Names}} {{.Ports}}"),
        ("inspect", "-f", "{{.HostConfig.NetworkMode}}", f"{prefix}-c"),
        ("network", "rm", f"{prefix}-net"),
        ("rm", "-f", f"{prefix}-c"),
        ("network", "rm", f"{prefix}-net"),
        ("network", "rm", f"{prefix}-net"),
    ]
    out = []
    for args in steps:
        proc = yard(*args)
        norm = lambda text: re.sub(r"127\.0\.0\.1:\d+->", "127.0.0.1:<port>->", _norm(text, prefix))  # noqa: E731
        command = re.sub(r"\d+\.\d+\.\d+\.0/24", "<subnet>", " ".join(args))
        out.append((_norm(command, prefix), proc.returncode, norm(proc.stdout), norm(proc.stderr)))
    return out


def test_networks_and_published_ports_the_same_both_ways(remote: Yard, local: Yard) -> None:
    through_daemon, daemonless = _network_transcript(remote), _network_transcript(local)
    for ours, theirs in zip(through_daemon, daemonless, strict=True):
        assert ours == theirs
    codes = [code for _, code, _, _ in daemonless]
    assert codes == [0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]
    assert "127.0.0.1:<port>->80/tcp" in daemonless[5][2]


def test_pull_the_same_both_ways(remote: Yard, local: Yard, daemon: Daemon, tmp_path: Path) -> None:
    from tests.engine import netenv

    port = netenv.free_port()
    env = {**daemon.env, "DOCKYARD_ROOT": str(tmp_path / "registry")}
    registry = subprocess.Popen([DOCKYARD, "registry", "serve", "--addr", f"127.0.0.1:{port}"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert registry.stdout is not None and "listening" in registry.stdout.readline()
        ref = f"127.0.0.1:{port}/lib/bb:1"
        assert local("tag", "busybox", ref).returncode == 0
        assert local("push", ref).returncode == 0
        outputs = []
        for yard in (remote, local):
            assert yard("rmi", ref).returncode == 0
            pulled, quiet = yard("pull", ref), yard("pull", "-q", ref)
            missing = yard("pull", ref.replace("/bb:", "/nope:"))
            outputs.append([(p.returncode, p.stdout, p.stderr) for p in (pulled, quiet, missing)])
        assert outputs[0] == outputs[1]
        assert outputs[0][0][1].endswith(f"Status: Image is up to date for {ref}\n{ref}\n")
        assert outputs[0][2][0] == 1 and "not found" in outputs[0][2][2]
    finally:
        registry.terminate()
        registry.wait(10)
        local("rmi", f"127.0.0.1:{port}/lib/bb:1")
