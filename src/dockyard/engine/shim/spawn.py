"""Starting processes under the shim: a container's init (``runtime create``) or an exec.

The shim makes the stdio the process will inherit — pipes it keeps the other ends of, or a pty
whose master the runtime hands back over ``--console-socket`` (SCM_RIGHTS, as runc does) — then
runs the runtime.  The runtime exits once the process exists; the process is re-parented to the
shim, which is the pod's subreaper.
"""

from __future__ import annotations

import os

from dockyard.base.errors import Internal
from dockyard.engine.shim.logfile import JsonLogWriter
from dockyard.engine.shim.task import RUNNING, Task
from dockyard.runtime import jsonlite as json

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket

CONSOLE_TIMEOUT = 10.0


def create_container(shim, req: dict) -> Task:
    cid = req["id"]
    task = Task(id=cid, kind="container", container=cid, terminal=bool(req.get("terminal")))
    pid_file = os.path.join(shim.dir, f"{cid[:24]}.pid")
    with _Stdio(shim.dir, cid, terminal=task.terminal, stdin=bool(req.get("stdin"))) as stdio:
        shim.runtime.create(cid, req["bundle"], pid_file, stdio.child_fds(), stdio.console_path)
        task.pid = _read_pid(pid_file)
        stdio.adopt(shim, task)
    if req.get("log_path"):
        task.log = JsonLogWriter(req["log_path"], max_size=int(req.get("log_max_size", 10 << 20)),
                                 max_files=int(req.get("log_max_files", 3)))
    return task


def exec_process(shim, parent: Task, req: dict) -> Task:
    exec_id = req["exec_id"]
    process = req["process"]
    task = Task(id=exec_id, kind="exec", container=parent.id, terminal=bool(process.get("terminal")))
    process_file = os.path.join(shim.dir, f"{exec_id[:24]}.process.json")
    pid_file = os.path.join(shim.dir, f"{exec_id[:24]}.pid")
    with open(process_file, "w") as f:
        f.write(json.dumps(process))
    try:
        with _Stdio(shim.dir, exec_id, terminal=task.terminal, stdin=bool(req.get("stdin"))) as stdio:
            shim.runtime.exec(parent.id, process_file, pid_file, stdio.child_fds(), stdio.console_path)
            task.pid = _read_pid(pid_file)
            stdio.adopt(shim, task)
    finally:
        os.unlink(process_file)
    task.status = RUNNING
    task.started_at = task.created_at
    return task


def _read_pid(path: str) -> int:
    try:
        with open(path) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError) as e:
        raise Internal(f"runtime wrote no usable pid file at {path} ({e})") from e
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return pid


class _Stdio:
    """The stdio of one new process; everything not adopted by a task is closed on exit."""

    def __init__(self, workdir: str, tid: str, *, terminal: bool, stdin: bool) -> None:
        self.terminal = terminal
        self.stdin = stdin
        self.console_path: str | None = None
        self.listener: socket.socket | None = None
        self.keep: list[tuple[int, str]] = []  # (fd, role) the task will own
        self.child: list[int] = []
        self._to_close: list[int] = []
        if terminal:
            import socket  # only for a terminal: socket.py costs the shim ~3 ms to import

            self.console_path = os.path.join(workdir, f"{tid[:16]}.console")
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.listener.bind(self.console_path)
            self.listener.listen(1)
            self.listener.settimeout(CONSOLE_TIMEOUT)
            null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            self.child = [null, null, null]
            self._to_close.append(null)
            return
        if stdin:
            r, w = os.pipe2(os.O_CLOEXEC)
            self.keep.append((w, "stdin"))
            self.child.append(r)
            self._to_close.append(r)
        else:
            null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            self.child.append(null)
            self._to_close.append(null)
        for name in ("stdout", "stderr"):
            r, w = os.pipe2(os.O_CLOEXEC)
            self.keep.append((r, name))
            self.child.append(w)
            self._to_close.append(w)

    def child_fds(self) -> tuple[int, int, int]:
        return self.child[0], self.child[1], self.child[2]

    def adopt(self, shim, task: Task) -> None:
        if self.listener is not None:
            master = self._receive_master()
            task.console_fd = master
            task.stdin_fd = master
            shim.watch_output(task, master, "stdout")
            return
        for fd, role in self.keep:
            if role == "stdin":
                os.set_blocking(fd, False)
                task.stdin_fd = fd
            else:
                shim.watch_output(task, fd, role)
        self.keep = []

    def _receive_master(self) -> int:
        import socket

        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except TimeoutError as e:
            raise Internal("runtime sent no terminal on --console-socket") from e
        with conn:
            conn.settimeout(CONSOLE_TIMEOUT)
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
        if not fds:
            raise Internal("runtime connected to --console-socket but sent no file descriptor")
        return fds[0]

    def __enter__(self) -> _Stdio:
        return self

    def __exit__(self, *exc) -> None:
        for fd in self._to_close:
            os.close(fd)
        for fd, _ in self.keep:
            os.close(fd)
        if self.listener is not None:
            self.listener.close()
            os.unlink(self.console_path)
