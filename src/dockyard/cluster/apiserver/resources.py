"""The verbs on stored objects: what kube-apiserver's generic registry does, without HTTP.

For every kind the same steps run, in upstream's order: decode → default → stamp metadata (uid,
creationTimestamp, generation, managedFields) → validate → compare-and-swap in the store.  The
status subresource writes only ``status``; the main resource leaves ``status`` alone for kinds
that have the subresource.  Deletion honours finalizers (``deletionTimestamp`` first, removal when
the last finalizer goes), and — until the controllers issue brings a garbage collector and a
namespace controller — deletes dependents and namespace contents itself, so ``kubectl delete``
returns as it does against a full cluster.  A kind served in a second version (autoscaling/v1
HorizontalPodAutoscaler) is converted to its storage version on the way in and back on the way
out (:meth:`Resources.present`), so every version reads and writes the same stored object.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from dockyard.base.clock import Clock, SystemClock, rfc3339
from dockyard.cluster.api import conversion, defaults, validation, validation_policy
from dockyard.cluster.api.errors import (
    AlreadyExistsError,
    BadRequest,
    ConflictError,
    Invalid,
    NotFoundError,
)
from dockyard.cluster.api.kinds import Kind, Registry
from dockyard.cluster.api.patch.apply import update_managed_fields as _update_managed_fields
from dockyard.cluster.apiserver import crds
from dockyard.cluster.apiserver.codec import Codec
from dockyard.cluster.apiserver.collector import Collector
from dockyard.cluster.store import Event, KeyExists, RevisionConflict, Store

Obj = dict[str, Any]
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": (2000001000, "Used for system critical pods that must not be moved from their "
                                         "current node."),
    "system-cluster-critical": (2000000000, "Used for system critical pods that must run in the cluster, but "
                                            "can be moved to another node if necessary."),
}


class Resources:
    def __init__(self, *, store: Store, registry: Registry, codec: Codec, clock: Clock | None = None) -> None:
        self.store = store
        self.registry = registry
        self.codec = codec
        self.clock = clock or SystemClock()
        self.collector = Collector(self)

    async def bootstrap(self) -> None:
        """Create the namespaces every cluster has, and serve the kinds of stored CRDs."""
        ns = self.registry.lookup("", "v1", "namespaces")
        assert ns is not None
        for name in SYSTEM_NAMESPACES:
            if await self.store.get(ns.key(None, name)) is None:
                try:
                    await self.create(ns, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
                except AlreadyExistsError:
                    pass
        pc = self.registry.lookup("scheduling.k8s.io", "v1", "priorityclasses")
        for name, (value, why) in SYSTEM_PRIORITY_CLASSES.items():  # as kube-apiserver's bootstrap creates
            if pc is not None and await self.store.get(pc.key(None, name)) is None:
                try:
                    await self.create(pc, None, {"metadata": {"name": name}, "value": value, "description": why})
                except AlreadyExistsError:
                    pass
        crd_kind = self.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        assert crd_kind is not None
        items, _, _ = await self.store.list(crd_kind.storage_prefix())
        for kv in items:
            crds.register(self.registry, self.codec.decode(kv))

    # -- reads ----------------------------------------------------------------------------------

    async def get(self, kind: Kind, namespace: str | None, name: str) -> Obj:
        kv = await self.store.get(kind.key(namespace, name))
        if kv is None:
            raise NotFoundError.of(kind.plural, name, kind.group)
        return self.present(kind, self.codec.decode(kv))

    async def get_raw(self, kind: Kind, namespace: str | None, name: str) -> bytes:
        if kind.storage_version:  # stored in another version: converted, so decoded
            return json.dumps(await self.get(kind, namespace, name), separators=(",", ":")).encode()
        kv = await self.store.get(kind.key(namespace, name))
        if kv is None:
            raise NotFoundError.of(kind.plural, name, kind.group)
        return self.codec.raw(kv)

    def _with_type(self, kind: Kind, obj: Obj) -> Obj:
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        return obj

    def present(self, kind: Kind, obj: Obj) -> Obj:
        """A decoded stored object as *kind*'s version shows it (typed, and converted if stored otherwise)."""
        if not kind.storage_version:
            return self._with_type(kind, obj)
        return self._to_served(kind, self._with_type(self._storage_kind(kind), obj))

    def _storage_kind(self, kind: Kind) -> Kind:
        stored = self.registry.lookup(kind.group, kind.storage_version, kind.plural)
        assert stored is not None, f"{kind.plural}.{kind.group}/{kind.storage_version} is not registered"
        return stored

    @staticmethod
    def _to_served(kind: Kind, obj: Obj) -> Obj:
        return conversion.convert(kind.group, kind.kind, obj, from_version=kind.storage_version,
                                  to_version=kind.version)

    @staticmethod
    def _to_stored(kind: Kind, obj: Obj) -> Obj:
        return conversion.convert(kind.group, kind.kind, obj, from_version=kind.version,
                                  to_version=kind.storage_version)

    # -- writes ---------------------------------------------------------------------------------

    def _check_body(self, kind: Kind, namespace: str | None, obj: Obj, name: str | None = None) -> Obj:
        if not isinstance(obj, dict):
            raise BadRequest("the body of the request was in an unknown format")
        api_version, body_kind = obj.get("apiVersion"), obj.get("kind")
        if (api_version and api_version != kind.api_version) or (body_kind and body_kind != kind.kind):
            raise BadRequest(f"the API version in the data ({api_version}) does not match the expected API "
                             f"version ({kind.api_version})" if api_version != kind.api_version else
                             f"the kind in the data ({body_kind}) does not match the expected kind ({kind.kind})")
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequest("metadata: must be an object")
        if kind.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise BadRequest("the namespace of the provided object does not match the namespace sent on "
                                 "the request")
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") not in (None, name):
            raise BadRequest(f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                             f"({name})")
        if name is not None:
            meta["name"] = name
        return self._with_type(kind, obj)

    def _validate(self, kind: Kind, obj: Obj) -> None:
        defaults.apply_defaults(kind.group, kind.kind, obj)
        causes = validation.validate(kind.group, kind.kind, obj, namespaced=kind.namespaced)
        if kind.crd and kind.schema:
            causes += crds.validate_custom(kind, obj)
        if causes:
            name = obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
            raise Invalid.of(kind.kind, name, causes, kind.group)

    async def _require_namespace(self, kind: Kind, namespace: str | None) -> None:
        if kind.namespaced and namespace:
            ns_kind = self.registry.lookup("", "v1", "namespaces")
            assert ns_kind is not None
            kv = await self.store.get(ns_kind.key(None, namespace))
            if kv is None:
                raise NotFoundError.of("namespaces", namespace)
            if b'"deletionTimestamp"' in self.codec.plain(kv):
                raise ConflictError(f'namespace {namespace} is being terminated')

    async def create(self, kind: Kind, namespace: str | None, obj: Obj, *, dry_run: bool = False,
                     manager: str = "") -> Obj:
        obj = self._check_body(kind, namespace, obj)
        if kind.storage_version:  # converted to the stored version, written as that, converted back;
            obj = self._track(kind, None, obj, manager, "Update")  # managedFields name the version written
            return self._to_served(kind, await self.create(self._storage_kind(kind), namespace,
                                                           self._to_stored(kind, obj), dry_run=dry_run))
        meta = obj["metadata"]
        await self._require_namespace(kind, meta.get("namespace"))
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = rfc3339(self.clock.now())
        meta["generation"] = 1
        if kind.status and kind.kind != "CustomResourceDefinition":
            obj["status"] = {}  # status is written through the subresource only (PrepareForCreate)
        self._validate(kind, obj)
        if kind.kind == "CustomResourceDefinition":
            crds.accept(obj)
        obj = self._track(kind, None, obj, manager, "Update")
        meta = obj["metadata"]
        if dry_run:
            meta["resourceVersion"] = ""
            return obj
        try:
            kv = await self.store.create(kind.key(meta.get("namespace"), meta["name"]),
                                         self.codec.encode(kind.key(meta.get("namespace"), meta["name"]), obj))
        except KeyExists:
            raise AlreadyExistsError.of(kind.plural, meta["name"], kind.group) from None
        meta["resourceVersion"] = str(kv.mod_rev)
        if kind.kind == "CustomResourceDefinition":
            crds.register(self.registry, obj)
        return obj

    def _track(self, kind: Kind, old: Obj | None, new: Obj, manager: str, operation: str,
               subresource: str = "") -> Obj:
        """``new`` with managedFields recording *manager*'s write (the patch package owns the rules)."""
        if not manager:
            return new
        return _update_managed_fields(old, new, manager=manager, operation=operation, gvk=kind.gvk,
                                      subresource=subresource or None, schema_node=crds.schema_node(kind))

    async def update(self, kind: Kind, namespace: str | None, name: str, obj: Obj, *, subresource: str = "",
                     dry_run: bool = False, manager: str = "", operation: str = "Update",
                     tracked: bool = False) -> Obj:
        obj = self._check_body(kind, namespace, obj, name)
        if kind.storage_version:
            if not tracked:
                obj = self._track(kind, await self.get(kind, namespace, name), obj, manager, operation, subresource)
            return self._to_served(kind, await self.update(
                self._storage_kind(kind), namespace, name, self._to_stored(kind, obj), subresource=subresource,
                dry_run=dry_run, tracked=True))
        key = kind.key(namespace, name)
        kv = await self.store.get(key)
        if kv is None:
            raise NotFoundError.of(kind.plural, name, kind.group)
        old = self._with_type(kind, self.codec.decode(kv))
        rv = obj["metadata"].get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise ConflictError.modified(kind.plural, name, kind.group)
        new = self._merge_for_update(kind, old, obj, subresource)
        self._validate(kind, new)
        if causes := validation_policy.validate_update(kind.group, kind.kind, old, new):
            raise Invalid.of(kind.kind, name, causes, kind.group)
        if not tracked:
            new = self._track(kind, old, new, manager, operation, subresource)
        if dry_run:
            return new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            deleted = await self.store.delete(key, expected_rev=kv.mod_rev)
            await self._after_delete(kind, old)
            return self._with_type(kind, self.codec.decode(deleted))
        try:
            stored = await self.store.update(key, self.codec.encode(key, new), expected_rev=kv.mod_rev)
        except RevisionConflict:
            raise ConflictError.modified(kind.plural, name, kind.group) from None
        new["metadata"]["resourceVersion"] = str(stored.mod_rev)
        if kind.kind == "CustomResourceDefinition":
            crds.register(self.registry, new)
        return new

    def _merge_for_update(self, kind: Kind, old: Obj, obj: Obj, subresource: str) -> Obj:
        if subresource == "status":
            new = copy.deepcopy(old)
            new["status"] = obj.get("status", {})
            if "metadata" in obj:  # upstream lets status writers change labels/annotations too
                for f in ("labels", "annotations", "finalizers", "ownerReferences"):
                    if f in obj["metadata"]:
                        new["metadata"][f] = obj["metadata"][f]
            return new
        new = obj
        meta, old_meta = new["metadata"], old["metadata"]
        for f in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"):
            if f in old_meta:
                meta[f] = old_meta[f]
            else:
                meta.pop(f, None)
        if kind.status and "status" in old:
            new["status"] = old["status"]
        elif kind.status:
            new.pop("status", None)
        defaults.apply_defaults(kind.group, kind.kind, new)  # so that defaulted fields don't count as changes
        if _spec(old) != _spec(new):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        return new

    async def delete(self, kind: Kind, namespace: str | None, name: str, *, propagation: str = "",
                     grace: int | None = None, precondition_uid: str = "", precondition_rv: str = "",
                     dry_run: bool = False) -> Obj:
        if kind.storage_version:
            return self._to_served(kind, await self.delete(
                self._storage_kind(kind), namespace, name, propagation=propagation, grace=grace,
                precondition_uid=precondition_uid, precondition_rv=precondition_rv, dry_run=dry_run))
        key = kind.key(namespace, name)
        for _ in range(10):
            kv = await self.store.get(key)
            if kv is None:
                raise NotFoundError.of(kind.plural, name, kind.group)
            obj = self._with_type(kind, self.codec.decode(kv))
            meta = obj["metadata"]
            if (precondition_uid and precondition_uid != meta.get("uid")) or (
                    precondition_rv and precondition_rv != meta.get("resourceVersion")):
                raise ConflictError(f'Precondition failed: UID in precondition: {precondition_uid}, UID in '
                                    f'object meta: {meta.get("uid")}')
            finalizers = list(meta.get("finalizers") or [])
            if propagation == "Orphan" and kind.kind != "Namespace":
                await self.collector.orphan(meta.get("uid", ""), namespace)
            if dry_run:
                return obj
            mode = self._graceful(kind, obj, grace)
            if mode == "keep":
                return obj
            if mode == "mark":
                # A pod on a node is stopped by its node agent, which deletes it with grace 0 afterwards.
                seconds = int(grace if grace is not None else obj["spec"].get("terminationGracePeriodSeconds", 30))
                meta["deletionTimestamp"] = rfc3339(self.clock.now() + seconds)
                meta["deletionGracePeriodSeconds"] = seconds
                try:
                    stored = await self.store.update(key, self.codec.encode(key, obj), expected_rev=kv.mod_rev)
                except RevisionConflict:
                    continue
                meta["resourceVersion"] = str(stored.mod_rev)
                return obj
            try:
                if finalizers:
                    if not meta.get("deletionTimestamp"):
                        meta["deletionTimestamp"] = rfc3339(self.clock.now())
                        meta["deletionGracePeriodSeconds"] = 0
                        stored = await self.store.update(key, self.codec.encode(key, obj), expected_rev=kv.mod_rev)
                        meta["resourceVersion"] = str(stored.mod_rev)
                    return obj
                if kind.kind == "Namespace":
                    await self.collector.empty_namespace(name)
                deleted = await self.store.delete(key, expected_rev=kv.mod_rev)
            except RevisionConflict:
                continue  # changed under us: re-read and decide again, as upstream's deleter does
            await self._after_delete(kind, obj)
            out = self._with_type(kind, self.codec.decode(deleted, kv.mod_rev))
            return out
        raise ConflictError.modified(kind.plural, name, kind.group)

    @staticmethod
    def _graceful(kind: Kind, obj: Obj, grace: int | None) -> str:
        """"mark" (set deletionTimestamp), "keep" (already terminating) or "" (delete now).

        Upstream deletes unscheduled pods at once; scheduled ones wait for their node unless grace is 0."""
        if kind.kind != "Pod" or kind.group or not (obj.get("spec") or {}).get("nodeName") or grace == 0:
            return ""
        if obj["metadata"].get("deletionTimestamp"):
            return "keep"
        seconds = grace if grace is not None else (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return "mark" if seconds and seconds > 0 else ""

    async def _after_delete(self, kind: Kind, obj: Obj) -> None:
        if kind.kind == "CustomResourceDefinition":
            for served in crds.unregister(self.registry, obj):
                await self.collector.delete_all(served.storage_prefix())
        uid = obj["metadata"].get("uid", "")
        if uid:
            await self.collector.delete_dependents(kind, uid, obj["metadata"].get("namespace"))

    # -- watch ----------------------------------------------------------------------------------

    def events(self, kind: Kind, namespace: str | None, after_rev: int) -> AsyncIterator[Event]:
        return self.store.watch(kind.storage_prefix(namespace), after_rev=after_rev)


def _spec(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
