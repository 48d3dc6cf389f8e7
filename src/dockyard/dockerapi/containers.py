"""``/containers/…``: create, list, inspect and the lifecycle verbs, in Docker's JSON shapes.

Each handler resolves the container in a worker thread (the engine is synchronous) and answers
with Docker's statuses: 201 on create, 204 on start/stop/kill/restart/remove, 404 for an unknown
container, 409 for a name in use or a container in the wrong state.  Every started container
gets a *watcher* task that waits (on the shim's socket, not a thread) for its exit, emits ``die``
and, for ``AutoRemove``, removes it — what ``docker run --rm``'s wait for ``removed`` relies on.
A terminal is sized at create (``HostConfig.ConsoleSize``), and a resize that comes while the
container is not running is kept for its next start, so ``stty size`` never sees ``0 0``.
The listing itself (summaries, filters) lives in :mod:`.pslist`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from dockyard.base import log
from dockyard.base.errors import DockyardError, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from dockyard.dockerapi import shimio, translate
from dockyard.dockerapi.backend import BACKEND, long_lived
from dockyard.dockerapi.errors import filters, json_body, qbool, qint
from dockyard.dockerapi.hijack import prepare_now
from dockyard.dockerapi.routing import Routes

_log = log.get("dockerapi.containers")


def _find(engine, ref: str):
    """The container *ref* names (worker threads only); docker's 404 wording if none."""
    try:
        return engine.get(ref)
    except NotFound:
        raise NotFound(f"No such container: {ref}") from None


async def _get(backend, ref: str):
    return await backend.call(_find, ref)


# ---- create ----------------------------------------------------------------------------------

async def create(request: web.Request) -> web.Response:
    from dockyard.dockerapi import volumes

    backend = request.app[BACKEND]
    body = await json_body(request)
    name = request.query.get("name") or None
    plan = translate.plan(body, name=name, volume_dir=lambda v: volumes.data_dir(backend.data_root, v))
    plan.options.console_size = _console_size(body)

    def make(engine):
        for vol in plan.volumes:
            volumes.ensure(backend.data_root, vol)
        return backend.create(engine, plan.options)

    rec = await backend.call(make)
    _remember_extras(backend, rec.id, body, plan)
    backend.events.emit("container", "create", rec.id, {"image": plan.options.image, "name": rec.name})
    return web.json_response({"Id": rec.id, "Warnings": plan.warnings}, status=201)


def _console_size(body: dict[str, Any]) -> list[int] | None:
    """``HostConfig.ConsoleSize`` ([height, width], what ``docker run -t`` sends), if it names a size."""
    size = (body.get("HostConfig") or {}).get("ConsoleSize")
    if not isinstance(size, list) or len(size) != 2:
        return None
    try:
        rows, cols = int(size[0]), int(size[1])
    except (TypeError, ValueError):
        raise InvalidArgument(f"HostConfig.ConsoleSize {size!r}: expected [height, width]") from None
    return [rows, cols] if rows > 0 and cols > 0 else None


def _remember_extras(backend, cid: str, body: dict[str, Any], plan: translate.Plan) -> None:
    """What the engine does not store but inspect must show (ports asked for, the NetworkMode)."""
    from dockyard.dockerapi import extras

    extras.save(backend.data_root, cid, {"NetworkMode": plan.network,
                                         "PortBindings": (body.get("HostConfig") or {}).get("PortBindings") or {},
                                         "ExposedPorts": body.get("ExposedPorts") or {},
                                         "StopTimeout": plan.stop_timeout,
                                         "Attach": [body.get("AttachStdin"), body.get("AttachStdout"),
                                                    body.get("AttachStderr")]})


# ---- lifecycle ---------------------------------------------------------------------------------

async def start(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ref = request.match_info["id"]

    def go(engine) -> Any:
        rec = _find(engine, ref)
        st = engine.status(rec)
        if st.running:
            return None
        fresh = st.status == "created"  # created: nothing to ask the shim again
        size = backend.console_sizes.pop(rec.id, None)
        if size and rec.options.tty:  # a resize that came while it was not running: apply it now
            if not fresh:
                fresh = engine.ensure_created(rec).status == "created"
            if fresh:
                engine.shim(rec).call("resize", id=rec.id, rows=size[0], cols=size[1])
        engine.start(rec, fresh=fresh)
        return rec

    # one hop to a worker thread for the lookup, the state and the start
    rec = await backend.call(go)
    if rec is None:
        return web.Response(status=304)
    backend.events.emit("container", "start", rec.id, {"image": rec.image, "name": rec.name})
    watch(backend, rec)
    return web.Response(status=204)


def watch(backend, rec) -> None:
    """One task per running container: emit ``die`` at its exit; remove it if AutoRemove."""
    old = backend.reapers.get(rec.id)
    if old is not None and not old.done():
        return
    backend.reapers[rec.id] = asyncio.get_running_loop().create_task(_watch(backend, rec))


async def _watch(backend, rec) -> None:
    try:
        code = await shimio.wait(shimio.socket_path(backend.state_dir, rec.pod), rec.id)
    except DockyardError:
        return
    except asyncio.CancelledError:
        return
    backend.events.emit("container", "die", rec.id, {"image": rec.image, "name": rec.name, "exitCode": str(code)})
    if rec.options.auto_remove:
        try:
            # it exited (unless the shim had no code for it): release its rootfs during the delete
            await backend.call(lambda e: e.remove(e.get(rec.id), force=True, exited=code != 255))
        except NotFound:
            pass
        except DockyardError as e:
            _log.warning("auto-remove of %s failed: %s", rec.name, e)
            return
        removed(backend, rec)
    # A spare shim for the next create, now that this container is done with: yield first so
    # that a `wait` woken by removed() answers before the spawn (it holds the GIL a moment).
    if not backend.closing:
        await asyncio.sleep(0)
        with contextlib.suppress(RuntimeError):  # the worker pool shut down meanwhile
            await backend.run(backend.refill_spare)


def removed(backend, rec) -> None:
    from dockyard.dockerapi import extras

    extras.drop(backend.data_root, rec.id)
    backend.events.emit("container", "destroy", rec.id, {"image": rec.image, "name": rec.name})
    event = backend.removed.pop(rec.id, None)
    if event is not None:
        event.set()


async def stop(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    timeout = qint(request, "t", qint(request, "timeout", None))
    st = await backend.call(lambda e: e.status(rec))
    if not st.running:
        return web.Response(status=304)
    await backend.call(lambda e: e.stop(rec, timeout=float(10 if timeout is None or timeout < 0 else timeout)))
    backend.events.emit("container", "stop", rec.id, {"image": rec.image, "name": rec.name})
    return web.Response(status=204)


async def kill(request: web.Request) -> web.Response:
    from dockyard.engine.engine import parse_signal

    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    signum = parse_signal(request.query.get("signal") or "KILL")
    await backend.call(lambda e: e.kill(rec, signum))
    backend.events.emit("container", "kill", rec.id, {"image": rec.image, "name": rec.name,
                                                       "signal": str(signum)})
    return web.Response(status=204)


async def restart(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    timeout = qint(request, "t", 10)
    await backend.call(lambda e: e.restart(rec, timeout=float(timeout)))
    backend.events.emit("container", "restart", rec.id, {"image": rec.image, "name": rec.name})
    watch(backend, rec)
    return web.Response(status=204)


@long_lived
async def wait(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    ref = request.match_info["id"]

    def look(engine):
        rec = _find(engine, ref)
        return rec, engine.status(rec)

    rec, st = await backend.call(look)  # one hop to a worker thread for the record and its state
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"wait condition {condition!r}: use not-running, next-exit or removed")
    sock = shimio.socket_path(backend.state_dir, rec.pod)
    if condition == "removed":
        gone = backend.removed.setdefault(rec.id, asyncio.Event())
    # Register with the shim before answering the headers: `docker run` starts the container
    # only once this request is accepted, and must not miss the exit.
    pending = None
    if condition != "not-running" or st.running:
        pending = await shimio.send(sock, "wait", id=rec.id) if st.status != "dead" else None
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await prepare_now(resp, request)
    code = st.exit_code or 0
    if pending is not None:
        try:
            reply = await pending.read_reply()
            code = 255 if reply.get("exit_code") is None else int(reply["exit_code"])
        except DockyardError:
            code = 255
        finally:
            pending.close()
    if condition == "removed":
        await gone.wait()
    await resp.write(_json({"StatusCode": code, "Error": None}))
    await resp.write_eof()
    return resp


def _json(doc: Any) -> bytes:
    import json

    return json.dumps(doc).encode() + b"\n"


async def remove(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    force = qbool(request, "force")
    await backend.call(lambda e: e.remove(rec, force=force))
    backend.console_sizes.pop(rec.id, None)
    task = backend.reapers.pop(rec.id, None)
    if task is not None:
        task.cancel()
    removed(backend, rec)
    return web.Response(status=204)


async def rename(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    new = request.query.get("name") or ""
    await backend.call(lambda e: e.rename(rec, new.lstrip("/")))
    backend.events.emit("container", "rename", rec.id, {"name": new, "oldName": rec.name})
    return web.Response(status=204)


async def resize(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    if not rec.options.tty:
        await resize_task(backend, rec.pod, rec.id, request)
        return web.Response(status=200)
    try:
        await resize_task(backend, rec.pod, rec.id, request)
    except (FailedPrecondition, NotFound, Unavailable):
        # no live task to size yet (exited, or its shim gone): the next start applies it
        rows, cols = qint(request, "h", 0), qint(request, "w", 0)
        if rows and cols:
            backend.console_sizes[rec.id] = (rows, cols)
    return web.Response(status=200)


async def resize_task(backend, pod: str, task_id: str, request: web.Request) -> None:
    rows, cols = qint(request, "h", 0), qint(request, "w", 0)
    if not rows or not cols:
        return
    stream = await shimio.request(shimio.socket_path(backend.state_dir, pod), "resize", id=task_id,
                                  rows=rows, cols=cols)
    stream.close()


async def prune(request: web.Request) -> web.Response:
    from dockyard.dockerapi import pslist

    backend = request.app[BACKEND]
    flt = filters(request)

    def sweep(engine):
        gone = []
        for rec in engine.list(include_sandboxes=False):
            if engine.status(rec).running or not pslist.label_match(rec.options.labels, flt.get("label", [])):
                continue
            engine.remove(rec, force=True)
            gone.append(rec)
        return gone

    gone = await backend.call(sweep)
    for rec in gone:
        removed(backend, rec)
    return web.json_response({"ContainersDeleted": [r.id for r in gone] or None, "SpaceReclaimed": 0})


# ---- reading -------------------------------------------------------------------------------

async def list_docs(backend, *, all_: bool, flt: dict[str, list[str]], limit: int | None = None) -> list[dict]:
    from dockyard.dockerapi import pslist

    return await backend.call(lambda e: pslist.gather(e, backend.data_root, all_=all_, flt=flt, limit=limit))


async def list_(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    docs = await list_docs(backend, all_=qbool(request, "all"), flt=filters(request), limit=qint(request, "limit"))
    return web.json_response(docs)


async def inspect(request: web.Request) -> web.Response:
    from dockyard.dockerapi.inspect import container_doc

    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    doc = await backend.call(lambda e: container_doc(e, rec, backend.data_root))
    return web.json_response(doc)


async def top(request: web.Request) -> web.Response:
    from dockyard.engine import views

    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    st = await backend.call(lambda e: e.status(rec))
    if not st.running:
        from dockyard.base.errors import Conflict

        raise Conflict(f"Container {rec.id} is not running")
    rows = await backend.call(lambda e: views.top(e, rec))
    titles = ["UID", "PID", "PPID", "STAT", "TIME", "CMD"]
    return web.json_response({"Titles": titles, "Processes": [[r[t] for t in titles] for r in rows]})


def register(routes: Routes) -> None:
    from dockyard.dockerapi import stats

    routes.post("/containers/create", create)
    routes.get("/containers/json", list_)
    routes.post("/containers/prune", prune)
    routes.get("/containers/{id}/json", inspect)
    routes.post("/containers/{id}/start", start)
    routes.post("/containers/{id}/stop", stop)
    routes.post("/containers/{id}/kill", kill)
    routes.post("/containers/{id}/restart", restart)
    routes.post("/containers/{id}/wait", wait)
    routes.post("/containers/{id}/rename", rename)
    routes.post("/containers/{id}/resize", resize)
    routes.delete("/containers/{id}", remove)
    routes.get("/containers/{id}/top", top)
    routes.get("/containers/{id}/stats", stats.stats)

