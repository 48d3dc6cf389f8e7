"""The engine's side of the shim: spawn one for a pod, find it again, talk to it.

Shims live at ``<state dir>/shims/<pod id[:24]>/`` (``shim.sock``, ``state.json``; the prefix keeps
socket paths under the kernel's 108-byte limit).  A client call is one connection: a JSON request
line, a JSON reply line; ``attach``/``exec`` keep the connection as a framed stream
(:mod:`dockyard.engine.shim.protocol`).  Errors come back as the category the shim raised.
"""

from __future__ import annotations

import _socket  # not `socket`: it turns every constant into an IntEnum at import (~2 ms)
from pathlib import Path

from dockyard.base.errors import DockyardError, Unavailable, from_wire
from dockyard.engine.shim import protocol
from dockyard.engine.shimspawn import PendingShim
from dockyard.engine.shimspawn import shim_dir as _shim_dir
from dockyard.runtime import jsonlite as json  # the C scanner: no `re`/`enum` imports for replies

SPAWN_TIMEOUT = 10.0


def shim_dir(state_dir: Path, pod: str) -> Path:
    return Path(_shim_dir(state_dir, pod))


def spawn(state_dir: Path, pod: str, runtime_argv: list[str]) -> ShimClient:
    """Start a detached shim for *pod* and return a client once its socket listens."""
    return PendingShim(state_dir, pod, runtime_argv).ready()


class ShimClient:
    def __init__(self, sock_path: Path) -> None:
        self.sock_path = sock_path

    def alive(self) -> bool:
        try:
            self.call("state")
        except DockyardError:
            return False
        return True

    def connect(self, timeout: float | None = None) -> _socket.socket:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(self.sock_path))
        except OSError as e:
            sock.close()
            raise Unavailable(f"shim at {self.sock_path}: not answering ({e.strerror})") from e
        return sock

    def request(self, op: str, *, timeout: float | None = 60.0, **fields) -> tuple[_socket.socket, dict]:
        """Send one request and read the reply line; the socket stays open for streaming ops."""
        sock = self.send(op, timeout=timeout, **fields)
        return sock, self.reply(sock)

    def send(self, op: str, *, timeout: float | None = 60.0, **fields) -> _socket.socket:
        """Send one request without waiting: the caller works meanwhile, then calls :meth:`reply`."""
        sock = self.connect(timeout)
        try:
            sock.sendall(protocol.encode({"op": op, **fields}))
        except OSError as e:
            sock.close()
            raise Unavailable(f"shim at {self.sock_path}: connection lost ({e.strerror or e})") from e
        except BaseException:
            sock.close()
            raise
        return sock

    def reply(self, sock: _socket.socket) -> dict:
        """The reply line to what :meth:`send` sent; the socket is closed if it is an error."""
        try:
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
        return reply

    def call(self, op: str, *, timeout: float | None = 60.0, **fields) -> dict:
        sock, reply = self.request(op, timeout=timeout, **fields)
        sock.close()
        return reply

    def wait(self, cid: str, timeout: float | None = None) -> int:
        reply = self.call("wait", id=cid, timeout=timeout)
        return int(reply["exit_code"])


def _read_line(sock: _socket.socket) -> dict:
    """Read exactly one line: what follows it (attach/exec frames) must stay in the socket."""
    buf = bytearray()
    while True:
        peek = sock.recv(65536, _socket.MSG_PEEK)
        if not peek:
            raise Unavailable("shim closed the connection before answering")
        end = peek.find(b"\n")
        buf += sock.recv(len(peek) if end < 0 else end + 1)
        if end >= 0:
            return json.loads(bytes(buf))


def _error(reply: dict) -> DockyardError:
    err = from_wire(reply)
    err.exec_failure = int(reply.get("exec_failure") or 0)  # type: ignore[attr-defined]
    return err
