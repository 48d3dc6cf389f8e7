"""``GET /containers/{id}/stats``: cgroup figures in Docker's JSON shape, one-shot or streamed.

The CLI computes CPU % as Δ container CPU time / Δ host CPU time * online CPUs, so each sample
carries ``precpu_stats`` (the previous sample) and ``system_cpu_usage`` (host time from
/proc/stat, in nanoseconds).  Streaming sends one sample a second until the client leaves or the
container stops.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

from aiohttp import web

from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import qbool
from dockyard.dockerapi.hijack import prepare_now

_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _system_cpu_ns() -> int:
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]
    return sum(int(x) for x in fields) * _TICK_NS


def _host_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _sample(engine, rec) -> dict[str, Any]:
    from dockyard.engine import views
    from dockyard.engine.stats import UNLIMITED

    s = views.sample(engine, rec)
    limit = s.memory_limit if 0 < s.memory_limit < UNLIMITED else _host_memory()
    return {
        "read": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z",
        "pids_stats": {"current": s.pids},
        "cpu_stats": {"cpu_usage": {"total_usage": s.cpu_ns, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                      "system_cpu_usage": _system_cpu_ns(), "online_cpus": os.cpu_count() or 1,
                      "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}},
        "memory_stats": {"usage": s.memory, "limit": limit, "stats": {}},
        "blkio_stats": {}, "networks": {},
    }


async def stats(request: web.Request) -> web.StreamResponse:
    from dockyard.dockerapi.containers import _get

    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    stream, one_shot = qbool(request, "stream", True), qbool(request, "one-shot")
    empty = {"cpu_usage": {"total_usage": 0}, "system_cpu_usage": 0, "online_cpus": os.cpu_count() or 1,
             "throttling_data": {}}
    prev = await backend.call(_sample, rec)
    if not stream and not one_shot:
        await asyncio.sleep(0.5)  # a second sample, so that CPU % can be computed from one answer
    elif not stream:
        doc = dict(prev, precpu_stats=empty, name=f"/{rec.name}", id=rec.id, preread="0001-01-01T00:00:00Z")
        return web.json_response(doc)
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await prepare_now(resp, request)
    with backend.streaming():
        await _stream(backend, rec, resp, prev, stream=stream)
    await resp.write_eof()
    return resp


async def _stream(backend, rec, resp: web.StreamResponse, prev: dict[str, Any], *, stream: bool) -> None:
    while True:
        cur = await backend.call(_sample, rec)
        doc = dict(cur, precpu_stats=prev["cpu_stats"], preread=prev["read"], name=f"/{rec.name}", id=rec.id)
        await resp.write(json.dumps(doc).encode() + b"\n")
        if not stream:
            break
        prev = cur
        await asyncio.sleep(1.0)
        if not (await backend.call(lambda e: e.status(rec))).running:
            break
