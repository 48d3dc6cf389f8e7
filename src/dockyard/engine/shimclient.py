"""The engine's side of the shim: spawn one for a pod, find it again, talk to it.

Shims live at ``<state dir>/shims/<pod id[:24]>/`` (``shim.sock``, ``state.json``; the prefix keeps
socket paths under the kernel's 108-byte limit).  A client call is one connection: a JSON request
line, a JSON reply line; ``attach``/``exec`` keep the connection as a framed stream
(:mod:`dockyard.engine.shim.protocol`).  Errors come back as the category the shim raised.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import dockyard
from dockyard.base.errors import DockyardError, Internal, Unavailable, from_wire
from dockyard.engine.shim import protocol

SPAWN_TIMEOUT = 10.0


def shim_dir(state_dir: Path, pod: str) -> Path:
    return state_dir / "shims" / pod[:24]


def spawn(state_dir: Path, pod: str, runtime_argv: list[str]) -> ShimClient:
    """Start a detached shim for *pod* and return a client once its socket listens."""
    return PendingShim(state_dir, pod, runtime_argv).ready()


class PendingShim:
    """A shim that is starting: the engine does other work (the rootfs) while Python boots it."""

    def __init__(self, state_dir: Path, pod: str, runtime_argv: list[str]) -> None:
        self.pod = pod
        self.workdir = shim_dir(state_dir, pod)
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o711)
        src = str(Path(dockyard.__file__).resolve().parent.parent)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = src
        r, w = os.pipe()
        # -S: the shim needs nothing from site-packages; skipping site keeps it small and quick.
        # -P: nor the caller's working directory on sys.path (the shim chdirs to / first thing).
        argv = [sys.executable, "-S", "-P", "-m", "dockyard.engine.shim", "--pod", pod, "--dir",
                str(self.workdir), "--runtime", json.dumps(runtime_argv), "--ready-fd", str(w)]
        # posix_spawn, not subprocess (~2 ms of imports on every `dockyard run`); the write end is
        # made inheritable for the spawn only, and the shim starts a session of its own.
        try:
            os.set_inheritable(w, True)
            self.pid = os.posix_spawn(sys.executable, argv, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        self._ready = os.fdopen(r, "rb")

    def ready(self) -> ShimClient:
        if self._ready.closed:
            raise Internal(f"shim for pod {self.pod}: already collected")
        try:
            line = self._ready.readline().decode(errors="replace").strip()
        finally:
            self._ready.close()
            os.waitpid(self.pid, 0)  # the shim's first process exits once it has forked the shim
        if line != "ok":
            raise Internal(f"shim for pod {self.pod}: failed to start ({line or 'no answer'})")
        return ShimClient(self.workdir / "shim.sock")

    def abandon(self) -> None:
        """The create failed before the shim got work: tell it to go (it would also idle out)."""
        try:
            client = ShimClient(self.workdir / "shim.sock") if self._ready.closed else self.ready()
            client.call("shutdown", timeout=10)
        except DockyardError:
            pass


class ShimClient:
    def __init__(self, sock_path: Path) -> None:
        self.sock_path = sock_path

    def alive(self) -> bool:
        try:
            self.call("state")
        except DockyardError:
            return False
        return True

    def connect(self, timeout: float | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.sock_path))
        except OSError as e:
            sock.close()
            raise Unavailable(f"shim at {self.sock_path}: not answering ({e.strerror})") from e
        return sock

    def request(self, op: str, *, timeout: float | None = 60.0, **fields) -> tuple[socket.socket, dict]:
        """Send one request and read the reply line; the socket stays open for streaming ops."""
        sock = self.connect(timeout)
        try:
            sock.sendall(protocol.encode({"op": op, **fields}))
            reply = _read_line(sock)
        except TimeoutError:
            sock.close()
            raise
        except OSError as e:
            sock.close()
            raise Unavailable(f"shim at {self.sock_path}: connection lost ({e.strerror or e})") from e
        except BaseException:
            sock.close()
            raise
        if not reply.get("ok"):
            sock.close()
            raise _error(reply)
        return sock, reply

    def call(self, op: str, *, timeout: float | None = 60.0, **fields) -> dict:
        sock, reply = self.request(op, timeout=timeout, **fields)
        sock.close()
        return reply

    def wait(self, cid: str, timeout: float | None = None) -> int:
        reply = self.call("wait", id=cid, timeout=timeout)
        return int(reply["exit_code"])


def _read_line(sock: socket.socket) -> dict:
    """Read exactly one line: what follows it (attach/exec frames) must stay in the socket."""
    buf = bytearray()
    while True:
        peek = sock.recv(65536, socket.MSG_PEEK)
        if not peek:
            raise Unavailable("shim closed the connection before answering")
        end = peek.find(b"\n")
        buf += sock.recv(len(peek) if end < 0 else end + 1)
        if end >= 0:
            return json.loads(buf)


def _error(reply: dict) -> DockyardError:
    err = from_wire(reply)
    err.exec_failure = int(reply.get("exec_failure") or 0)  # type: ignore[attr-defined]
    return err
