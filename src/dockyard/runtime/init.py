"""The container side of ``create``: the forked helper and the container init.

The runtime forks a *helper*, which joins the namespaces given by path, unshares a new user
namespace (the runtime then writes its id maps), unshares the other new namespaces and forks the
*init* — PID 1 of a new pid namespace — then exits.  The init builds the container's filesystem
(mounts, /dev, pivot_root, masked and read-only paths), sets the hostname and sysctls, hands a
pty master to the console socket, reports ``ready`` and blocks opening ``exec.fifo`` for writing
until ``start`` opens it for reading; then it becomes the container's process (see process.py).

Every failure before ``ready`` goes up the channel as ``error <one line>`` and the process exits,
so the runtime can undo everything; after ``ready`` a failure can only be printed on stderr.
"""

from __future__ import annotations

import os

from dockyard.runtime import mounts, namespaces, process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from dockyard.runtime.channel import Channel


class Context:
    """What the forked side needs.  ``state_fd`` is an O_PATH fd of the state dir: exec.fifo is
    opened relative to it after pivot_root, when the path is no longer reachable."""

    def __init__(self, *, cid: str, spec: dict[str, Any], bundle: str, rootfs: str, state_fd: int,
                 chan: Channel | None = None, console_fd: int = -1, no_pivot: bool = False,
                 cgroup_dirs: list[str] | None = None, preserve_fds: int = 0) -> None:
        self.cid, self.spec, self.bundle, self.rootfs = cid, spec, bundle, rootfs
        self.state_fd, self.chan, self.console_fd = state_fd, chan, console_fd
        self.no_pivot, self.cgroup_dirs = no_pivot, cgroup_dirs or []
        self.preserve_fds = preserve_fds
        self.join_fds: list[int] = []  # v1 ``tasks`` files the direct init writes "0" to (spawn.py)

    @property
    def linux(self) -> dict[str, Any]:
        return self.spec.get("linux") or {}

    @property
    def hooks(self) -> dict[str, Any]:
        return self.spec.get("hooks") or {}


def _fail(chan: Channel, e: BaseException) -> NoReturn:
    from dockyard.runtime.errors import describe

    msg = describe(e)
    if os.environ.get("DOCKYARD_RUNC_DEBUG"):
        import traceback

        traceback.print_exc()
    try:
        chan.send("error " + " ".join(msg.split()))
    finally:
        os._exit(1)


def helper(ctx: Context) -> NoReturn:
    """Runs in the first child: namespaces, then fork the init and exit."""
    try:
        os.chdir(ctx.bundle)  # relative bind-mount sources are relative to the bundle
        ns = {ns["type"]: ns.get("path") or "" for ns in ctx.linux.get("namespaces") or []}
        namespaces.join({k: v for k, v in ns.items() if v})
        if "user" in ns and not ns["user"]:
            namespaces.unshare(["user"])
            ctx.chan.send("userns")
        ctx.chan.expect("go")
        namespaces.unshare([k for k, v in ns.items() if not v and k != "user"])
        pid = os.fork()
        if pid == 0:
            init(ctx)
        ctx.chan.send(f"pid {pid}")
        os._exit(0)
    except BaseException as e:
        _fail(ctx.chan, e)


def direct(ctx: Context) -> NoReturn:
    """Runs as the init when the runtime forked it straight into its pid namespace (no new user
    namespace): join and unshare the other namespaces here, then carry on as the init."""
    try:
        if ctx.join_fds:
            for fd in ctx.join_fds:
                os.write(fd, b"0")  # ourselves, by thread: we have only one
                os.close(fd)
            ctx.chan.send("joined")
        os.chdir(ctx.bundle)  # relative bind-mount sources are relative to the bundle
        ns = {ns["type"]: ns.get("path") or "" for ns in ctx.linux.get("namespaces") or []}
        namespaces.join({k: v for k, v in ns.items() if v and k != "pid"})
        if "cgroup" in ns:
            ctx.chan.expect("go")  # attached to the container's cgroup first
        namespaces.unshare([k for k, v in ns.items() if not v and k not in ("pid", "user")])
    except BaseException as e:
        _fail(ctx.chan, e)
    init(ctx)


def init(ctx: Context) -> NoReturn:
    chan = ctx.chan
    proc = ctx.spec.get("process") or {}
    ns = {ns["type"]: ns.get("path") or "" for ns in ctx.linux.get("namespaces") or []}
    userns = "user" in ns
    try:
        os.setsid()
        if userns:
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        _build_root(ctx, ns, userns)
        _hooks_before_pivot(ctx)
        _enter_root(ctx, ns)
        path, env = _prepare_process(ctx, proc, ns)
        # Privileges go before `ready`, as runc: failures are create's, and once `start` releases
        # the fifo only exec is left (a signal sent right after `start` finds the program).
        process.become(proc, ctx.linux.get("seccomp"), setgroups=not userns or _setgroups_allowed(),
                       seal_now=False)
        chan.send("ready")
    except BaseException as e:
        _fail(chan, e)
    try:
        _wait_for_start(ctx)
        if ctx.hooks.get("startContainer"):
            _run_hook(ctx, "startContainer", "running")
        process.seal(proc, ctx.linux.get("seccomp"))
    except BaseException as e:
        os.write(2, f"dockyard-runc: container {ctx.cid}: {e}\n".encode())
        os._exit(126)
    process.execute(path, proc, env, 2, preserve_fds=ctx.preserve_fds)


def _run_hook(ctx: Context, kind: str, status: str) -> None:
    from dockyard.runtime import hooks

    hooks.run(kind, ctx.hooks, {"ociVersion": ctx.spec["ociVersion"], "id": ctx.cid, "status": status,
                                "pid": os.getpid(), "bundle": ctx.bundle})


def _hooks_before_pivot(ctx: Context) -> None:
    """prestart/createRuntime run in the runtime (we wait for it); createContainer runs here."""
    if ctx.hooks.get("prestart") or ctx.hooks.get("createRuntime"):
        ctx.chan.send("hooks")
        ctx.chan.expect("go")
    if ctx.hooks.get("createContainer"):
        _run_hook(ctx, "createContainer", "created")


def _enter_root(ctx: Context, ns: dict[str, str]) -> None:
    """pivot_root (or chroot without a mount namespace), then what needs the final root."""
    if "mount" not in ns:
        os.chroot(ctx.rootfs)
        os.chdir("/")
        _sysctl(ctx.linux.get("sysctl") or {})
        return
    mounts.pivot(ctx.rootfs, no_pivot=ctx.no_pivot)
    if ctx.linux.get("rootfsPropagation"):
        # After pivot_root: it refuses a shared new root.
        mounts.libc.mount(None, "/", None, mounts.PROPAGATION[ctx.linux["rootfsPropagation"]])
    _sysctl(ctx.linux.get("sysctl") or {})  # before /proc/sys turns read-only
    mounts.readonly(ctx.linux.get("readonlyPaths") or [])
    mounts.mask(ctx.linux.get("maskedPaths") or [])
    if ctx.spec["root"].get("readonly"):
        mounts.readonly_root()


def _prepare_process(ctx: Context, proc: dict[str, Any], ns: dict[str, str]) -> tuple[str, dict[str, str]]:
    """Hostname, console, rlimits, cwd; resolve the program (so a missing one fails create)."""
    if "hostname" in ctx.spec and "uts" in ns:
        mounts.libc.sethostname(ctx.spec["hostname"])
    if proc.get("terminal") and ctx.console_fd >= 0:
        from dockyard.runtime import console

        console.setup(ctx.console_fd, size=proc.get("consoleSize"))
    process.set_rlimits(proc)
    process.set_oom_score(proc)
    env = process.environ(proc)
    cwd = proc.get("cwd") or "/"
    process.chdir(cwd)
    return process.lookup(proc["args"][0], env, cwd), env


def _build_root(ctx: Context, ns: dict[str, str], userns: bool) -> None:
    if "mount" not in ns:
        return  # no mount namespace: chroot into the rootfs, as it is
    mounts.prepare_root(ctx.rootfs, ctx.linux.get("rootfsPropagation"))
    spec_mounts = ctx.spec.get("mounts") or []
    mounts.mount_all(ctx.rootfs, spec_mounts, ctx.cgroup_dirs, userns=userns)
    dev_bound = any((m["destination"].rstrip("/") == "/dev" and "bind" in (m.get("options") or []))
                    or (m.get("type") == "bind" and m["destination"].rstrip("/") == "/dev") for m in spec_mounts)
    if not dev_bound:
        from dockyard.runtime import devices

        devices.populate(ctx.rootfs, ctx.linux.get("devices") or [], bind=userns)


def _sysctl(values: dict[str, str]) -> None:
    for key, value in values.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)


def _setgroups_allowed() -> bool:
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() == "allow"
    except OSError:
        return True


def _wait_for_start(ctx: Context) -> None:
    os.close(ctx.chan.rfd)
    os.close(ctx.chan.wfd)
    fd = os.open("exec.fifo", os.O_WRONLY | os.O_CLOEXEC, dir_fd=ctx.state_fd)  # blocks until `start`
    os.write(fd, b"0")
    os.close(fd)
    os.close(ctx.state_fd)
