"""The shim's plumbing: stdin to processes, their output to logs and clients, exits reaped.

Mixed into :class:`~dockyard.engine.shim.server.Shim`.  Output is read as it comes (non-blocking,
``poll``), written to the json-file log and framed to every attached client; stdin from the one
client attached with stdin is buffered and written when the pipe can take it.  A reaped process
becomes *stopped* once its output has drained (:meth:`Task.ready_to_stop`).
"""

from __future__ import annotations

import errno
import os
import select
import time

from dockyard.engine.shim import protocol
from dockyard.engine.shim.logfile import JsonLogWriter
from dockyard.engine.shim.task import STOPPED, Task
from dockyard.runtime import jsonlite as json

IN, OUT = select.POLLIN, select.POLLOUT
#: Bytes queued for one attached client beyond which the process's output is paused.
HIGH_WATER = 1 << 20


def set_winsize(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class ProcessIO:
    # ---- client frames (stdin, resize, close) ---------------------------------------------

    def _client_frames(self, conn, data: bytes) -> None:
        task = conn.task
        try:
            frames = conn.frames.feed(data) if conn.frames else []
        except ValueError:
            self._close(conn)
            return
        for stream, payload in frames:
            if task is None:
                continue
            if stream == protocol.STDIN and conn.stdin and task.stdin_fd is not None:
                task.stdin_buf += payload
                self._flush_stdin(task)
            elif stream == protocol.CONTROL:
                msg = json.loads(payload)
                if "resize" in msg and task.console_fd is not None and task.status != STOPPED:
                    set_winsize(task.console_fd, *msg["resize"])
                if msg.get("close_stdin") and conn.stdin and not task.terminal:
                    self._close_stdin(task)

    def _flush_stdin(self, task: Task) -> None:
        fd = task.stdin_fd
        if fd is None:
            return
        try:
            while task.stdin_buf:
                n = os.write(fd, task.stdin_buf)
                del task.stdin_buf[:n]
        except BlockingIOError:
            pass
        except OSError:
            task.stdin_buf.clear()
        if task.stdin_buf:
            self._watch_stdin(task, True)
        else:
            self._watch_stdin(task, False)
            if task.stdin_close:
                self._close_stdin(task)

    def _watch_stdin(self, task: Task, on: bool) -> None:
        fd = task.stdin_fd
        if fd is None or fd == task.console_fd:
            return  # a pty master is registered for reading already; writes to it rarely block
        if on:
            try:
                self.poller.register(fd, OUT)
            except FileExistsError:
                self.poller.modify(fd, OUT)
        else:
            try:
                self.poller.unregister(fd)
            except KeyError:
                pass

    def _flush_stdin_fd(self, fd: int) -> None:
        for task in self._all_tasks():
            if task.stdin_fd == fd:
                self._flush_stdin(task)
                return
        self.poller.unregister(fd)

    def _close_stdin(self, task: Task) -> None:
        if task.stdin_buf:
            task.stdin_close = True
            return
        fd = task.stdin_fd
        if fd is not None and fd != task.console_fd:
            self._watch_stdin(task, False)
            os.close(fd)
        task.stdin_fd = None

    # ---- output, exits ----------------------------------------------------------------------

    def watch_output(self, task: Task, fd: int, stream: str) -> None:
        os.set_blocking(fd, False)
        task.outs[fd] = stream
        self.out_fds[fd] = task
        self.poller.register(fd, IN)

    def _read_output(self, fd: int) -> None:
        task = self.out_fds[fd]
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno != errno.EIO:  # EIO: the pty's last slave closed
                raise
            data = b""
        if not data:
            self._unwatch_output(task, fd)
            return
        stream = task.outs[fd]
        if task.log is not None:
            task.log.write(stream, data)
        frame = protocol.frame(protocol.STDOUT if stream == "stdout" else protocol.STDERR, data)
        for conn in list(task.attached):
            self.send(conn, frame)
        if any(len(c.wbuf) > HIGH_WATER for c in task.attached):
            self._pause_output(task)

    def _pause_output(self, task: Task) -> None:
        """Stop reading the process's output while a client is behind: the process then blocks on
        its full pipe, as under docker, instead of the shim buffering without bound."""
        if not task.paused:
            task.paused = True
            for fd in task.outs:
                self.poller.unregister(fd)

    def resume_output(self, task: Task) -> None:
        if task.paused and all(len(c.wbuf) <= HIGH_WATER // 4 for c in task.attached):
            task.paused = False
            for fd in task.outs:
                self.poller.register(fd, IN)

    def _unwatch_output(self, task: Task, fd: int) -> None:
        if not task.paused:
            self.poller.unregister(fd)
        self.out_fds.pop(fd, None)
        task.outs.pop(fd, None)
        if fd == task.console_fd:
            return  # closed with the task: resize and stdin still use it
        os.close(fd)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            task = self.by_pid.pop(pid, None)
            if task is not None:
                code = os.waitstatus_to_exitcode(status)
                task.reaped(code if code >= 0 else 128 - code)

    def _finish_stopped(self) -> None:
        for task in self._all_tasks():
            if task.ready_to_stop():
                self._stop(task)

    def _stop(self, task: Task, *, exit_code: int | None = None) -> None:
        """Move *task* to stopped: drain and close its output, tell attached clients and waiters."""
        if exit_code is not None and task.exit_code is None:
            task.exit_code = exit_code
        for fd in list(task.outs):
            if fd in self.out_fds:
                self._read_output(fd)
            if fd in task.outs:
                self._unwatch_output(task, fd)
        task.status = STOPPED
        task.finished_at = time.time()
        self._release(task)
        for conn in list(task.attached):
            self.send(conn, protocol.control({"exit": task.exit_code}))
            conn.close_after_flush = True
            self._flush(conn)
        for conn in list(task.waiters):
            self.reply(conn, exit_code=task.exit_code, finished_at=task.finished_at)
            conn.close_after_flush = True
            self._flush(conn)
        task.attached.clear()
        task.waiters.clear()
        if task.kind == "exec":
            self.execs.pop(task.id, None)
        else:
            self.save_state()

    def _release(self, task: Task) -> None:
        """Close what the shim holds for a task (pipes, pty, log); idempotent."""
        for fd in list(task.outs):
            self._unwatch_output(task, fd)
        task.stdin_buf.clear()
        self._close_stdin(task)
        if task.console_fd is not None:
            os.close(task.console_fd)
            task.console_fd = None
        if task.log is not None:
            log, task.log = task.log, None
            if isinstance(log, JsonLogWriter):
                log.close()


