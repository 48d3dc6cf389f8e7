"""One supervised process — a container's init or an exec'd process — and its state machine.

    created ──start──▶ running ──(process exits)──▶ stopped ──create──▶ created (a restart)

Every operation names the states it is allowed from; anything else is refused with
``cannot <op> container <id>: it is <state>`` (a ``FailedPrecondition``), never half-done.
A task is *stopped* only once its process has been reaped AND its output pipes have drained (or
a short grace period passed), so a client that sees the exit code has already seen all output.
"""

from __future__ import annotations

import time

from dockyard.base.errors import FailedPrecondition

CREATED, RUNNING, STOPPED = "created", "running", "stopped"

ALLOWED: dict[str, frozenset[str]] = {
    "start": frozenset({CREATED}),
    "kill": frozenset({CREATED, RUNNING}),
    "exec": frozenset({RUNNING}),
    "resize": frozenset({CREATED, RUNNING}),
    "delete": frozenset({CREATED, STOPPED}),
    "create": frozenset({STOPPED}),
    "pause": frozenset({RUNNING}),
}

#: How long output may keep flowing after the process was reaped (a grandchild holding the pipe).
DRAIN_GRACE = 2.0


class Task:
    """Plain class, not a dataclass: ``dataclasses`` pulls in ``inspect`` and costs the shim ~3 MB."""

    __slots__ = ("attached", "console_fd", "container", "created_at", "exit_code", "finished_at", "id",
                 "kind", "log", "outs", "paused", "pid", "reaped_at", "started_at", "status", "stdin_buf",
                 "stdin_close", "stdin_fd", "terminal", "waiters")

    def __init__(self, id: str, kind: str, container: str, terminal: bool = False) -> None:
        self.id = id
        self.kind = kind  # "container" or "exec"
        self.container = container
        self.terminal = terminal
        self.status = CREATED
        self.pid = 0
        self.exit_code: int | None = None
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        #: output fd -> stream name ("stdout"/"stderr"); a pty master appears once, as "stdout".
        self.outs: dict[int, str] = {}
        self.stdin_fd: int | None = None
        self.stdin_buf = bytearray()
        self.stdin_close = False
        self.console_fd: int | None = None
        self.log = None  # JsonLogWriter for containers; execs are not logged (as docker)
        self.attached: list = []
        self.waiters: list = []
        self.reaped_at: float | None = None
        #: output not being read because an attached client is behind (back-pressure)
        self.paused = False

    def check(self, op: str) -> None:
        if self.status not in ALLOWED[op]:
            what = "container" if self.kind == "container" else "exec"
            raise FailedPrecondition(f"cannot {op} {what} {self.id}: it is {self.status}")

    def mark_running(self) -> None:
        self.check("start")
        self.status = RUNNING
        self.started_at = time.time()

    def reaped(self, exit_code: int) -> None:
        self.exit_code = exit_code
        self.reaped_at = time.monotonic()

    def ready_to_stop(self) -> bool:
        if self.reaped_at is None or self.status == STOPPED or self.paused:
            return False
        return not self.outs or time.monotonic() - self.reaped_at > DRAIN_GRACE

    def drain_deadline(self) -> float | None:
        if self.reaped_at is None or self.status == STOPPED or self.paused:
            return None
        return self.reaped_at + DRAIN_GRACE

    def public(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "pid": self.pid,
            "exit_code": self.exit_code,
            "terminal": self.terminal,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }
