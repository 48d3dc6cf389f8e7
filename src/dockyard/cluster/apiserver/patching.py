"""PATCH: JSON patch, JSON merge patch, strategic merge patch and server-side apply.

The patch algorithms live in :mod:`dockyard.cluster.api.patch` (pure functions); this module picks
one by ``Content-Type``, applies it to the live object and writes the result with
compare-and-swap, retrying on a concurrent write unless the patch itself named a
``resourceVersion`` (then the conflict is the caller's, as upstream).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from dockyard.base.errors import DockyardError
from dockyard.cluster.api.errors import (
    ApiError,
    BadRequest,
    ConflictError,
    NotFoundError,
    UnsupportedMediaType,
)
from dockyard.cluster.apiserver import crds, validation_strict
from dockyard.cluster.apiserver.request import Target, dry_run, flag, manager
from dockyard.cluster.apiserver.resources import Resources

Obj = dict[str, Any]
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY)


def _decode(raw: bytes, ctype: str) -> Any:
    try:
        return yaml.safe_load(raw) if ctype == APPLY else json.loads(raw)
    except (ValueError, yaml.YAMLError) as e:
        raise BadRequest(f"error decoding patch: {str(e).splitlines()[0]}") from None


def _apply(doc: Obj, patch: Any, ctype: str, gvk: tuple[str, str, str], custom: bool) -> Obj:
    from dockyard.cluster.api.patch import json_patch, merge_patch, strategic

    if ctype == JSON_PATCH:
        if not isinstance(patch, list):
            raise BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        return json_patch.apply_json_patch(doc, patch)
    if not isinstance(patch, dict):
        raise BadRequest("the patch body must be a JSON object")
    if ctype == MERGE_PATCH:
        return merge_patch.apply_merge_patch(doc, patch)
    if custom:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{JSON_PATCH}, {MERGE_PATCH}, {APPLY}")
    return strategic.apply_strategic_merge_patch(doc, patch, gvk=gvk)


async def patch_document(request: web.Request, doc: Obj, gvk: tuple[str, str, str]) -> Obj:
    ctype = request.content_type
    if ctype not in TYPES[:3]:
        raise UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media types "
                                   f"include: {', '.join(TYPES)}")
    body = _decode(await request.read(), ctype)
    return _translate(lambda: _apply(doc, body, ctype, gvk, False))


def _translate(fn: Any) -> Any:
    """Run a patch function, turning the patch library's errors into API statuses."""
    try:
        return fn()
    except ApiError:
        raise
    except DockyardError as e:
        conflicts = getattr(e, "conflicts", None)
        if conflicts is not None:
            causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m}", "field": f}
                      for m, f in conflicts]
            raise ConflictError(str(e), details={"causes": causes}) from None
        code = getattr(e, "http_status", 422)
        err = ApiError(str(e), code=code)
        err.reason = {400: "BadRequest", 415: "UnsupportedMediaType", 409: "Conflict"}.get(code, "Invalid")
        raise err from None


async def patch(request: web.Request, r: Resources, t: Target) -> tuple[Obj, bool, list[str]]:
    """The patched object, whether the patch created it (apply), and unknown-field warnings."""
    kind = t.kind
    assert kind is not None and t.name is not None
    ctype = request.content_type
    if ctype not in TYPES:
        raise UnsupportedMediaType(f"the body of the request was in an unknown format - accepted media types "
                                   f"include: {', '.join(TYPES)}")
    body = _decode(await request.read(), ctype)
    if ctype == APPLY:
        return await _server_side_apply(request, r, t, body)
    pinned = ctype != JSON_PATCH and isinstance(body, dict) and \
        bool((body.get("metadata") or {}).get("resourceVersion"))
    for _ in range(10):
        live = await r.get(kind, t.namespace, t.name)
        rv = live["metadata"]["resourceVersion"]
        new = _translate(lambda live=live: _apply(live, body, ctype, kind.gvk, kind.crd))
        warnings = validation_strict.check(request, kind, new)
        if not pinned:
            new.setdefault("metadata", {})["resourceVersion"] = rv
        try:
            obj = await r.update(kind, t.namespace, t.name, new, subresource=t.subresource,
                                 dry_run=dry_run(request), manager=manager(request), operation="Update")
        except ConflictError:
            if pinned:
                raise
            continue
        return obj, False, warnings
    raise ConflictError.modified(kind.plural, t.name, kind.group)


async def _server_side_apply(request: web.Request, r: Resources, t: Target,
                             applied: Any) -> tuple[Obj, bool, list[str]]:
    from dockyard.cluster.api.patch import apply as ssa

    kind = t.kind
    assert kind is not None and t.name is not None
    if not isinstance(applied, dict):
        raise BadRequest("error decoding YAML: the apply configuration must be an object")
    fm = request.query.get("fieldManager")
    if not fm:
        raise BadRequest("PATCH requests with apply content type must specify a fieldManager")
    force = flag(request, "force")
    warnings = validation_strict.check(request, kind, applied)
    for _ in range(10):
        try:
            live: Obj | None = await r.get(kind, t.namespace, t.name)
        except NotFoundError:
            live = None
        new = _translate(lambda live=live: ssa.server_side_apply(
            live, applied, manager=fm, force=force, gvk=kind.gvk, subresource=t.subresource or None,
            schema_node=crds.schema_node(kind)))
        try:
            if live is None:
                new.setdefault("metadata", {})["name"] = t.name
                return await r.create(kind, t.namespace, new, dry_run=dry_run(request)), True, warnings
            new.setdefault("metadata", {})["resourceVersion"] = live["metadata"]["resourceVersion"]
            return await r.update(kind, t.namespace, t.name, new, subresource=t.subresource,
                                  dry_run=dry_run(request), tracked=True), False, warnings
        except ConflictError:
            continue
    raise ConflictError.modified(kind.plural, t.name, kind.group)
