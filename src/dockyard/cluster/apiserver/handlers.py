"""HTTP verbs on resources: get, list, create, update, patch, delete, deletecollection, scale.

Each handler reads the request (:mod:`.request`), calls :class:`Resources`, and writes JSON —
or a Table when kubectl asks for one.  Watches are handed to :mod:`.watch`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from dockyard.cluster.api.errors import BadRequest, ConflictError, MethodNotAllowed, NotFoundError
from dockyard.cluster.api.kinds import Kind
from dockyard.cluster.apiserver import patching, tables, validation_strict
from dockyard.cluster.apiserver.auth import Authorizer
from dockyard.cluster.apiserver.listing import Selection, list_page
from dockyard.cluster.apiserver.request import (
    Target,
    dry_run,
    flag,
    manager,
    read_body,
    wants_table,
)
from dockyard.cluster.apiserver.resources import Resources

Obj = dict[str, Any]
#: Objects per store read when streaming a full list.
STREAM_PAGE = 500


def respond(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Compact JSON ending in a newline, byte for byte what kube-apiserver's encoder writes.
    return web.Response(body=json.dumps(obj, separators=(",", ":")).encode() + b"\n", status=status,
                        content_type="application/json", headers=headers)


class Handlers:
    def __init__(self, resources: Resources, authorizer: Authorizer) -> None:
        self.r = resources
        self.authorizer = authorizer

    async def dispatch(self, request: web.Request, t: Target) -> web.StreamResponse:
        assert t.kind is not None
        method = request.method
        if t.kind.review:
            if method != "POST" or t.name:
                raise MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")
            return await self.review(request, t)
        if t.subresource == "scale" and t.kind.scale:
            return await self.scale(request, t)
        if t.subresource and t.subresource != "status":
            raise NotFoundError("the server could not find the requested resource")
        if t.name is None:
            if method == "GET":
                if flag(request, "watch"):
                    from dockyard.cluster.apiserver.watch import serve_watch

                    return await serve_watch(request, self.r, t)
                return await self.list(request, t)
            if method == "POST":
                return await self.create(request, t)
            if method == "DELETE":
                return await self.delete_collection(request, t)
        else:
            if method == "GET":
                return await self.get(request, t)
            if method == "PUT":
                return await self.update(request, t)
            if method == "PATCH":
                return await self.patch(request, t)
            if method == "DELETE":
                return await self.delete(request, t)
        raise MethodNotAllowed(f"the server does not allow this method on the requested resource ({method})")

    async def review(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind is not None
        body = await read_body(request)
        if not isinstance(body, dict):
            raise BadRequest("the body of the request must be an object")
        body.setdefault("metadata", {})
        body["apiVersion"], body["kind"] = t.kind.api_version, t.kind.kind
        user = request["user"]
        if t.kind.kind == "SelfSubjectReview":
            info: Obj = {"username": user.name, "groups": list(user.groups)}
            if user.uid:
                info["uid"] = user.uid
            return respond({**body, "status": {"userInfo": info}}, 201)
        return respond(await self.authorizer.review(user, body), 201)

    def _out(self, request: web.Request, kind: Kind, obj: Obj, status: int = 200,
             warnings: list[str] | None = None) -> web.Response:
        if wants_table(request):
            obj = tables.to_table(kind, [obj], now=self.r.clock.now(), include_object=request.query.get("includeObject", ""))
        resp = respond(obj, status)
        for w in warnings or ():
            # One header per warning, the text a quoted-string (RFC 7234 warn-text), as upstream sends.
            text = w.replace("\\", "\\\\").replace('"', '\\"')
            resp.headers.add("Warning", f'299 - "{text}"')
        return resp

    async def get(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind and t.name
        if not wants_table(request):  # the stored document as is: no decode and re-encode
            return web.Response(body=await self.r.get_raw(t.kind, t.namespace, t.name) + b"\n",
                                content_type="application/json")
        return self._out(request, t.kind, await self.r.get(t.kind, t.namespace, t.name))

    async def list(self, request: web.Request, t: Target) -> web.Response:
        kind = t.kind
        assert kind is not None
        q = request.query
        selection = Selection(kind, q.get("labelSelector", ""), q.get("fieldSelector", ""))
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise BadRequest(f"limit: invalid value {q.get('limit')!r}") from None
        prefix = kind.storage_prefix(t.namespace)
        exact = 0
        if q.get("resourceVersionMatch") == "Exact":
            try:
                exact = int(q.get("resourceVersion") or "")
            except ValueError:
                raise BadRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden "
                                 "for resourceVersion \"\"") from None
        if selection.everything and not limit and not exact and not q.get("continue") and not wants_table(request) \
                and not kind.storage_version:
            return await self._stream_list(request, kind, prefix)
        raw, decoded, rev, token = await list_page(self.r.store, self.r.codec, prefix, selection,
                                                   limit=limit, token=q.get("continue", ""), revision=exact)
        meta: Obj = {"resourceVersion": str(rev)}
        if token:
            meta["continue"] = token
        if wants_table(request) or kind.storage_version:
            objs = [self.r.present(kind, o) for o in
                    (decoded if decoded is not None else [self.r.codec.decode(kv) for kv in raw])]
            if not wants_table(request):  # stored in another version: converted item by item
                return respond({"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": meta,
                                "items": objs})
            return respond(tables.to_table(kind, objs, now=self.r.clock.now(), list_meta=meta,
                                           include_object=q.get("includeObject", "")))
        return web.Response(body=self._list_head(kind, meta) + b",".join(self.r.codec.raw(kv) for kv in raw) + b"]}\n",
                            content_type="application/json")

    @staticmethod
    def _list_head(kind: Kind, meta: Obj) -> bytes:
        head = json.dumps({"kind": kind.list_kind, "apiVersion": kind.api_version, "metadata": meta},
                          separators=(",", ":")).encode()[:-1]
        return head + b',"items":['

    async def _stream_list(self, request: web.Request, kind: Kind, prefix: str) -> web.StreamResponse:
        """A full list, written page by page from one snapshot: memory stays flat however many objects.

        Stored documents are spliced in as they are (see codec): no decode and re-encode per item."""
        items, rev, more = await self.r.store.list(prefix, limit=STREAM_PAGE)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(self._list_head(kind, {"resourceVersion": str(rev)}))
        first = True
        while True:
            if items:
                chunk = b",".join(self.r.codec.raw(kv) for kv in items)
                await resp.write(chunk if first else b"," + chunk)
                first = False
            if not more:
                break
            items, _, more = await self.r.store.list(prefix, start_after=items[-1].key, limit=STREAM_PAGE,
                                                     revision=rev)
        await resp.write(b"]}\n")
        await resp.write_eof()
        return resp

    async def create(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind is not None
        body = await read_body(request)
        warnings = validation_strict.check(request, t.kind, body)
        obj = await self.r.create(t.kind, t.namespace, body, dry_run=dry_run(request), manager=manager(request))
        return self._out(request, t.kind, obj, 201, warnings)

    async def update(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind and t.name
        body = await read_body(request)
        warnings = validation_strict.check(request, t.kind, body)
        obj = await self.r.update(t.kind, t.namespace, t.name, body, subresource=t.subresource,
                                  dry_run=dry_run(request), manager=manager(request))
        return self._out(request, t.kind, obj, 200, warnings)

    async def patch(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind and t.name
        obj, created, warnings = await patching.patch(request, self.r, t)
        return self._out(request, t.kind, obj, 201 if created else 200, warnings)

    async def _delete_options(self, request: web.Request) -> Obj:
        raw = await request.read()
        opts: Obj = json.loads(raw) if raw.strip() else {}
        q = request.query
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "gracePeriodSeconds" in q:
            opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
        if opts.get("orphanDependents") is True:
            opts.setdefault("propagationPolicy", "Orphan")
        policy = opts.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise BadRequest(f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                             '"Foreground", "Background", "Orphan", "nil"')
        return opts

    async def delete(self, request: web.Request, t: Target) -> web.Response:
        assert t.kind and t.name
        opts = await self._delete_options(request)
        pre = opts.get("preconditions") or {}
        obj = await self.r.delete(t.kind, t.namespace, t.name, propagation=opts.get("propagationPolicy") or "",
                                  grace=opts.get("gracePeriodSeconds"), precondition_uid=pre.get("uid") or "",
                                  precondition_rv=pre.get("resourceVersion") or "", dry_run=dry_run(request))
        pending = await self.r.store.get(t.kind.key(t.namespace, t.name)) is not None
        # Upstream answers 202 Accepted when the object is still there (finalizers, graceful pods).
        return self._out(request, t.kind, obj, 202 if pending and not dry_run(request) else 200)

    async def delete_collection(self, request: web.Request, t: Target) -> web.Response:
        kind = t.kind
        assert kind is not None
        opts = await self._delete_options(request)
        selection = Selection(kind, request.query.get("labelSelector", ""), request.query.get("fieldSelector", ""))
        raw, decoded, rev, _ = await list_page(self.r.store, self.r.codec, kind.storage_prefix(t.namespace),
                                               selection, limit=0, token="")
        objs = decoded if decoded is not None else [self.r.codec.decode(kv) for kv in raw]
        items = []
        for o in objs:
            try:
                items.append(await self.r.delete(kind, o["metadata"].get("namespace"), o["metadata"]["name"],
                                                 propagation=opts.get("propagationPolicy") or "",
                                                 dry_run=dry_run(request)))
            except NotFoundError:
                pass
        return respond({"kind": kind.list_kind, "apiVersion": kind.api_version,
                        "metadata": {"resourceVersion": str(rev)}, "items": items})

    async def scale(self, request: web.Request, t: Target) -> web.Response:
        kind = t.kind
        assert kind is not None and kind.scale and t.name
        for _ in range(5):
            obj = await self.r.get(kind, t.namespace, t.name)
            scale = to_scale(kind, obj)
            if request.method == "GET":
                return respond(scale)
            if request.method == "PUT":
                new_scale = await read_body(request)
            elif request.method == "PATCH":
                new_scale = await patching.patch_document(request, scale, ("autoscaling", "v1", "Scale"))
            else:
                raise MethodNotAllowed(f"the server does not allow this method on the requested resource "
                                       f"({request.method})")
            replicas = (new_scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise BadRequest(f"Scale.autoscaling \"{t.name}\" is invalid: spec.replicas: Invalid value: "
                                 f"{replicas}: must be greater than or equal to 0")
            _set_path(obj, kind.scale.spec_replicas, replicas)
            if request.method == "PUT" and (new_scale.get("metadata") or {}).get("resourceVersion") is None:
                obj["metadata"].pop("resourceVersion", None)
            try:
                obj = await self.r.update(kind, t.namespace, t.name, obj, manager=manager(request),
                                          dry_run=dry_run(request), subresource="scale")
            except ConflictError:
                if request.method == "PUT":
                    raise
                continue
            return respond(to_scale(kind, obj))
        raise ConflictError.modified(kind.plural, t.name, kind.group)


def _get_path(obj: Obj, path: str) -> Any:
    cur: Any = obj
    for p in path.strip(".").split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    return cur


def _set_path(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    cur = obj
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value


def to_scale(kind: Kind, obj: Obj) -> Obj:
    assert kind.scale is not None
    meta = obj["metadata"]
    status: Obj = {"replicas": int(_get_path(obj, kind.scale.status_replicas) or 0)}
    if kind.scale.label_selector and kind.crd:
        sel = _get_path(obj, kind.scale.label_selector)
        if sel:
            status["selector"] = sel
    elif not kind.crd:
        sel = (obj.get("spec") or {}).get("selector") or {}
        labels = sel.get("matchLabels") or {} if "matchLabels" in sel or "matchExpressions" in sel else sel
        parts = [f"{k}={v}" for k, v in labels.items()]
        if parts:
            status["selector"] = ",".join(parts)
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": int(_get_path(obj, kind.scale.spec_replicas) or 0)}, "status": status}
