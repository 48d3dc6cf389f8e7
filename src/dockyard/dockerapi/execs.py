"""``/containers/{id}/exec`` and ``/exec/{id}/…``: processes started in a running container.

An exec is created (its config kept in memory, as dockerd does), started over a hijacked
connection (or detached), inspected for its exit code, and resized.  A size known before the
process runs — ``ConsoleSize`` in the create or start body, or a resize that arrives before the
process exists (``docker exec -it`` sends one right after attaching) — goes into the process spec
as ``consoleSize``, so the runtime sizes the pty before the command can ask (``stty size``); one
that arrives while the runtime is starting it is applied as soon as it runs.  The process
description comes from :func:`dockyard.engine.execs.exec_process`, as for ``dockyard exec``: we
build it in a worker thread and hand it to the shim's ``exec`` op over an asyncio connection.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dockyard.base.errors import Conflict, DockyardError, InvalidArgument, NotFound
from dockyard.base.ids import new_id
from dockyard.dockerapi import shimio
from dockyard.dockerapi.backend import BACKEND, long_lived
from dockyard.dockerapi.containers import _get, resize_task
from dockyard.dockerapi.errors import check_fields, json_body, qint
from dockyard.dockerapi.hijack import hijack
from dockyard.dockerapi.routing import Routes
from dockyard.dockerapi.streams import frame, pump
from dockyard.engine.execs import exec_process

FIELDS = {"AttachStdin", "AttachStdout", "AttachStderr", "DetachKeys", "Tty", "Env", "Cmd", "Privileged", "User",
          "WorkingDir", "ConsoleSize", "Detach", "Container"}


@dataclass
class Exec:
    id: str
    container: str
    pod: str
    config: dict[str, Any]
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    size: tuple[int, int] | None = None  # (rows, cols) wanted; applied when the process runs
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _table(request: web.Request) -> dict[str, Exec]:
    return request.app[BACKEND].execs


async def create(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    body = await json_body(request)
    check_fields("exec config", body, FIELDS)
    cmd = body.get("Cmd")
    if not cmd or not isinstance(cmd, list):
        raise InvalidArgument("exec config: Cmd is required (a list of strings)")
    if body.get("Privileged"):
        raise InvalidArgument("exec config: Privileged is not supported by dockyard")
    st = await backend.call(lambda e: e.status(rec))
    if not st.running:
        raise Conflict(f"container {rec.id} is not running")
    ex = Exec(new_id(), rec.id, rec.pod, body, size=_console_size(body))
    _table(request)[ex.id] = ex
    backend.events.emit("container", "exec_create", rec.id, {"execID": ex.id, "name": rec.name})
    return web.json_response({"Id": ex.id}, status=201)


def _find(request: web.Request) -> Exec:
    ex = _table(request).get(request.match_info["id"])
    if ex is None:
        raise NotFound(f"No such exec instance: {request.match_info['id']}")
    return ex


def _console_size(body: dict[str, Any]) -> tuple[int, int] | None:
    """``ConsoleSize`` ([height, width]) if it names a size."""
    size = body.get("ConsoleSize")
    if size is None:
        return None
    try:
        rows, cols = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InvalidArgument(f"exec config: ConsoleSize {size!r}: expected [height, width]") from None
    return (rows, cols) if rows > 0 and cols > 0 else None


def _process(engine, cid: str, cfg: dict[str, Any], tty: bool,
             size: tuple[int, int] | None = None) -> dict[str, Any]:
    """The exec's process spec from its docker config, built as ``dockyard exec`` builds it."""
    process = exec_process(engine, cid, cfg["Cmd"], env=cfg.get("Env") or (), user=cfg.get("User"),
                           workdir=cfg.get("WorkingDir"), tty=tty)
    process.pop("consoleSize", None)  # the container's own size is not the exec's
    if tty and size:
        process["consoleSize"] = {"height": size[0], "width": size[1]}
    return process


async def _apply_size(backend, ex: Exec, applied: tuple[int, int] | None) -> None:
    """A resize that came while the runtime was starting the process: apply it now that it runs."""
    if ex.size is None or ex.size == applied:
        return
    try:
        stream = await shimio.request(shimio.socket_path(backend.state_dir, ex.pod), "resize", id=ex.id,
                                      rows=ex.size[0], cols=ex.size[1])
        stream.close()
    except DockyardError:  # it already exited: nothing to size
        pass


@long_lived
async def start(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    ex = _find(request)
    body = await json_body(request, required=False)
    if ex.running or ex.exit_code is not None:
        raise Conflict(f"exec {ex.id}: already started")
    tty = bool(body.get("Tty", ex.config.get("Tty")))
    stdin = bool(ex.config.get("AttachStdin")) and not body.get("Detach")
    ex.size = _console_size(body) or ex.size
    sock = shimio.socket_path(backend.state_dir, ex.pod)
    if body.get("Detach"):
        applied = ex.size
        process = await backend.call(_process, ex.container, ex.config, tty, applied)
        shim = await shimio.request(sock, "exec", id=ex.container, exec_id=ex.id, process=process, stdin=False)
        ex.running, ex.pid = True, int(shim.reply.get("pid") or 0)
        if tty:
            await _apply_size(backend, ex, applied)
        asyncio.get_running_loop().create_task(_drain(ex, shim))
        return web.Response(status=200)
    # Answer 101 before the process exists, as dockerd does: docker-py reads the response head
    # through a buffer, and output arriving in the same segment as the head would be lost.
    client = await hijack(request, tty=tty)
    applied = ex.size
    try:
        process = await backend.call(_process, ex.container, ex.config, tty, applied)
        shim = await shimio.request(sock, "exec", id=ex.container, exec_id=ex.id, process=process, stdin=stdin)
    except DockyardError as e:
        _finish(ex, getattr(e, "exec_failure", 0) or 126)
        await client.write(f"{e}\n".encode() if tty else frame(2, f"{e}\n".encode()))
        await client.close()
        return client.resp
    ex.running, ex.pid = True, int(shim.reply.get("pid") or 0)
    if tty:
        await _apply_size(backend, ex, applied)
    code = await pump(shim, client, tty=tty, stdin=stdin)
    _finish(ex, code)
    await client.close()
    return client.resp


async def _drain(ex: Exec, shim: shimio.ShimStream) -> None:
    code = None
    async for kind, payload in shim.frames():
        if kind == 3:
            msg = json.loads(payload)
            if "exit" in msg:
                code = msg["exit"]
                break
    shim.close()
    _finish(ex, code)


def _finish(ex: Exec, code: int | None) -> None:
    ex.running = False
    ex.exit_code = 255 if code is None else int(code)
    ex.done.set()


async def inspect(request: web.Request) -> web.Response:
    ex = _find(request)
    cfg = ex.config
    return web.json_response({
        "ID": ex.id, "ContainerID": ex.container, "Running": ex.running, "ExitCode": ex.exit_code,
        "Pid": ex.pid, "OpenStdin": bool(cfg.get("AttachStdin")), "OpenStdout": True, "OpenStderr": True,
        "CanRemove": False, "DetachKeys": "",
        "ProcessConfig": {"tty": bool(cfg.get("Tty")), "entrypoint": cfg["Cmd"][0], "arguments": cfg["Cmd"][1:],
                          "privileged": False, "user": cfg.get("User") or ""},
    })


async def resize(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ex = _find(request)
    rows, cols = qint(request, "h", 0), qint(request, "w", 0)
    if rows and cols and ex.exit_code is None:
        ex.size = (rows, cols)  # kept: a process not yet running gets it when it starts
    if ex.running:
        await resize_task(backend, ex.pod, ex.id, request)
    return web.Response(status=200)


def register(routes: Routes) -> None:
    routes.post("/containers/{id}/exec", create)
    routes.post("/exec/{id}/start", start)
    routes.post("/exec/{id}/resize", resize)
    routes.get("/exec/{id}/json", inspect)
