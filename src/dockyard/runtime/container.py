"""The container lifecycle as runc exposes it: create → start → (kill) → delete, and run.

``create`` validates the bundle, makes the state dir and exec fifo, creates the cgroup, and has
spawn.py fork the init and answer it (id maps, prestart/createRuntime hooks) until it reports
``ready``; then it writes state.json and the pid file and returns, leaving the init blocked on
the fifo.  Any failure undoes everything: the init is killed, the
cgroup removed, the state dir deleted — a failed create leaves nothing behind.
"""

from __future__ import annotations

import os
import time

from dockyard.runtime import cgroups
from dockyard.runtime import spec as specmod
from dockyard.runtime import state as statemod
from dockyard.runtime.errors import ContainerExists, SpecError, WrongState
from dockyard.runtime.init import Context
from dockyard.runtime.spawn import spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def create(root: str, cid: str, bundle: str, *, pid_file: str | None = None, console_socket: str | None = None,
           no_pivot: bool = False, preserve_fds: int = 0) -> statemod.State:
    bundle = os.path.abspath(bundle)
    spec = specmod.load(bundle)
    rootfs = specmod.rootfs(spec, bundle)
    terminal = bool((spec.get("process") or {}).get("terminal"))
    if terminal != bool(console_socket):
        raise SpecError("config.json: process.terminal is true: a terminal needs --console-socket (or run "
                        "in the foreground)" if terminal else
                        "--console-socket given, but config.json: process.terminal is false")
    cdir = statemod.container_dir(root, cid)
    os.makedirs(root, mode=0o711, exist_ok=True)
    try:
        os.mkdir(cdir, 0o711)
    except FileExistsError:
        raise ContainerExists(f"container {cid!r}: already exists in {root}; delete it first") from None
    cg = None
    init_pid = 0
    fds: list[int] = []
    try:
        fifo = os.path.join(cdir, "exec.fifo")
        os.mkfifo(fifo, 0o622)
        os.chmod(fifo, 0o622)  # despite the umask: a user-namespaced init is "other" to us
        linux = spec.get("linux") or {}
        cg = cgroups.create(linux.get("cgroupsPath") or "", cid, linux.get("resources") or {})
        console_fd = -1
        if console_socket:
            from dockyard.runtime import console

            console_fd = console.connect(console_socket)
            fds.append(console_fd)
        state_fd = os.open(cdir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        fds.append(state_fd)
        st = statemod.State(id=cid, pid=0, bundle=bundle, rootfs=rootfs, created=statemod.now_rfc3339(),
                            owner="", annotations=spec.get("annotations") or {}, cgroup_path=":".join(cg.dirs),
                            userns=any(n.get("type") == "user" for n in linux.get("namespaces") or []),
                            hooks={k: v for k, v in (spec.get("hooks") or {}).items()
                                   if k in ("poststart", "poststop") and v})
        # Saved before any process exists: if this runtime is killed mid-create, the container
        # shows as stopped and `delete` still finds its cgroup to remove.
        statemod.save(root, st)
        ctx = Context(cid=cid, spec=spec, bundle=bundle, rootfs=rootfs, state_fd=state_fd, console_fd=console_fd,
                      no_pivot=no_pivot, cgroup_dirs=list(cg.dirs), preserve_fds=preserve_fds)
        init_pid = spawn(ctx, cg)
        st.pid, st.start_time = init_pid, statemod.proc_start_time(init_pid)
        statemod.save(root, st)
        if pid_file:
            tmp = pid_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(init_pid))
            os.rename(tmp, os.path.abspath(pid_file))
        return st
    except BaseException:
        _undo(init_pid, cg, cdir)
        raise
    finally:
        for fd in fds:
            os.close(fd)


def wait_gone(pid: int, timeout: float = 5.0) -> None:
    """Wait until ``pid`` is gone (reaping it if it is our child, e.g. under `run`)."""
    if not pid:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            if statemod.proc_start_time(pid) == 0:
                return
        time.sleep(0.002)


def _undo(init_pid: int, cg: Any, cdir: str) -> None:
    if init_pid:
        try:
            os.kill(init_pid, 9)
        except ProcessLookupError:
            pass
        wait_gone(init_pid)
    if cg is not None:
        cg.destroy()
    remove_state_dir(cdir)


def start(root: str, cid: str, st: statemod.State | None = None) -> None:
    """Release the init of ``cid`` (``st``: its state, if the caller has just loaded it)."""
    st = st if st is not None else statemod.load(root, cid)
    status = statemod.status(root, st)
    if status != "created":
        raise WrongState(f"container {cid!r}: cannot start a container in {status} state")
    fifo = os.path.join(statemod.container_dir(root, cid), "exec.fifo")
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _release(fd, st, cid)
    finally:
        os.close(fd)
        os.unlink(fifo)
    _spec_hooks(st, "poststart", {"status": "running"})


def _release(fd: int, st: statemod.State, cid: str) -> None:
    """Our open() let the init's open() return; read its one byte.  A blocking read, not a
    poll-and-sleep loop: this is the hot path, and on a loaded machine every sleep is a lost time
    slice.  EOF means no writer: the init died, or (rarely) has not reached its open() yet."""
    os.set_blocking(fd, True)
    deadline = time.monotonic() + 10
    while not os.read(fd, 1):
        if statemod.proc_start_time(st.pid) != st.start_time:
            raise WrongState(f"container {cid!r}: init exited before start")
        if time.monotonic() > deadline:
            raise WrongState(f"container {cid!r}: init did not start")
        time.sleep(0.001)


def _spec_hooks(st: statemod.State, kind: str, extra: dict[str, Any]) -> None:
    """Run poststart/poststop hooks as config.json had them at create (warnings only)."""
    hook_spec = st.hooks
    if hook_spec is None:  # a state file from before the hooks were kept in it
        try:
            from dockyard.runtime import jsonlite

            with open(os.path.join(st.bundle, "config.json")) as f:
                hook_spec = jsonlite.loads(f.read()).get("hooks") or {}
        except (OSError, ValueError):
            return
    if hook_spec.get(kind):
        from dockyard.runtime import hooks

        hooks.run_quietly(kind, hook_spec, {**st.public("stopped" if kind == "poststop" else "running"), **extra})


def kill(root: str, cid: str, sig: int, *, all_procs: bool = False) -> None:
    st = statemod.load(root, cid)
    status = statemod.status(root, st)
    if status not in ("created", "running"):
        raise WrongState(f"container {cid!r}: cannot kill a container in {status} state")
    if all_procs and st.cgroup_path:
        cgroups.attach(st.cgroup_path.split(":")).kill(sig)
    else:
        os.kill(st.pid, sig)


def delete(root: str, cid: str, *, force: bool = False) -> None:
    st = statemod.load(root, cid)
    status = statemod.status(root, st)
    if status == "running" and not force:
        raise WrongState(f"container {cid!r}: cannot delete a running container; stop it first or use --force")
    if status != "stopped":
        try:
            os.kill(st.pid, 9)
        except ProcessLookupError:
            pass
        wait_gone(st.pid)
    if st.cgroup_path:
        cgroups.attach(st.cgroup_path.split(":")).destroy()
    _spec_hooks(st, "poststop", {})
    remove_state_dir(statemod.container_dir(root, cid))


def remove_state_dir(cdir: str) -> None:
    """The state dir holds only flat files (state.json, exec.fifo): no shutil needed."""
    try:
        names = os.listdir(cdir)
    except FileNotFoundError:
        return
    for name in names:
        try:
            os.unlink(os.path.join(cdir, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(cdir)
    except FileNotFoundError:
        pass
