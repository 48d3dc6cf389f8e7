"""``GET /events``: container, image, network and volume events as a stream of JSON objects.

Events are what this daemon did (create, start, die, destroy, pull, tag, …), kept in memory: a
bounded history for ``since`` and one queue per listener.  Containers changed by a daemonless
``dockyard`` command at the same time are not seen here (docker has only one daemon to ask).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any

from aiohttp import web

from dockyard.dockerapi.hijack import prepare_now

HISTORY = 1000


class EventBus:
    def __init__(self) -> None:
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.listeners: set[asyncio.Queue] = set()

    def emit(self, kind: str, action: str, actor_id: str, attributes: dict[str, str] | None = None) -> None:
        now = time.time_ns()
        event = {"Type": kind, "Action": action, "Actor": {"ID": actor_id, "Attributes": attributes or {}},
                 "scope": "local", "time": now // 1_000_000_000, "timeNano": now}
        if kind == "container":  # the pre-1.22 fields, still read by some clients
            event.update(status=action, id=actor_id, **({"from": attributes["image"]}
                                                       if attributes and "image" in attributes else {}))
        self.history.append(event)
        for q in list(self.listeners):
            q.put_nowait(event)


def _matches(event: dict[str, Any], flt: dict[str, list[str]]) -> bool:
    checks = {"type": event["Type"], "event": event["Action"], "container": event["Actor"]["ID"],
              "image": event["Actor"]["Attributes"].get("image", event["Actor"]["ID"])}
    for key, wanted in flt.items():
        if key == "label":
            attrs = event["Actor"]["Attributes"]
            if not all(attrs.get(w.partition("=")[0]) == w.partition("=")[2] if "=" in w else w in attrs
                       for w in wanted):
                return False
        elif key in checks and wanted and not any(checks[key] == w or checks[key].startswith(w) for w in wanted):
            return False
    return True


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        from dockyard.base.clock import parse_rfc3339

        return parse_rfc3339(value)


async def events(request: web.Request) -> web.StreamResponse:
    from dockyard.dockerapi.backend import BACKEND

    with request.app[BACKEND].streaming():
        return await _events(request)


async def _events(request: web.Request) -> web.StreamResponse:
    from dockyard.dockerapi.backend import BACKEND
    from dockyard.dockerapi.errors import filters

    bus: EventBus = request.app[BACKEND].events
    flt = filters(request)
    since, until = _ts(request.query.get("since")), _ts(request.query.get("until"))
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await prepare_now(resp, request)
    queue: asyncio.Queue = asyncio.Queue()
    bus.listeners.add(queue)
    try:
        if since is not None:
            for ev in list(bus.history):
                if ev["timeNano"] / 1e9 >= since and (until is None or ev["timeNano"] / 1e9 <= until) \
                        and _matches(ev, flt):
                    await resp.write(json.dumps(ev).encode() + b"\n")
        while True:
            timeout = None if until is None else until - time.time()
            if timeout is not None and timeout <= 0:
                break
            try:
                ev = await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                break
            if _matches(ev, flt):
                await resp.write(json.dumps(ev).encode() + b"\n")
    finally:
        bus.listeners.discard(queue)
    return resp
