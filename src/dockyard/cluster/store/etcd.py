"""etcd backend: the same Store over etcd v3's JSON gateway, for users who already run an etcd.

etcd already is what :mod:`.store` describes (one revision counter, compare-and-swap through
transactions, watch from a revision, compaction), so this module only translates: keys and values
travel base64-encoded over ``/v3/kv/range``, ``/v3/kv/txn``, ``/v3/kv/compaction`` and the
streaming ``/v3/watch``.  Plain HTTP JSON keeps us free of a gRPC dependency.  Each watcher has its
own etcd watch stream, so history and 410-on-compacted come from etcd itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from dockyard.base.errors import Unavailable
from dockyard.cluster.store.store import (
    Compacted,
    Event,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RevisionConflict,
)


def _b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _prefix_end(prefix: str) -> str:
    raw = bytearray(prefix.encode())
    raw[-1] += 1  # etcd's range_end for "every key with this prefix"
    return _b64(bytes(raw))


def _kv(item: dict[str, Any]) -> KeyValue:
    return KeyValue(
        _unb64(item["key"]).decode(),
        _unb64(item.get("value")),
        int(item.get("create_revision", 0)),
        int(item.get("mod_revision", 0)),
    )


class EtcdStore:
    def __init__(self, endpoint: str, *, history: int = 10_000) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        await self.revision()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self._session is not None, "store not started"
        try:
            async with self._session.post(self.endpoint + path, json=body) as resp:
                data = await resp.json(content_type=None)
        except aiohttp.ClientError as e:
            raise Unavailable(f"etcd at {self.endpoint}: {e}; check that it is running") from e
        if resp.status != 200:
            message = data.get("error") or data.get("message") or str(data)
            if "compacted" in message:
                raise Compacted(f"etcd: {message}")
            raise Unavailable(f"etcd at {self.endpoint}: {message}")
        return data

    async def revision(self) -> int:
        data = await self._call("/v3/kv/range", {"key": _b64("\x00"), "limit": 1, "count_only": True})
        return int(data["header"]["revision"])

    async def get(self, key: str) -> KeyValue | None:
        data = await self._call("/v3/kv/range", {"key": _b64(key)})
        kvs = data.get("kvs") or []
        return _kv(kvs[0]) if kvs else None

    async def count(self, prefix: str) -> int:
        data = await self._call(
            "/v3/kv/range", {"key": _b64(prefix), "range_end": _prefix_end(prefix), "count_only": True}
        )
        return int(data.get("count", 0))

    async def list(
        self, prefix: str, *, start_after: str = "", limit: int = 0, revision: int = 0
    ) -> tuple[list[KeyValue], int, bool]:
        start = start_after + "\x00" if start_after else prefix
        body: dict[str, Any] = {"key": _b64(start), "range_end": _prefix_end(prefix), "limit": limit}
        if revision:
            body["revision"] = revision
        data = await self._call("/v3/kv/range", body)
        items = [_kv(i) for i in data.get("kvs") or []]
        return items, int(revision or data["header"]["revision"]), bool(data.get("more"))

    async def _txn(self, key: str, compare: dict[str, Any], success: dict[str, Any]) -> dict[str, Any]:
        return await self._call(
            "/v3/kv/txn",
            {"compare": [{"key": _b64(key), **compare}], "success": [success],
             "failure": [{"request_range": {"key": _b64(key)}}]},
        )

    async def create(self, key: str, value: bytes) -> KeyValue:
        data = await self._txn(
            key, {"target": "CREATE", "result": "EQUAL", "create_revision": 0},
            {"request_put": {"key": _b64(key), "value": _b64(value)}},
        )
        if not data.get("succeeded"):
            raise KeyExists(f"key {key!r}: already exists")
        rev = int(data["header"]["revision"])
        return KeyValue(key, value, rev, rev)

    async def update(self, key: str, value: bytes, *, expected_rev: int = 0) -> KeyValue:
        compare = (
            {"target": "MOD", "result": "EQUAL", "mod_revision": expected_rev}
            if expected_rev else {"target": "CREATE", "result": "GREATER", "create_revision": 0}
        )
        data = await self._txn(key, compare, {"request_put": {"key": _b64(key), "value": _b64(value), "prev_kv": True}})
        if not data.get("succeeded"):
            current = self._failure_kv(data, key)
            raise RevisionConflict(
                f"key {key!r}: modified at revision {current.mod_rev}, not {expected_rev}", current=current
            )
        prev = _kv(data["responses"][0]["response_put"]["prev_kv"])
        return KeyValue(key, value, prev.create_rev, int(data["header"]["revision"]))

    async def delete(self, key: str, *, expected_rev: int = 0) -> KeyValue:
        compare = (
            {"target": "MOD", "result": "EQUAL", "mod_revision": expected_rev}
            if expected_rev else {"target": "CREATE", "result": "GREATER", "create_revision": 0}
        )
        data = await self._txn(key, compare, {"request_delete_range": {"key": _b64(key), "prev_kv": True}})
        if not data.get("succeeded"):
            current = self._failure_kv(data, key)
            raise RevisionConflict(f"key {key!r}: modified at revision {current.mod_rev}, not {expected_rev}",
                                   current=current)
        prev = _kv(data["responses"][0]["response_delete_range"]["prev_kvs"][0])
        return KeyValue(key, prev.value, prev.create_rev, int(data["header"]["revision"]))

    @staticmethod
    def _failure_kv(data: dict[str, Any], key: str) -> KeyValue:
        kvs = data["responses"][0]["response_range"].get("kvs") or []
        if not kvs:
            raise KeyNotFound(f"key {key!r}: not found")
        return _kv(kvs[0])

    async def watch(self, prefix: str, *, after_rev: int) -> AsyncIterator[Event]:
        assert self._session is not None, "store not started"
        request = {"create_request": {"key": _b64(prefix), "range_end": _prefix_end(prefix),
                                      "start_revision": after_rev + 1, "prev_kv": True}}
        async with self._session.post(self.endpoint + "/v3/watch", json=request) as resp:
            buffer = b""
            async for chunk in resp.content.iter_any():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    for event in self._events(json.loads(line)):
                        yield event

    @staticmethod
    def _events(message: dict[str, Any]) -> list[Event]:
        result = message.get("result", {})
        if int(result.get("compact_revision", 0) or 0):
            raise Compacted("etcd: required revision has been compacted",
                            compact_rev=int(result["compact_revision"]))
        out = []
        for ev in result.get("events") or []:
            kv = _kv(ev["kv"])
            if ev.get("type") == "DELETE":
                prev = _kv(ev.get("prev_kv") or ev["kv"])
                out.append(Event("DELETED", kv.key, prev.value, kv.mod_rev, prev.create_rev))
            else:
                kind = "ADDED" if kv.create_rev == kv.mod_rev else "MODIFIED"
                prev_kv = ev.get("prev_kv")
                out.append(Event(kind, kv.key, kv.value, kv.mod_rev, kv.create_rev,
                                 _unb64(prev_kv.get("value")) if prev_kv else None))
        return out

    async def compact(self, revision: int) -> None:
        await self._call("/v3/kv/compaction", {"revision": revision, "physical": True})
