"""The shim's requests: one method per operation, each checking the task's state machine first.

Mixed into :class:`~dockyard.engine.shim.server.Shim`; every ``op_<name>`` answers one request
line (:mod:`.protocol`) and either closes the connection after its reply or, for ``attach``,
``exec`` and ``wait``, keeps it for what follows.
"""

from __future__ import annotations

import _signal  # the C core of `signal`, which imports enum (~3 ms of shim start)
import os

from dockyard.base.errors import DockyardError, FailedPrecondition
from dockyard.engine.shim import protocol
from dockyard.engine.shim.task import CREATED, RUNNING, STOPPED, Task


class Operations:
    def op_state(self, conn, req: dict) -> None:
        self.reply(conn, pod=self.pod, pid=os.getpid(),
                   containers={cid: t.public() for cid, t in self.containers.items()})
        conn.close_after_flush = True

    def op_create(self, conn, req: dict) -> None:
        from dockyard.engine.shim.spawn import create_container

        cid = req["id"]
        old = self.containers.get(cid)
        if old is not None:
            old.check("create")
            self.runtime.delete(cid, force=True)
            self.containers.pop(cid)
        self.had_container = True
        try:
            task = create_container(self, req)
        except Exception:
            self.done = not self.containers  # a shim with nothing to supervise goes away
            raise
        self.containers[cid] = task
        self.by_pid[task.pid] = task
        self.save_state()
        self.reply(conn, pid=task.pid)
        conn.close_after_flush = True

    def op_start(self, conn, req: dict) -> None:
        task = self._container(req["id"])
        task.check("start")
        self.runtime.start(task.id)
        task.mark_running()
        self.save_state()
        self.reply(conn, pid=task.pid)
        conn.close_after_flush = True

    def op_kill(self, conn, req: dict) -> None:
        task = self._task(req["id"])
        task.check("kill")
        sig = int(req.get("signal", _signal.SIGTERM))
        if task.kind == "exec":
            os.kill(task.pid, sig)
        else:
            try:
                self.runtime.kill(task.id, sig, all_=bool(req.get("all")))
            except DockyardError:
                # The runtime refuses once the init is gone; the exit is already on its way.
                if task.reaped_at is None:
                    raise
        self.reply(conn)
        conn.close_after_flush = True

    def op_delete(self, conn, req: dict) -> None:
        task = self._container(req["id"])
        if req.get("force") and task.status != STOPPED:
            self.runtime.delete(task.id, force=True)
            self._stop(task, exit_code=128 + _signal.SIGKILL)
        else:
            task.check("delete")
            self.runtime.delete(task.id, force=task.status == CREATED)
        self._release(task)
        self.containers.pop(task.id, None)
        self.save_state()
        self.reply(conn)
        conn.close_after_flush = True
        if not self.containers:
            self._flush(conn)
            self.done = True

    def op_wait(self, conn, req: dict) -> None:
        task = self._task(req["id"])
        if task.status == STOPPED:
            self.reply(conn, exit_code=task.exit_code, finished_at=task.finished_at)
            conn.close_after_flush = True
        else:
            task.waiters.append(conn)

    def op_attach(self, conn, req: dict) -> None:
        """Stream a task's output (and feed its stdin); with ``start``, also start the container
        once attached — ``run``'s attach and start in one round trip, nothing of its output missed.
        The reply then says ``started`` (a shim predating the flag would not: start it apart)."""
        if req.get("start"):
            self._attach_and_start(conn, self._container(req["id"]), stdin=bool(req.get("stdin")))
            return
        task = self._task(req["id"])
        self.reply(conn)
        self._attach(conn, task, stdin=bool(req.get("stdin")))

    def _attach_and_start(self, conn, task: Task, *, stdin: bool) -> None:
        task.check("start")
        self._attach(conn, task, stdin=stdin)  # created, so this only registers conn: nothing is sent yet
        try:
            self.runtime.start(task.id)
        except BaseException:
            task.attached.remove(conn)
            conn.frames, conn.task, conn.stdin = None, None, False
            raise
        task.mark_running()
        self.save_state()
        self.reply(conn, pid=task.pid, started=True)  # before any frame: output is read after we return

    def _attach(self, conn, task: Task, *, stdin: bool) -> None:
        conn.frames = protocol.FrameReader()
        conn.task = task
        conn.stdin = stdin and task.stdin_fd is not None
        if task.status == STOPPED:
            self.send(conn, protocol.control({"exit": task.exit_code}))
            conn.close_after_flush = True
            self._flush(conn)
        else:
            task.attached.append(conn)

    def op_exec(self, conn, req: dict) -> None:
        from dockyard.engine.shim.spawn import exec_process

        parent = self._container(req["id"])
        parent.check("exec")
        exec_id = req["exec_id"]
        if exec_id in self.execs or exec_id in self.containers:
            raise FailedPrecondition(f"exec {exec_id}: already exists in pod {self.pod}")
        task = exec_process(self, parent, req)
        self.execs[exec_id] = task
        self.by_pid[task.pid] = task
        self.reply(conn, pid=task.pid)
        self._attach(conn, task, stdin=bool(req.get("stdin")))

    def op_resize(self, conn, req: dict) -> None:
        from dockyard.engine.shim.stdio import set_winsize

        task = self._task(req["id"])
        task.check("resize")
        if task.console_fd is None:
            raise FailedPrecondition(f"cannot resize {task.id}: it has no terminal")
        set_winsize(task.console_fd, int(req["rows"]), int(req["cols"]))
        self.reply(conn)
        conn.close_after_flush = True

    def op_shutdown(self, conn, req: dict) -> None:
        live = [t.id for t in self.containers.values() if t.status != STOPPED]
        if live:
            raise FailedPrecondition(f"cannot shut down the shim of pod {self.pod}: {live[0]} is {RUNNING}")
        for task in list(self.containers.values()):
            self.runtime.delete(task.id, force=True)
            self._release(task)
        self.containers.clear()
        self.reply(conn)
        conn.close_after_flush = True
        self._flush(conn)
        self.done = True

