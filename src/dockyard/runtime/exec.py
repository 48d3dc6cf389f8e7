"""``exec``: run another process inside a running container.

The runtime forks a helper that joins the init's namespaces (``/proc/PID/ns/*``, user first,
mount last) once it is in the container's cgroups (born in the v2 one, joining the v1 ones
itself, as the init does: see spawn.py); the helper forks the process
itself (so it lands inside the pid namespace) and exits.  The new process takes the container's
seccomp filter and the capabilities, user, env and cwd of the given process (``--process``
JSON, or the container's own process with command-line overrides), as runc does.
"""

from __future__ import annotations

import os

from dockyard.runtime import cgroups, channel, libc, namespaces, process
from dockyard.runtime import jsonlite as json
from dockyard.runtime import spawn as spawnmod
from dockyard.runtime import state as statemod
from dockyard.runtime.errors import CreateFailed, WrongState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


def container_spec(st: statemod.State) -> dict[str, Any]:
    with open(os.path.join(st.bundle, "config.json")) as f:
        return json.loads(f.read())


def exec_process(root: str, cid: str, proc: dict[str, Any], *, detach: bool = False,
                 pid_file: str | None = None, console_socket: str | None = None, preserve_fds: int = 0) -> int:
    st = statemod.load(root, cid)
    status = statemod.status(root, st)
    if status not in ("created", "running"):
        raise WrongState(f"container {cid!r}: cannot exec in a {status} container")
    spec = container_spec(st)
    if not detach:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)
    listener = None
    if proc.get("terminal") and not console_socket and not detach:
        from dockyard.runtime.run import _console_listener

        listener, console_socket = _console_listener(root, f"{cid}-exec")
    console_fd = -1
    if console_socket:
        from dockyard.runtime import console

        try:
            console_fd = console.connect(console_socket)
        finally:
            if listener is not None:
                os.unlink(console_socket)
    process.preload(proc, spec)
    target = _spawn(st, spec, proc, console_fd, preserve_fds)
    if pid_file:
        with open(pid_file + ".tmp", "w") as f:
            f.write(str(target))
        os.rename(pid_file + ".tmp", pid_file)
    return 0 if detach else _foreground(target, listener)


def _spawn(st: statemod.State, spec: dict[str, Any], proc: dict[str, Any], console_fd: int,
           preserve_fds: int) -> int:
    """Fork the helper (it joins the namespaces and forks the process); → the process's pid."""
    linux = spec.get("linux") or {}
    kinds = [n["type"] for n in linux.get("namespaces") or []]
    ns_paths = {k: f"/proc/{st.pid}/ns/{namespaces.PROC_NAMES[k]}" for k in kinds}
    cg = cgroups.attach(st.cgroup_path.split(":")).for_joining() if st.cgroup_path else None
    join_fds, into = spawnmod.open_joins(cg) if cg is not None else ([], -1)
    parent_ends, child_ends = channel.pair()
    chan = channel.Channel(*parent_ends)
    try:
        pid, cloned_into = spawnmod.fork_into(cg, into)
    except BaseException:
        for fd in (*join_fds, *parent_ends, *child_ends):
            os.close(fd)
        raise
    finally:
        if into >= 0:
            os.close(into)
    if pid == 0:
        os.close(parent_ends[0])
        os.close(parent_ends[1])
        _helper(channel.Channel(*child_ends), ns_paths, proc, linux.get("seccomp"), console_fd,
                userns="user" in kinds, preserve_fds=preserve_fds, join_fds=join_fds)
    for fd in (*child_ends, *join_fds, *([console_fd] if console_fd >= 0 else [])):
        os.close(fd)
    target = 0
    try:
        if cg is not None:
            cg.add_rest(pid, joined=cloned_into)  # the helper joins the v1 ones itself, before `go`
        chan.send("go")
        # Until EOF: the process's end of the pipe closes on exec, the helper's when it exits.
        while (msg := chan.recv()) is not None:
            if msg.startswith("pid "):
                target = int(msg[4:])
                os.waitpid(pid, 0)
                pid = 0
            elif msg.startswith("error "):
                raise CreateFailed(f"container {st.id!r}: exec failed: {msg[6:]}")
        if not target:
            raise CreateFailed(f"container {st.id!r}: exec failed: helper exited")
        return target
    except BaseException:
        from dockyard.runtime.run import _wait

        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        if target:
            _wait(target)
        raise
    finally:
        os.close(parent_ends[0])
        os.close(parent_ends[1])


def _foreground(target: int, listener: Any) -> int:
    """Forward signals, proxy the pty if we hold it, and return the process's exit code."""
    import _signal

    from dockyard.runtime.run import _wait

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(target, signum)
        except ProcessLookupError:
            pass

    for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT, _signal.SIGUSR1,
                _signal.SIGUSR2, _signal.SIGWINCH):
        _signal.signal(sig, forward)
    if listener is not None:
        from dockyard.runtime import console
        from dockyard.runtime.ptyproxy import proxy

        conn, _ = listener.accept()
        listener.close()
        proxy(console.receive(conn.detach()), target)
    return _wait(target)


def _helper(chan: channel.Channel, ns_paths: dict[str, str], proc: dict[str, Any],
            seccomp_profile: dict[str, Any] | None, console_fd: int, *, userns: bool,
            preserve_fds: int = 0, join_fds: list[int] | tuple[int, ...] = ()) -> NoReturn:
    try:
        for fd in join_fds:
            os.write(fd, b"0")  # into the container's v1 cgroups, by thread (we have only one)
            os.close(fd)
        chan.expect("go")
        namespaces.join(ns_paths)
        pid = os.fork()
        if pid:
            chan.send(f"pid {pid}")
            os._exit(0)
        os.setsid()
        if proc.get("terminal") and console_fd >= 0:
            from dockyard.runtime import console

            console.setup(console_fd, bind_console=False, size=proc.get("consoleSize"))
        process.set_rlimits(proc)
        env = process.environ(proc)
        cwd = proc.get("cwd") or "/"
        process.chdir(cwd)
        path = process.lookup(proc["args"][0], env, cwd)
        process.become(proc, seccomp_profile, setgroups=not userns)
    except BaseException as e:
        from dockyard.runtime.errors import describe

        chan.send("error " + describe(e))
        os._exit(127 if isinstance(e, process.ExecError) and e.code == 127 else 126)
    process.execute(path, proc, env, chan.wfd, preserve_fds=preserve_fds)
