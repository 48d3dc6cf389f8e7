"""Driving the low-level runtime (dockyard-runc, runc or crun) through runc's command line.

The shim drives every runtime the same way: every runtime speaks the same verbs (``create --bundle
--pid-file [--console-socket]``, ``start``, ``kill``, ``delete``, ``exec --process``), so the
shim spawns the binary and reads back its exit status and its error, which runc-compatible
runtimes write as JSON lines to the file named by ``--log`` (``--log-format json``).

Processes are spawned with ``os.posix_spawn`` (not ``subprocess``) to keep the shim's imports,
and so its resident memory, small.  Our own ``dockyard-runc`` runs in a fork of the shim instead
(:mod:`.inproc`): same command line, same log file, no second interpreter start; deleting a
container that has exited, and starting one, need not even the fork.
"""

from __future__ import annotations

import os

from dockyard.base.errors import Internal, InvalidArgument, NotFound, Unavailable
from dockyard.engine.shim import inproc
from dockyard.runtime import jsonlite as json


class RuntimeFailed(Internal):
    """The runtime binary failed; ``exec_failure`` is 126/127 when the process could not be run."""

    def __init__(self, message: str, *, exec_failure: int = 0) -> None:
        super().__init__(message)
        self.exec_failure = exec_failure


def exec_failure_code(message: str) -> int:
    """Docker's convention: 127 when the command is not found, 126 when it cannot be run."""
    low = message.lower()
    if "exec" not in low:
        return 0  # some other failure (rlimits, mounts…): an engine error, not the command's
    if "not found" in low or "no such file" in low:
        return 127
    if any(s in low for s in ("permission denied", "not permitted", "exec format error", "is a directory")):
        return 126
    return 0


class RuntimeCLI:
    def __init__(self, argv: list[str], workdir: str) -> None:
        self.argv = list(argv)
        self.workdir = workdir
        # Our own runtime runs in a fork of the shim: no second interpreter start per verb.
        self.inproc_args = None if os.environ.get("DOCKYARD_SHIM_EXEC") else inproc.runtime_args(self.argv)

    def warm(self) -> None:
        """Import an in-process runtime now (the shim is idle until the engine's first request)."""
        if self.inproc_args is not None:
            try:
                inproc.preload()
            except ImportError:
                self.inproc_args = None  # exec it instead: its failure will then be reported

    def create(self, cid: str, bundle: str, pid_file: str, stdio: tuple[int, int, int],
               console_socket: str | None = None) -> None:
        args = ["create", "--bundle", bundle, "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        self.run([*args, cid], stdio=stdio, what=f"create container {cid}")

    def start(self, cid: str) -> None:
        what = f"start container {cid}"
        if self.inproc_args is not None:
            try:
                if inproc.start_here(self.inproc_args, cid):
                    return
            except Exception as e:
                raise _error(what, _describe(e)) from None
        self.run(["start", cid], what=what)

    def kill(self, cid: str, signal: int, *, all_: bool = False) -> None:
        self.run(["kill", *(["--all"] if all_ else []), cid, str(signal)], what=f"kill container {cid}")

    def delete(self, cid: str, *, force: bool = False) -> None:
        what = f"delete container {cid}"
        if self.inproc_args is not None and not force:
            try:
                if inproc.delete_stopped(self.inproc_args, cid):
                    return
            except Exception as e:
                raise _error(what, _describe(e)) from None
        self.run(["delete", *(["--force"] if force else []), cid], what=what)

    def exec(self, cid: str, process_file: str, pid_file: str, stdio: tuple[int, int, int],
             console_socket: str | None = None) -> None:
        args = ["exec", "--detach", "--process", process_file, "--pid-file", pid_file]
        if console_socket:
            args += ["--console-socket", console_socket]
        self.run([*args, cid], stdio=stdio, what=f"exec in container {cid}")

    def run(self, args: list[str], *, what: str, stdio: tuple[int, int, int] | None = None) -> None:
        log = os.path.join(self.workdir, f".runtime-{os.getpid()}-{args[0]}.log")
        extra = ["--log", log, "--log-format", "json", *args]
        argv = [*self.argv, *extra]
        err_r, err_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        fds = stdio if stdio is not None else (null, null, err_w)
        actions = [(os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(fds)]
        try:
            try:
                if self.inproc_args is not None:
                    pid = inproc.spawn(argv[0], [*self.inproc_args, *extra], fds)
                else:
                    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
            except OSError as e:
                raise Unavailable(f"runtime {argv[0]!r}: cannot run it ({e.strerror})") from e
            os.close(err_w)
            err_w = -1
            stderr = _read_all(err_r) if stdio is None else b""
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                raise _error(what, _last_error(log) or stderr.decode(errors="replace").strip()
                             or f"exit status {code}")
        finally:
            for fd in (err_r, err_w, null):
                if fd >= 0:
                    os.close(fd)
            try:
                os.unlink(log)
            except FileNotFoundError:
                pass


def _describe(e: Exception) -> str:
    """An in-process runtime verb's error, worded as the runtime would log it."""
    from dockyard.runtime.errors import describe

    return describe(e)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _last_error(log: str) -> str:
    try:
        with open(log, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    messages = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            if line.strip():
                messages.append(line.strip())
            continue
        if isinstance(rec, dict) and rec.get("level") in ("error", "fatal"):
            messages.append(str(rec.get("msg", "")).strip())
    return messages[-1] if messages else ""


def _error(what: str, message: str) -> Exception:
    message = " ".join(message.split())
    low = message.lower()
    if "does not exist" in low or ("not found" in low and "container" in low and "exec" not in low):
        return NotFound(f"{what}: {message}")
    if "invalid" in low and "exec" not in low:
        return InvalidArgument(f"{what}: {message}")
    return RuntimeFailed(f"{what}: {message}", exec_failure=exec_failure_code(message))
