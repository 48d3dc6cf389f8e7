"""Deleting what depends on a deleted object, until the controllers issue brings the real owners.

kube-apiserver leaves this to the garbage collector (ownerReferences, propagation policies) and the
namespace controller (a namespace's contents); with neither running yet, the API server does both
itself, synchronously, so that ``kubectl delete`` (which waits) returns as it does on a full cluster.
Dependents are found by scanning stored bytes for the owner's uid before decoding any object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from dockyard.cluster.api.errors import NotFoundError
from dockyard.cluster.api.kinds import Kind
from dockyard.cluster.store import KeyNotFound, RevisionConflict

if TYPE_CHECKING:
    from dockyard.cluster.apiserver.resources import Resources

Obj = dict[str, Any]
#: Kinds that own nothing in practice: deleting one (thousands, for a node's pods) skips the scan.
NEVER_OWNERS = {"Pod", "Event", "Endpoints", "EndpointSlice", "Lease"}


class Collector:
    def __init__(self, resources: Resources) -> None:
        self.r = resources

    async def delete_all(self, prefix: str) -> None:
        items, _, _ = await self.r.store.list(prefix)
        for kv in items:
            try:
                await self.r.store.delete(kv.key)
            except KeyNotFound:
                pass

    async def empty_namespace(self, namespace: str) -> None:
        for k in self.r.registry.all():
            if k.namespaced:
                await self.delete_all(k.storage_prefix(namespace))

    async def dependents(self, uid: str, namespace: str | None) -> AsyncIterator[tuple[Kind, Obj]]:
        needle = f'"uid":"{uid}"'.encode()
        for k in self.r.registry.all():
            if k.namespaced and not namespace:
                continue
            items, _, _ = await self.r.store.list(k.storage_prefix(namespace))
            for kv in items:
                data = self.r.codec.plain(kv)
                if needle in data and b'"ownerReferences"' in data:
                    obj = self.r.codec.decode(kv)
                    if any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or []):
                        yield k, obj

    async def delete_dependents(self, owner: Kind, uid: str, namespace: str | None) -> None:
        if owner.kind in NEVER_OWNERS and not owner.crd:
            return
        async for k, obj in self.dependents(uid, namespace):
            try:
                await self.r.delete(k, obj["metadata"].get("namespace"), obj["metadata"]["name"])
            except NotFoundError:
                pass

    async def orphan(self, uid: str, namespace: str | None) -> None:
        async for k, obj in self.dependents(uid, namespace):
            refs = [r for r in obj["metadata"]["ownerReferences"] if r.get("uid") != uid]
            obj["metadata"]["ownerReferences"] = refs
            if not refs:
                del obj["metadata"]["ownerReferences"]
            key = k.key(obj["metadata"].get("namespace"), obj["metadata"]["name"])
            try:
                await self.r.store.update(key, self.r.codec.encode(key, obj),
                                        expected_rev=int(obj["metadata"]["resourceVersion"]))
            except (RevisionConflict, KeyNotFound):
                pass
