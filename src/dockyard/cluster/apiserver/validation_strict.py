"""Server-side field validation (``fieldValidation=Strict|Warn|Ignore``): unknown fields.

Strict rejects a body with unknown fields (400, ``strict decoding error: unknown field "spec.x"``),
Warn (the server's default) accepts it and returns a ``Warning`` header per field, Ignore says
nothing — as kube-apiserver does.  Built-in kinds are checked against upstream's schemas, custom
resources against their CRD's schema (fields under ``x-kubernetes-preserve-unknown-fields`` are
never unknown).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard.cluster.api.errors import BadRequest
from dockyard.cluster.api.kinds import Kind
from dockyard.cluster.apiserver.openapi import definitions, gvk_index

Obj = dict[str, Any]
MODES = ("Strict", "Warn", "Ignore")


def check(request: web.Request, kind: Kind, body: Any) -> list[str]:
    mode = request.query.get("fieldValidation") or "Warn"
    if mode not in MODES:
        raise BadRequest(f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", "Strict", "Warn"')
    if not isinstance(body, dict):
        return []
    unknown = unknown_fields(kind, body, prune=mode != "Strict")
    if not unknown:
        return []
    if mode == "Strict":
        raise BadRequest(f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: strict '
                         "decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown))
    return [] if mode == "Ignore" else [f'unknown field "{f}"' for f in unknown]


def unknown_fields(kind: Kind, body: Obj, *, prune: bool = False) -> list[str]:
    """Paths of fields the kind's schema doesn't know; with *prune*, also drop them (as decoding does)."""
    out: list[str] = []
    if kind.crd:
        schema = dict(kind.schema or {"x-kubernetes-preserve-unknown-fields": True})
        props = dict(schema.get("properties") or {})
        props.update({"apiVersion": {}, "kind": {}, "metadata": {"$ref": "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}})
        schema["properties"] = props
        _walk(schema, body, "", out, prune)
        return out
    name = gvk_index().get(kind.gvk)
    if name is not None:
        _walk(definitions()[name], body, "", out, prune)
    return out


def _resolve(schema: Obj) -> Obj:
    ref = schema.get("$ref")
    if ref:
        return {**definitions().get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _walk(schema: Obj, value: Any, path: str, out: list[str], prune: bool) -> None:
    schema = _resolve(schema)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is None and not isinstance(extra, dict):
            return  # a free-form object (or one we know nothing of)
        for key, sub in list(value.items()):
            child = f"{path}.{key}" if path else key
            if props is not None and key in props:
                _walk(props[key], sub, child, out, prune)
            elif isinstance(extra, dict):
                _walk(extra, sub, child, out, prune)
            else:
                out.append(child)
                if prune:
                    del value[key]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk(schema["items"], item, f"{path}[{i}]", out, prune)
