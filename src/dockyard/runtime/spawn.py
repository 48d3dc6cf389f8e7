"""The runtime's side of starting a container init: fork it, then answer it until ``ready``.

Two ways to get the init into its namespaces (the init's own side is in init.py):

* direct (no new user namespace, the usual case): the runtime unshares (or joins) the pid
  namespace for its *children* only, forks the init — PID 1 there — and sets its own
  pid-for-children back; the init joins or unshares everything else itself.  One fork.
* through a helper (a new user namespace): every other namespace must be owned by the new user
  namespace, and the runtime must write its id maps in between, so a helper unshares the user
  namespace, waits for the maps, unshares the rest and forks the init.  As runc's nsexec.

Joining v1 cgroups costs milliseconds of kernel waiting per process, so without a cgroup
namespace (whose root is fixed when unshared) the init is attached while it builds its root, in
parallel; it runs nothing of the container's before ``start`` either way.
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
            init_pid = _fork(ctx, parent_ends, direct, ns, pid_ns="pid" in ns)
            cg.add(init_pid)
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


def _fork(ctx: Context, parent_ends: tuple[int, int], child: Any, ns: dict[str, str], *, pid_ns: bool) -> int:
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
        pid = os.fork()
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
