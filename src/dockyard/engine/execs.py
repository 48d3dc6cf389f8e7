"""``exec``: a new process in a running container, run by the shim through the runtime.

The process description is the container's own ``process`` from config.json (capabilities,
rlimits, no_new_privs, seccomp stays the container's) with the caller's args, extra env, user,
working directory and terminal.  The returned socket is an attach stream ending in the exit code.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from dockyard.base.errors import Conflict
from dockyard.base.ids import new_id
from dockyard.engine.options import merge_env

# Re-exported: how a failed exec maps to docker's 126/127 is the shim's rule; layers above the
# engine (the CLI's remote verbs) take it from here, since only the engine imports the shim.
from dockyard.engine.shim.runtime import exec_failure_code as exec_failure_code
from dockyard.engine.spec import resolve_user


def exec_process(engine, cid: str, args: Sequence[str], *, env: Iterable[str] = (), user: str | None = None,
                 workdir: str | None = None, tty: bool = False) -> dict[str, Any]:
    """The OCI process spec for an exec in container *cid*: the container's own ``process``
    with *args*, *env* merged over its environment, *user* (resolved in its rootfs), *workdir*
    and a terminal if *tty* (``TERM=xterm`` unless set).  ``dockyard exec`` and the docker API's
    exec both build theirs here, so the two cannot drift apart."""
    spec = json.loads((engine.bundle(cid) / "config.json").read_text())
    process = dict(spec["process"])
    process["args"] = list(args)
    process["terminal"] = tty
    process["env"] = merge_env(process.get("env", []), list(env))
    if tty and not any(e.startswith("TERM=") for e in process["env"]):
        process["env"].append("TERM=xterm")
    if user:
        process["user"] = resolve_user(user, engine.bundle(cid) / "rootfs")
    if workdir:
        process["cwd"] = workdir
    return process


def exec_(engine, rec, args: list[str], *, env: list[str] = (), user: str | None = None,
          workdir: str | None = None, tty: bool = False, stdin: bool = False) -> socket.socket:
    st = engine.status(rec)
    if not st.running:
        raise Conflict(f'container "{rec.name}": is not running ({st.status}); start it first')
    process = exec_process(engine, rec.id, args, env=env, user=user, workdir=workdir, tty=tty)
    sock, _ = engine.shim(rec).request("exec", id=rec.id, exec_id=new_id(), process=process,
                                       stdin=stdin, timeout=None)
    return sock
