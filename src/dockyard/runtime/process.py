"""The last steps before the container's program runs, shared by the init and ``exec``.

rlimits and oom score (while still privileged) → no_new_privs → seccomp (early only if
no_new_privs is off: loading then needs CAP_SYS_ADMIN) → bounding set → groups/gid/uid with
capabilities kept → the capability sets → umask, cwd → seccomp (late) → execve.  An exec failure
is written to ``errfd`` (close-on-exec, so success reads as EOF) and exits 127 (not found) or 126.
"""

from __future__ import annotations

import os

from dockyard.runtime import capabilities, libc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ExecError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def preload(proc: dict[str, Any], spec: dict[str, Any]) -> None:
    """Import (and dlopen) now whatever the container side will need after pivot_root or setns
    into the container's mount namespace, where neither Python's library nor libseccomp exists.
    The seccomp filter is compiled now too (or found in seccomp's cache), so that what is left
    after ``start`` is only the kernel call."""
    import resource  # noqa: F401 - rlimits

    sc = (spec.get("linux") or {}).get("seccomp")
    if sc:
        from dockyard.runtime import seccomp

        seccomp.lib()
        try:
            seccomp.prepare(sc, seccomp.cache_dir())
        except OSError:
            pass  # seccomp.load builds it then, and reports the failure from the container side
    if proc.get("terminal"):
        import fcntl  # noqa: F401
        import socket  # noqa: F401

        from dockyard.runtime import console  # noqa: F401
    if any((spec.get("hooks") or {}).get(k) for k in ("createContainer", "startContainer")):
        from dockyard.runtime import hooks  # noqa: F401


def environ(proc: dict[str, Any]) -> dict[str, str]:
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in proc.get("env") or [])
    if "HOME" not in env:
        env["HOME"] = _home((proc.get("user") or {}).get("uid", 0))
    return env


def _home(uid: int) -> str:
    try:
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.split(":")
                if len(fields) > 5 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def lookup(arg0: str, env: dict[str, str], cwd: str) -> str:
    """Resolve the program as execvp would, inside the current root; raise ExecError."""
    if "/" in arg0:
        path = arg0 if arg0.startswith("/") else os.path.join(cwd, arg0)
        if not os.path.exists(path):
            raise ExecError(f'exec: "{arg0}": no such file or directory', 127)
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise ExecError(f'exec: "{arg0}": permission denied', 126)
        return path
    for d in (env.get("PATH") or DEFAULT_PATH).split(":"):
        path = os.path.join(d or ".", arg0)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise ExecError(f'exec: "{arg0}": executable file not found in $PATH', 127)


def set_rlimits(proc: dict[str, Any]) -> None:
    import resource

    for rl in proc.get("rlimits") or []:
        resource.setrlimit(getattr(resource, rl["type"]), (rl["soft"], rl["hard"]))


def set_oom_score(proc: dict[str, Any]) -> None:
    if "oomScoreAdj" in proc:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(proc["oomScoreAdj"]))


def become(proc: dict[str, Any], seccomp_profile: dict[str, Any] | None, *, setgroups: bool = True,
           seal_now: bool = True) -> None:
    """Drop to the process's user, capabilities and seccomp filter (everything but exec).

    With ``seal_now=False`` a no_new_privs seccomp filter is left for :func:`seal`, so the init
    can drop privileges before it waits for ``start`` and load the filter just before exec."""
    nnp = bool(proc.get("noNewPrivileges"))
    if nnp:
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
    if seccomp_profile and not nnp:
        from dockyard.runtime import seccomp

        seccomp.load(seccomp_profile)
    caps = proc.get("capabilities")
    user = proc.get("user") or {}
    uid, gid = user.get("uid", 0), user.get("gid", 0)
    libc.prctl(libc.PR_SET_KEEPCAPS, 1)
    if caps is not None:
        capabilities.drop_bounding(capabilities.mask(caps.get("bounding")))
    if setgroups:
        os.setgroups(user.get("additionalGids") or [])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if caps is not None:
        capabilities.apply(caps)
    os.umask(user["umask"] if user.get("umask") is not None else 0o022)
    if seal_now:
        seal(proc, seccomp_profile)


def seal(proc: dict[str, Any], seccomp_profile: dict[str, Any] | None) -> None:
    if seccomp_profile and proc.get("noNewPrivileges"):
        from dockyard.runtime import seccomp

        seccomp.load(seccomp_profile)


def _cloexec_from(first: int) -> None:
    """Only stdio and --preserve-fds pass into the container; whatever else the caller left us
    inheritable is closed at exec, as runc does."""
    try:
        fds: Any = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(first, 1024)
    for fd in fds:
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass


def chdir(cwd: str) -> None:
    try:
        os.chdir(cwd)
    except OSError as e:
        raise ExecError(f"chdir to cwd ({cwd!r}) set in config.json failed: {e.strerror}", 126) from None


def execute(path: str, proc: dict[str, Any], env: dict[str, str], errfd: int, *,
            preserve_fds: int = 0) -> NoReturn:
    import _signal

    _cloexec_from(3 + preserve_fds)
    # Python ignores SIGPIPE and SIGXFSZ; ignored dispositions survive exec, so restore them.
    for sig in (_signal.SIGPIPE, _signal.SIGXFSZ):
        _signal.signal(sig, _signal.SIG_DFL)
    try:
        os.execve(path, proc["args"], env)
    except OSError as e:
        code = 127 if e.errno == 2 else 126
        os.write(errfd, f"error exec: {proc['args'][0]!r}: {e.strerror}\n".encode())
        os._exit(code)
