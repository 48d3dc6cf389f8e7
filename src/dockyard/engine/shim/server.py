"""The shim's event loop: one pod, one unix socket, one thread, ``poll()``.

The shim is the parent (subreaper) of every process in its pod.  It owns their output pipes
(or pty masters), writes them to the json-file logs, relays them to attached clients, reaps
exits, and keeps the pod's state in ``state.json`` so that an engine finding the shim dead still
knows what happened.  That reader takes a ``stopped`` entry whole and of any other only its pid
(it reads as dead), so the file is rewritten when what it would conclude changes — a create, an
exit, a delete — not on a start, which changes only what it ignores.  It exits, removing
its socket and state, when its last container is deleted.

Requests and framing are in :mod:`.protocol`, their handlers in :mod:`.ops`, the pipes and
exits in :mod:`.stdio`; the per-process state machine is :mod:`.task`.
"""

from __future__ import annotations

import _signal  # the C core of `signal`, which imports enum (~3 ms of shim start)
import _socket  # socket.py imports enum and selectors; the shim needs none of its wrappers
import os
import select
import time

from dockyard.base.errors import DockyardError, InvalidArgument, NotFound
from dockyard.engine.shim import protocol
from dockyard.engine.shim.ops import Operations
from dockyard.engine.shim.runtime import RuntimeCLI, RuntimeFailed
from dockyard.engine.shim.stdio import ProcessIO
from dockyard.engine.shim.task import STOPPED, Task
from dockyard.runtime import jsonlite as json

IN, OUT, ERRS = select.POLLIN, select.POLLOUT, select.POLLERR | select.POLLHUP | select.POLLNVAL
#: A client that stops reading is dropped rather than letting its backlog grow without bound.
MAX_BACKLOG = 16 << 20
#: A shim that never receives its first container gives up (its engine died while starting it).
IDLE_EXIT = 60.0


class Conn:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.frames: protocol.FrameReader | None = None
        self.task: Task | None = None
        self.stdin = False
        self.close_after_flush = False


class Shim(Operations, ProcessIO):
    def __init__(self, pod: str, workdir: str, runtime: RuntimeCLI) -> None:
        self.pod = pod
        self.dir = workdir
        self.runtime = runtime
        self.sock_path = os.path.join(workdir, "shim.sock")
        self.state_path = os.path.join(workdir, "state.json")
        self.containers: dict[str, Task] = {}
        self.execs: dict[str, Task] = {}
        self.by_pid: dict[int, Task] = {}
        self.conns: dict[int, Conn] = {}
        self.out_fds: dict[int, Task] = {}
        self.poller = select.poll()
        self.done = False
        self.had_container = False
        self.started = time.monotonic()
        #: what a reader of state.json would conclude from it now (see save_state)
        self._on_disk: dict[str, object] = {}

    # ---- set-up and loop -------------------------------------------------------------------

    def listen(self) -> None:
        os.makedirs(self.dir, mode=0o711, exist_ok=True)
        self.listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            os.unlink(self.sock_path)
        except FileNotFoundError:
            pass
        self.listener.bind(self.sock_path)
        os.chmod(self.sock_path, 0o660)
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.poller.register(self.listener.fileno(), IN)
        self.sig_r, sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        _signal.set_wakeup_fd(sig_w)
        _signal.signal(_signal.SIGCHLD, lambda *_: None)
        self.poller.register(self.sig_r, IN)

    def serve(self) -> None:
        while not self.done:
            for fd, ev in self.poller.poll(self._timeout_ms()):
                self._dispatch(fd, ev)
            self._reap()
            self._finish_stopped()
            if not self.had_container and time.monotonic() - self.started > IDLE_EXIT:
                self.done = True
            elif not os.path.exists(self.sock_path):
                self._orphaned()
        self.cleanup()

    def _timeout_ms(self) -> int:
        deadlines = [d for t in self._all_tasks() if (d := t.drain_deadline()) is not None]
        if not deadlines:
            return 1000
        return max(0, int((min(deadlines) - time.monotonic()) * 1000) + 5)

    def _all_tasks(self) -> list[Task]:
        return [*self.containers.values(), *self.execs.values()]

    def _dispatch(self, fd: int, ev: int) -> None:
        if fd == self.listener.fileno():
            self._accept()
        elif fd == self.sig_r:
            try:
                while os.read(self.sig_r, 512):
                    pass
            except BlockingIOError:
                pass
        elif fd in self.out_fds:
            self._read_output(fd)
        elif fd in self.conns:
            conn = self.conns[fd]
            if ev & OUT:
                self._flush(conn)
            if ev & (IN | ERRS) and fd in self.conns:
                self._read_conn(conn)
        elif ev & OUT:
            self._flush_stdin_fd(fd)

    def _orphaned(self) -> None:
        """Our socket was removed (the state dir was wiped): nobody can reach us, so end the pod."""
        for task in list(self.containers.values()):
            try:
                if task.status != STOPPED and task.pid:
                    os.kill(task.pid, _signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.runtime.delete(task.id, force=True)
            except DockyardError:
                pass
            self._release(task)
        self.containers.clear()
        self.done = True

    def cleanup(self) -> None:
        for conn in list(self.conns.values()):
            self._close(conn)
        self.listener.close()
        for path in (self.sock_path, self.state_path, os.path.join(self.dir, "shim.pid")):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        try:
            for name in os.listdir(self.dir):
                os.unlink(os.path.join(self.dir, name))
            os.rmdir(self.dir)
        except OSError:
            pass

    def save_state(self) -> None:
        """Write state.json if a reader would conclude something new from it; call it on every
        transition, before answering.  The reader (``Engine._status_from_file``, once the shim is
        gone) takes a stopped entry whole, and of a created or running one only its pid (it is
        dead then): a start, created → running with the same pid, changes nothing it would see.
        A shim left without containers is about to remove the file: nothing to write either."""
        containers = {cid: t.public() for cid, t in self.containers.items()}
        seen = {cid: c if c["status"] == STOPPED else c["pid"] for cid, c in containers.items()}
        if seen == self._on_disk or not containers:
            if not containers and self._on_disk:
                self._drop_state_file()  # no stale entry outlives a delete
            return
        state = {"pod": self.pod, "pid": os.getpid(), "containers": containers}
        _atomic_write(self.state_path, json.dumps(state).encode())
        self._on_disk = seen

    def _drop_state_file(self) -> None:
        try:
            os.unlink(self.state_path)
        except FileNotFoundError:
            pass
        self._on_disk = {}

    # ---- connections -----------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                fd, _ = self.listener._accept()  # accept4(SOCK_CLOEXEC), as socket.accept
            except BlockingIOError:
                return
            sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)
            sock.setblocking(False)
            conn = Conn(sock)
            self.conns[conn.fd] = conn
            self.poller.register(conn.fd, IN)

    def _read_conn(self, conn: Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        if conn.frames is not None:
            self._client_frames(conn, data)
            return
        conn.rbuf += data
        if b"\n" not in conn.rbuf:
            if len(conn.rbuf) > 1 << 20:
                self._close(conn)
            return
        line, _, rest = bytes(conn.rbuf).partition(b"\n")
        conn.rbuf.clear()
        self._handle(conn, line)
        if rest and conn.frames is not None and conn.fd in self.conns:
            self._client_frames(conn, rest)

    def send(self, conn: Conn, data: bytes) -> None:
        if conn.fd not in self.conns:
            return
        conn.wbuf += data
        if len(conn.wbuf) > MAX_BACKLOG:
            self._close(conn)
            return
        self._flush(conn)

    def _flush(self, conn: Conn) -> None:
        try:
            while conn.wbuf:
                n = conn.sock.send(conn.wbuf)
                del conn.wbuf[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._close(conn)
            return
        if conn.task is not None and conn.task.paused:
            self.resume_output(conn.task)
        if conn.wbuf:
            self.poller.modify(conn.fd, IN | OUT)
        elif conn.close_after_flush:
            self._close(conn)
        else:
            self.poller.modify(conn.fd, IN)

    def _close(self, conn: Conn) -> None:
        if self.conns.pop(conn.fd, None) is None:
            return
        self.poller.unregister(conn.fd)
        task = conn.task
        if task is not None:
            if conn in task.attached:
                task.attached.remove(conn)
                self.resume_output(task)
            if conn.stdin and not task.terminal:
                self._close_stdin(task)
        for t in self._all_tasks():
            if conn in t.waiters:
                t.waiters.remove(conn)
        conn.sock.close()

    def reply(self, conn: Conn, **fields) -> None:
        self.send(conn, protocol.encode({"ok": True, **fields}))

    def _handle(self, conn: Conn, line: bytes) -> None:
        try:
            req = json.loads(line)
            op = req.get("op")
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                raise InvalidArgument(f"shim request {op!r}: unknown operation")
            handler(conn, req)
        except DockyardError as e:
            err = {"ok": False, **e.to_wire()}
            if isinstance(e, RuntimeFailed):
                err["exec_failure"] = e.exec_failure
            self.send(conn, protocol.encode(err))
            conn.close_after_flush = True
            self._flush(conn)
        except (ValueError, KeyError, TypeError) as e:
            self.send(conn, protocol.encode({"ok": False, "category": "invalid_argument",
                                             "message": f"shim request: malformed ({e})"}))
            conn.close_after_flush = True
            self._flush(conn)

    def _container(self, cid: str) -> Task:
        task = self.containers.get(cid)
        if task is None:
            raise NotFound(f"container {cid} in pod {self.pod}: not found in its shim")
        return task

    def _task(self, tid: str) -> Task:
        task = self.containers.get(tid) or self.execs.get(tid)
        if task is None:
            raise NotFound(f"process {tid} in pod {self.pod}: not found in its shim")
        return task


def _atomic_write(path: str, data: bytes) -> None:
    """Readers see the old state or the new one.  (Not base.fsutil: its tempfile import is heavy.)

    No fsync: the state dir dies with the machine anyway (it is /run), and the rename alone keeps
    a reader from ever seeing half a file.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o640)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)
