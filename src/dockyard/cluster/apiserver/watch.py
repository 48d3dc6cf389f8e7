"""Watch streams: newline-delimited JSON events over a chunked response, as kube-apiserver sends.

Without a ``resourceVersion`` (or with ``"0"``) the stream starts with an ``ADDED`` event per
existing object (kubectl ``get -w`` relies on it); with one, it resumes after it, and a version
older than the store's history gets a single ``ERROR`` event carrying a 410 ``Expired`` status.
``allowWatchBookmarks`` adds periodic ``BOOKMARK`` events, ``sendInitialEvents`` ends the initial
burst with the ``k8s.io/initial-events-end`` bookmark, ``timeoutSeconds`` ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import Any

from aiohttp import web

from dockyard.cluster.api.errors import BadRequest, Gone
from dockyard.cluster.api.kinds import Kind
from dockyard.cluster.apiserver import tables
from dockyard.cluster.apiserver.listing import Selection, list_page
from dockyard.cluster.apiserver.request import Target, flag, wants_table
from dockyard.cluster.apiserver.resources import Resources
from dockyard.cluster.store import Compacted

Obj = dict[str, Any]
BOOKMARK_EVERY = 5.0  # seconds; upstream sends one about every minute, more often is harmless
DEFAULT_TIMEOUT = 1800


class _Stream:
    def __init__(self, resp: web.StreamResponse, kind: Kind, r: Resources, table: bool, include: str) -> None:
        self.resp, self.kind, self.r, self.table, self.include = resp, kind, r, table, include
        self.first_table = True

    async def send(self, type_: str, obj: Obj) -> None:
        if self.table and type_ in ("ADDED", "MODIFIED", "DELETED"):
            obj = tables.to_table(self.kind, [obj], now=self.r.clock.now(), include_object=self.include,
                                  headers=self.first_table)
            self.first_table = False
        await self.resp.write(json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n")

    async def bookmark(self, rev: int, initial_end: bool = False) -> None:
        meta: Obj = {"resourceVersion": str(rev)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        await self.resp.write(json.dumps({"type": "BOOKMARK", "object": {
            "kind": self.kind.kind, "apiVersion": self.kind.api_version, "metadata": meta}}).encode() + b"\n")


async def serve_watch(request: web.Request, r: Resources, t: Target) -> web.StreamResponse:
    kind = t.kind
    assert kind is not None
    q = request.query
    selection = Selection(kind, q.get("labelSelector", ""), q.get("fieldSelector", ""))
    try:
        timeout = float(q.get("timeoutSeconds") or DEFAULT_TIMEOUT * (1 + random.random()))
        rv_text = q.get("resourceVersion", "")
        after = int(rv_text) if rv_text not in ("", "0") else None
    except ValueError:
        raise BadRequest(f"resourceVersion: Invalid value: {q.get('resourceVersion')!r}") from None
    initial = flag(request, "sendInitialEvents") or after is None
    resp = web.StreamResponse(headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    await resp.prepare(request)
    stream = _Stream(resp, kind, r, wants_table(request), q.get("includeObject", ""))
    with contextlib.suppress(asyncio.TimeoutError, ConnectionResetError):
        await asyncio.wait_for(_run(stream, r, t, selection, after, initial, flag(request, "allowWatchBookmarks"),
                                    flag(request, "sendInitialEvents")), timeout)
    return resp


async def _run(stream: _Stream, r: Resources, t: Target, selection: Selection, after: int | None,
               initial: bool, bookmarks: bool, initial_end: bool) -> None:
    kind = t.kind
    assert kind is not None
    if initial:
        raw, decoded, rev, _ = await list_page(r.store, r.codec, kind.storage_prefix(t.namespace), selection,
                                               limit=0, token="")
        for obj in decoded if decoded is not None else [r.codec.decode(kv) for kv in raw]:
            await stream.send("ADDED", r.present(kind, obj))
        if initial_end and bookmarks:
            await stream.bookmark(rev, initial_end=True)
        after = rev
    assert after is not None
    last = after
    events = r.events(kind, t.namespace, after).__aiter__()
    pending: asyncio.Task | None = None
    try:
        while True:
            pending = pending or asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=BOOKMARK_EVERY if bookmarks else None)
            if not done:
                await stream.bookmark(last)
                continue
            try:
                ev = pending.result()
            except Compacted as e:
                status = Gone(f"too old resource version: {after} ({e.compact_rev})").status()
                await stream.send("ERROR", status)
                return
            pending = None
            last = ev.rev
            obj = _decode(r, ev)
            type_ = ev.type if selection.everything else _filtered_type(r, selection, ev, obj)
            if type_:
                await stream.send(type_, r.present(kind, obj))
    finally:
        if pending is not None:
            pending.cancel()
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]


def _filtered_type(r: Resources, selection: Selection, ev: Any, obj: Obj) -> str:
    """As the watch cache does: an object entering the selection is ADDED, one leaving it DELETED."""
    now = selection.matches(obj)
    if ev.type != "MODIFIED" or ev.prev_value is None:
        return ev.type if now else ""
    from dockyard.cluster.store import KeyValue

    before = selection.matches(r.codec.decode(KeyValue(ev.key, ev.prev_value, ev.create_rev, ev.rev)))
    if before and now:
        return "MODIFIED"
    return "ADDED" if now else "DELETED" if before else ""


def _decode(r: Resources, ev: Any) -> Obj:
    from dockyard.cluster.store import KeyValue

    return r.codec.decode(KeyValue(ev.key, ev.value, ev.create_rev, ev.rev))

