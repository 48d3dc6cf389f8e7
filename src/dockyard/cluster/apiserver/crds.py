"""CustomResourceDefinitions: turning a CRD object into served kinds, and checking custom objects.

Creating a CRD registers one :class:`Kind` per served version at once (upstream waits for the
``Established`` condition; we set it on create).  Custom objects are checked against the version's
``openAPIV3Schema``: types, ``required``, ``enum``, and unknown fields pruned unless the schema says
``x-kubernetes-preserve-unknown-fields`` — the structural-schema behaviour users rely on.
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.base.clock import rfc3339
from dockyard.cluster.api.errors import cause
from dockyard.cluster.api.kinds import Kind, Registry, ScalePaths

Obj = dict[str, Any]


def accept(crd: Obj) -> None:
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    import time

    now = rfc3339(time.time())
    crd["status"] = {
        "acceptedNames": names,
        "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": now},
        ],
    }


def kinds_of(crd: Obj) -> list[Kind]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for v in spec.get("versions") or []:
        if not v.get("served", True):
            continue
        sub = v.get("subresources") or {}
        scale = None
        if "scale" in sub:
            s = sub["scale"] or {}
            scale = ScalePaths(s.get("specReplicasPath", ".spec.replicas"),
                               s.get("statusReplicasPath", ".status.replicas"), s.get("labelSelectorPath"))
        out.append(Kind(
            spec.get("group", ""), v["name"], names.get("kind", ""), names.get("plural", ""),
            namespaced=spec.get("scope") == "Namespaced", short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()), status="status" in sub, scale=scale,
            schema=(v.get("schema") or {}).get("openAPIV3Schema"),
            printer_columns=tuple(v.get("additionalPrinterColumns") or ()), crd=True,
        ))
    return out


def register(registry: Registry, crd: Obj) -> None:
    spec = crd.get("spec") or {}
    registry.remove_group_resource(spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
    for k in kinds_of(crd):
        registry.add(k)


def unregister(registry: Registry, crd: Obj) -> list[Kind]:
    spec = crd.get("spec") or {}
    group, plural = spec.get("group", ""), (spec.get("names") or {}).get("plural", "")
    served = [k for k in registry.all() if k.group == group and k.plural == plural]
    registry.remove_group_resource(group, plural)
    return served[:1]  # all versions share one storage prefix


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}


def validate_custom(kind: Kind, obj: Obj) -> list[dict[str, str]]:
    causes: list[dict[str, str]] = []
    schema = dict(kind.schema or {})
    props = dict(schema.get("properties") or {})
    for f in ("apiVersion", "kind", "metadata"):
        props.pop(f, None)
    schema["properties"] = props
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    _check(schema, body, "", causes)
    for k in list(obj):
        if k not in ("apiVersion", "kind", "metadata") and k not in body:
            del obj[k]
    obj.update(body)
    return causes


def _check(schema: Obj, value: Any, path: str, causes: list[dict[str, str]]) -> None:
    expected = schema.get("type")
    if value is None and schema.get("nullable"):
        return
    py = _TYPES.get(expected or "")
    if schema.get("x-kubernetes-int-or-string"):
        py = (int, str)
    if py is not None and (not isinstance(value, py) or (expected in ("integer", "number") and isinstance(value, bool))):
        causes.append(cause(path or "<root>", "Invalid",
                            f'{json.dumps(value)}: {path or "<root>"} in body must be of type {expected}'))
        return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{e}"' for e in schema["enum"])
        causes.append(cause(path, "NotSupported", f"{json.dumps(value)}: supported values: {allowed}"))
    if isinstance(value, dict):
        props = schema.get("properties")
        for req in schema.get("required") or []:
            if req not in value:
                causes.append(cause(f"{path}.{req}".lstrip("."), "Required", ""))
        if props is not None or "additionalProperties" in schema:
            for k in list(value):
                sub = (props or {}).get(k)
                if sub is None and isinstance(schema.get("additionalProperties"), dict):
                    sub = schema["additionalProperties"]
                if sub is None:
                    if not schema.get("x-kubernetes-preserve-unknown-fields"):
                        del value[k]  # pruning, as upstream does for structural schemas
                    continue
                _check(sub, value[k], f"{path}.{k}".lstrip("."), causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{i}]", causes)


def schema_node(kind: Kind) -> Any:
    """The patch package's schema view of a custom kind (None for built-ins: it knows those)."""
    if not kind.crd or not kind.schema:
        return None
    from dockyard.cluster.api.patch.schema import SchemaNode

    return SchemaNode.from_openapi(kind.schema)
