"""The runtime's side of starting a container init: fork it, then answer it until ``ready``.

Two ways to get the init into its namespaces (the init's own side is in init.py):

* direct (no new user namespace, the usual case): the runtime unshares (or joins) the pid
  namespace for its *children* only, forks the init — PID 1 there — and sets its own
  pid-for-children back; the init joins or unshares everything else itself.  One fork.
* through a helper (a new user namespace): every other namespace must be owned by the new user
  namespace, and the runtime must write its id maps in between, so a helper unshares the user
  namespace, waits for the maps, unshares the rest and forks the init.  As runc's nsexec.

Writing a pid into cgroup.procs write-locks the kernel's threadgroup lock, which after a quiet
spell first waits for an RCU grace period (5-25 ms here).  So on the direct path the init is
born in its cgroup v2 dir (clone3 CLONE_INTO_CGROUP: a v2 host's cgroup, a hybrid host's
unified tree) and joins its v1 hierarchies itself, by thread (``tasks`` ← "0", no such lock),
before anything else, then says ``joined``.  Where clone3 cannot be used, the runtime moves it
into its v2 dir only after ``joined``, paying that wait while the init builds its root.
With a cgroup namespace (whose root is fixed when unshared) the init waits for ``go`` after that.
Either way it runs nothing of the container's before ``start``, and create returns only once the
init is in every cgroup.
"""

from __future__ import annotations

import os

from dockyard.runtime import channel, libc
from dockyard.runtime.errors import CreateFailed
from dockyard.runtime.init import Context, direct, helper

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def spawn(ctx: Context, cg: Any) -> int:
    """Fork the init for ``ctx``; return its pid once it is ready (waiting on the exec fifo)."""
    from dockyard.runtime import process

    process.preload(ctx.spec.get("process") or {}, ctx.spec)
    ns = {n["type"]: n.get("path") or "" for n in ctx.linux.get("namespaces") or []}
    parent_ends, child_ends = channel.pair()
    chan = channel.Channel(*parent_ends)
    ctx.chan = channel.Channel(*child_ends)
    init_pid = helper_pid = 0
    try:
        if "user" in ns and not ns["user"]:
            helper_pid = _fork(ctx, parent_ends, helper, ns, pid_ns=False)
            init_pid, early = _through_helper(chan, ctx, cg, helper_pid, cgroupns="cgroup" in ns)
            helper_pid = 0
        else:
            early = []
            init_pid, cloned_into = _fork_joining(ctx, parent_ends, ns, cg)
            if ctx.join_fds:
                _check(chan.recv(), "joined", ctx.cid)
            # Without clone3 (a hybrid host's unified tree): a slow write, while the init builds its root.
            cg.add_rest(init_pid, joined=cloned_into)
            if "cgroup" in ns:
                chan.send("go")  # the init unshares its cgroup namespace only once it is inside
        _answer(chan, ctx, init_pid, early)
        return init_pid
    except BaseException:
        _kill(init_pid, helper_pid)
        raise
    finally:
        for fd in (*parent_ends, *child_ends):
            try:
                os.close(fd)
            except OSError:
                pass


def open_joins(cg: Any) -> tuple[list[int], int]:
    """What a child needs to get into ``cg`` without a cgroup.procs write: its v1 ``tasks`` files
    (opened here: the child may not see them later) and the v2 dir to be born in (-1: none, or
    this process has threads and may not use clone3)."""
    fds: list[int] = []
    try:
        for path in cg.self_join:
            fds.append(os.open(path, os.O_WRONLY | os.O_CLOEXEC))
        into = -1
        if cg.unified and libc.single_threaded():
            into = os.open(cg.unified, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return fds, into


def fork_into(cg: Any, into: int) -> tuple[int, list[str]]:
    """Fork, born in ``cg.unified`` when ``into`` allows it → (pid, the dirs the child is in)."""
    if into >= 0:
        try:
            return libc.fork_into_cgroup(into), [cg.unified]
        except OSError:
            pass  # a kernel before 5.7, or a refusal: fork, and the caller moves the child
    return os.fork(), []


def _fork_joining(ctx: Context, parent_ends: tuple[int, int], ns: dict[str, str], cg: Any
                  ) -> tuple[int, list[str]]:
    """Fork the init directly: born in ``cg.unified`` where clone3 allows it, and joining the
    cgroups in ``cg.self_join`` itself, first thing.  → (pid, the dirs it was born in)."""
    ctx.join_fds, into = open_joins(cg)
    cloned_into: list[str] = []

    def fork() -> int:
        pid, dirs = fork_into(cg, into)
        cloned_into.extend(dirs)
        return pid

    try:
        return _fork(ctx, parent_ends, direct, ns, pid_ns="pid" in ns, fork=fork), cloned_into
    finally:
        for fd in (*ctx.join_fds, into):
            if fd >= 0:
                os.close(fd)


def _fork(ctx: Context, parent_ends: tuple[int, int], child: Any, ns: dict[str, str], *, pid_ns: bool,
          fork: Any = os.fork) -> int:
    own = -1
    if pid_ns:
        own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        if ns["pid"]:
            fd = os.open(ns["pid"], os.O_RDONLY | os.O_CLOEXEC)
            try:
                libc.setns(fd, libc.CLONE_NEWPID)
            finally:
                os.close(fd)
        else:
            libc.unshare(libc.CLONE_NEWPID)
    try:
        pid = fork()
        if pid == 0:
            os.close(parent_ends[0])
            os.close(parent_ends[1])
            child(ctx)
    finally:
        if own >= 0:
            libc.setns(own, libc.CLONE_NEWPID)  # our later children (hooks) stay in our pid ns
            os.close(own)
    os.close(ctx.chan.rfd)
    os.close(ctx.chan.wfd)
    return pid


def _through_helper(chan: channel.Channel, ctx: Context, cg: Any, helper_pid: int, *, cgroupns: bool
                    ) -> tuple[int, list[str]]:
    from dockyard.runtime import namespaces

    if cgroupns:
        cg.add(helper_pid)
    _check(chan.recv(), "userns", ctx.cid)
    namespaces.write_maps(helper_pid, ctx.linux.get("uidMappings") or [], ctx.linux.get("gidMappings") or [])
    chan.send("go")
    early: list[str] = []  # the init shares the pipe and may speak before the helper says its pid
    while not (msg := _check(chan.recv(), None, ctx.cid)).startswith("pid "):
        early.append(msg)
    init_pid = int(msg[4:])
    if not cgroupns:
        cg.add(init_pid)
    os.waitpid(helper_pid, 0)
    return init_pid, early


def _answer(chan: channel.Channel, ctx: Context, init_pid: int, early: list[str]) -> None:
    """Serve the init's requests (prestart/createRuntime hooks) until it is ready."""
    while True:
        msg = early.pop(0) if early else _check(chan.recv(), None, ctx.cid)
        if msg == "ready":
            return
        if msg == "hooks":
            from dockyard.runtime import hooks

            state = {"ociVersion": ctx.spec["ociVersion"], "id": ctx.cid, "status": "created", "pid": init_pid,
                     "bundle": ctx.bundle, "annotations": ctx.spec.get("annotations") or {}}
            hooks.run("prestart", ctx.spec.get("hooks"), state)
            hooks.run("createRuntime", ctx.spec.get("hooks"), state)
            chan.send("go")


def _check(msg: str | None, want: str | None, cid: str) -> str:
    if msg is None:
        raise CreateFailed(f"container {cid!r}: init exited during set-up")
    if msg.startswith("error "):
        raise CreateFailed(f"container {cid!r}: {msg[6:]}")
    if want and msg != want:
        raise CreateFailed(f"container {cid!r}: unexpected message from init: {msg!r}")
    return msg


def _kill(*pids: int) -> None:
    from dockyard.runtime.container import wait_gone

    for pid in pids:
        if pid:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
    for pid in pids:
        wait_gone(pid)
