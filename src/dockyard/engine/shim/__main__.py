"""``python -m dockyard.engine.shim --pod ID --dir DIR --runtime JSON --ready-fd N``.

Detaches from the engine (the caller made a new session; we fork once more so the shim is no
child of the CLI), becomes the child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``) so orphaned
container processes are re-parented to it, binds the socket, then reports ``ok`` (or the error)
on the ready pipe and serves until its pod is gone.
"""

from __future__ import annotations

import os
import sys

from dockyard.runtime import jsonlite as json

PR_SET_CHILD_SUBREAPER = 36


def _args(argv: list[str]) -> dict[str, str]:
    out = {}
    it = iter(argv)
    for key in it:
        if not key.startswith("--"):
            raise SystemExit(f"shim: unexpected argument {key!r}")
        out[key[2:]] = next(it)
    return out


def _subreaper() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def main(argv: list[str]) -> int:
    args = _args(argv)
    ready = int(args["ready-fd"])
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    os.umask(0o022)
    try:
        from dockyard.engine.shim.runtime import RuntimeCLI
        from dockyard.engine.shim.server import Shim

        shim = Shim(args["pod"], args["dir"], RuntimeCLI(json.loads(args["runtime"]), args["dir"]))
        shim.listen()
        with open(os.path.join(args["dir"], "shim.pid"), "w") as f:
            f.write(str(os.getpid()))
    except Exception as e:
        os.write(ready, f"error: {e}\n".encode())
        return 1
    log = os.open(os.path.join(args["dir"], "shim.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    os.write(ready, b"ok\n")
    os.close(ready)
    # After `ok` (ctypes costs ~1.5 ms to import) but before the first request is read, so before
    # any container process exists.  It cannot fail short of a kernel without subreapers (3.4).
    _subreaper()
    # While the engine finishes the rootfs and bundle, load what the first request will need.
    import dockyard.engine.shim.spawn  # noqa: F401 - op_create's
    shim.runtime.warm()
    shim.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
