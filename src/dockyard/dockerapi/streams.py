"""Output and input of a container: ``attach`` (hijacked) and ``logs`` (follow or not).

Attach passes the shim's frames through: the shim already frames output in docker's 8-byte
layout, so without a terminal stdout/stderr frames go to the client untouched, and with one the
payloads go raw.  The shim's control frame carrying the exit code ends the stream.  Input from
the client becomes stdin frames; its end becomes ``close_stdin``.  Logs come from the json-file
log, framed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct

from aiohttp import web

from dockyard.dockerapi import shimio
from dockyard.dockerapi.backend import BACKEND, long_lived
from dockyard.dockerapi.containers import _get
from dockyard.dockerapi.errors import qbool
from dockyard.dockerapi.hijack import Hijacked, hijack, prepare_now
from dockyard.dockerapi.routing import Routes
from dockyard.engine.shim import protocol

HEADER = struct.Struct(">BxxxI")


def frame(stream: int, data: bytes) -> bytes:
    return HEADER.pack(stream, len(data)) + data


async def pump(shim: shimio.ShimStream, client: Hijacked, *, tty: bool, stdin: bool, stdout: bool = True,
               stderr: bool = True) -> int | None:
    """Shuttle bytes both ways until the task exits or either side goes; the exit code if seen."""
    feeder = asyncio.get_running_loop().create_task(_feed(client, shim)) if stdin else None
    code = None
    try:
        async for kind, payload in shim.frames():
            if kind == protocol.CONTROL:
                msg = json.loads(payload)
                if "exit" in msg:
                    code = msg["exit"]
                    break
                continue
            if (kind == protocol.STDOUT and not stdout) or (kind == protocol.STDERR and not stderr):
                continue
            await client.write(payload if tty else frame(kind, payload))
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await feeder
        shim.close()
    return code


async def _feed(client: Hijacked, shim: shimio.ShimStream) -> None:
    while True:
        data = await client.read()
        if not data:
            with contextlib.suppress(ConnectionError):
                await shim.send(protocol.control({"close_stdin": True}))
            return
        await shim.send(protocol.frame(protocol.STDIN, data))


@long_lived
async def attach(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    tty = rec.options.tty
    stdin = qbool(request, "stdin") and rec.options.interactive
    want_logs = qbool(request, "logs")
    if not qbool(request, "stream", True) and not want_logs:
        raise web.HTTPBadRequest(text="attach: stream or logs is required")
    # a stopped container gets a fresh task first, so that output of the next start is not missed
    await backend.call(lambda e: e.ensure_created(rec) if e.status(rec).status in ("exited", "dead") else None)
    shim = None
    if qbool(request, "stream", True):
        shim = await shimio.request(shimio.socket_path(backend.state_dir, rec.pod), "attach", id=rec.id,
                                    stdin=stdin)
    client = await hijack(request, tty=tty)
    backend.events.emit("container", "attach", rec.id, {"image": rec.image, "name": rec.name})
    if want_logs:
        from dockyard.engine import logs as lg

        for line in await backend.call(lambda e: lg.read(e.log_path(rec.id))):
            data = line.text.encode()
            await client.write(data if tty else frame(1 if line.stream == "stdout" else 2, data))
    if shim is not None:
        await pump(shim, client, tty=tty, stdin=stdin, stdout=qbool(request, "stdout", True),
                   stderr=qbool(request, "stderr", True))
    await client.close()
    return client.resp


async def logs(request: web.Request) -> web.StreamResponse:
    from dockyard.engine import logs as lg

    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    out, err = qbool(request, "stdout"), qbool(request, "stderr")
    if not out and not err:
        raise web.HTTPBadRequest(text="logs: you must choose at least one stream (stdout or stderr)")
    tail_text = request.query.get("tail", "all")
    tail = None if tail_text in ("all", "") else int(tail_text) if tail_text.lstrip("-").isdigit() else None
    if tail is not None and tail < 0:
        tail = None
    since = float(request.query["since"]) if request.query.get("since", "0") not in ("", "0") else None
    timestamps, follow = qbool(request, "timestamps"), qbool(request, "follow")
    tty = rec.options.tty
    resp = web.StreamResponse(headers={"Content-Type": "application/vnd.docker.raw-stream" if tty
                                       else "application/vnd.docker.multiplexed-stream"})
    await prepare_now(resp, request)
    path = await backend.call(lambda e: e.log_path(rec.id))

    async def emit(line) -> None:
        if (line.stream == "stdout" and not out) or (line.stream == "stderr" and not err):
            return
        data = (f"{line.time} {line.text}" if timestamps else line.text).encode()
        await resp.write(data if tty else frame(1 if line.stream == "stdout" else 2, data))

    if follow:
        with backend.streaming():
            await _follow(backend, rec, path, emit, tail=tail, since=since)
    else:
        for line in await backend.run(lg.read, path, tail=tail, since=since):
            await emit(line)
    await resp.write_eof()
    return resp


async def _follow(backend, rec, path, emit, *, tail, since) -> None:
    """Everything logged so far, then the live file until the container stops.

    The wait on the shim starts first and the file is read from one handle throughout, so a
    container exiting at any moment loses no line (the shim has written them all by then).
    Rotated files are not followed.
    """
    from dockyard.engine import logs as lg

    sock = shimio.socket_path(backend.state_dir, rec.pod)
    st = await backend.call(lambda e: e.status(rec))
    done = asyncio.get_running_loop().create_task(shimio.wait(sock, rec.id)) if st.running else None
    try:
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed in finally
        except FileNotFoundError:
            return
        with fh:
            head = fh.read()
            *complete, pending = head.split(b"\n")
            lines = [x for x in (lg.parse_line(raw) for raw in complete) if x is not None
                     and (since is None or x.timestamp >= since)]
            for line in lines[len(lines) - tail:] if tail is not None else lines:
                await emit(line)
            while done is not None:
                finished = done.done()
                chunk = fh.read()
                if chunk:
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for raw in complete:
                        line = lg.parse_line(raw)
                        if line is not None:
                            await emit(line)
                    continue
                if finished:
                    return
                await asyncio.wait({done}, timeout=0.1)
    finally:
        if done is not None:
            done.cancel()


def register(routes: Routes) -> None:
    routes.post("/containers/{id}/attach", attach)
    routes.get("/containers/{id}/logs", logs)
