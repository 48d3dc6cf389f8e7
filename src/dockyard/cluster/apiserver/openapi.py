"""OpenAPI documents (``/openapi/v2`` and ``/openapi/v3``) from upstream's own schemas.

The ``kubernetes-validate`` package ships kube-apiserver's definitions as JSON Schema
(``_definitions.json``); we convert them once to the OpenAPI flavours kubectl reads:
``kubectl apply`` looks in the v3 document for a PATCH operation of the kind that accepts
``fieldValidation`` (and then leaves validation to us), ``kubectl explain`` walks the v3 schemas.
Custom resources get their CRD's ``openAPIV3Schema``.  The same definitions drive the unknown-field
check of :mod:`.validation_strict`.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from dockyard.cluster.api.kinds import Kind, Registry

Obj = dict[str, Any]
#: The Kubernetes minor version ``/version`` reports and whose schemas the OpenAPI documents carry.
#: kubectl's version dispatcher picks its client by it; kubectl ≥ 1.32 sends protobuf bodies from its
#: typed commands (create deployment, create secret …), which :mod:`dockyard.cluster.api.protobuf` decodes.
SERVED_MINOR = 33
QUERY = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")


def _schema_file() -> Path | None:
    try:
        import kubernetes_validate
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    wanted = root / f"v1.{SERVED_MINOR}.0-local" / "_definitions.json"
    if wanted.exists():
        return wanted
    found = sorted(root.glob("v*-local/_definitions.json"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)])
    return found[-1] if found else None


@cache
def definitions() -> dict[str, Obj]:
    path = _schema_file()
    if path is None:
        return {}
    return json.loads(path.read_text()).get("$defs", {})


@cache
def gvk_index() -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for name, d in definitions().items():
        for gvk in d.get("x-kubernetes-group-version-kind", ()):
            out.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return out


def _convert(node: Any, ref_prefix: str) -> Any:
    """JSON Schema → OpenAPI: ``$defs`` refs renamed, ``type: [x, "null"]`` → ``type: x``."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out[k] = ref_prefix + v.rsplit("/", 1)[-1]
            elif k == "type" and isinstance(v, list):
                types = [t for t in v if t != "null"]
                if types:
                    out[k] = types[0]
            elif k in ("$schema", "$id"):
                continue
            else:
                out[k] = _convert(v, ref_prefix)
        return out
    if isinstance(node, list):
        return [_convert(v, ref_prefix) for v in node]
    return node


def _reachable(roots: list[str]) -> list[str]:
    defs, seen, todo = definitions(), set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        todo += [r.rsplit("/", 1)[-1] for r in re.findall(r'"\$ref": "([^"]+)"', json.dumps(defs[name]))]
    return sorted(seen)


def _gvk_ext(k: Kind) -> Obj:
    return {"group": k.group, "version": k.version, "kind": k.kind}


def _paths(kinds: list[Kind], ref_prefix: str, v3: bool) -> Obj:
    paths: Obj = {}
    for k in kinds:
        prefix = f"/apis/{k.group}/{k.version}" if k.group else "/api/v1"
        base = f"{prefix}/namespaces/{{namespace}}/{k.plural}" if k.namespaced else f"{prefix}/{k.plural}"
        schema_ref = {"$ref": ref_prefix + _schema_name(k)}
        body = ({"content": {"application/json": {"schema": schema_ref}}} if v3 else None)
        params = [{"name": q, "in": "query", "schema": {"type": "string"}} if v3 else
                  {"name": q, "in": "query", "type": "string", "uniqueItems": True} for q in QUERY]
        ok = ({"200": {"description": "OK", "content": {"application/json": {"schema": schema_ref}}}} if v3 else
              {"200": {"description": "OK", "schema": schema_ref}})

        def op(verb: str, k: Kind = k, params: list[Obj] = params, body: Obj | None = body, ok: Obj = ok) -> Obj:
            o: Obj = {"operationId": f"{verb}{k.kind}", "x-kubernetes-action": verb,
                      "x-kubernetes-group-version-kind": _gvk_ext(k), "responses": ok, "parameters": params}
            if body and verb in ("put", "post"):
                o["requestBody"] = body
            elif v3 and verb == "patch":  # kubectl computes strategic patches from v3 only if listed here
                patch_ref = {"schema": {"$ref": ref_prefix + "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
                types = PATCH_TYPES[:3] if k.crd else PATCH_TYPES
                o["requestBody"] = {"content": {t: patch_ref for t in types}, "required": True}
            return o

        paths[base] = {"post": op("post"), "get": op("list")}
        paths[base + "/{name}"] = {"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}
    return paths


def _schema_name(k: Kind) -> str:
    if k.crd:
        return f"{_reverse(k.group)}.{k.version}.{k.kind}"
    return gvk_index().get(k.gvk, f"{_reverse(k.group)}.{k.version}.{k.kind}")


def _reverse(group: str) -> str:
    return ".".join(reversed(group.split("."))) if group else "core"


def _crd_schema(k: Kind) -> Obj:
    schema = json.loads(json.dumps(k.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}))
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    schema["x-kubernetes-group-version-kind"] = [_gvk_ext(k)]
    return schema


def v3_document(registry: Registry, group: str, version: str) -> Obj | None:
    kinds = [k for k in registry.all() if k.group == group and k.version == version]
    if not kinds:
        return None
    builtin = [gvk_index()[k.gvk] for k in kinds if k.gvk in gvk_index()]
    roots = [*builtin, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
             "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"]
    schemas = {n: _convert(definitions()[n], "#/components/schemas/") for n in _reachable(roots)}
    for k in kinds:
        if k.crd:
            schemas[_schema_name(k)] = _crd_schema(k)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": f"v1.{SERVED_MINOR}.0"},
            "paths": _paths(kinds, "#/components/schemas/", True), "components": {"schemas": schemas}}


def v3_index(registry: Registry, docs: dict[str, bytes]) -> Obj:
    paths = {}
    for group, versions in registry.groups().items():
        for v in versions:
            name = f"apis/{group}/{v}" if group else "api/v1"
            digest = hashlib.sha512(docs[name]).hexdigest()[:64].upper() if name in docs else "0"
            paths[name] = {"serverRelativeURL": f"/openapi/v3/{name}?hash={digest}"}
    return {"paths": paths}


def v2_document(registry: Registry) -> Obj:
    kinds = registry.all()
    builtin = [gvk_index()[k.gvk] for k in kinds if k.gvk in gvk_index()]
    defs = {n: _convert(definitions()[n], "#/definitions/") for n in _reachable(builtin)}
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": f"v1.{SERVED_MINOR}.0"},
            "paths": _paths(kinds, "#/definitions/", False), "definitions": defs}


class OpenAPICache:
    """Rendered documents, rebuilt when the set of served kinds changes (a CRD comes or goes)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._key: Any = None
        self._v3: dict[str, bytes] = {}
        self._v2: bytes | None = None
        self._v2_proto: bytes | None = None

    def _fresh(self) -> None:
        key = tuple(sorted((k.group, k.version, k.plural, id(k)) for k in self.registry.all()))
        if key != self._key:
            self._key, self._v3, self._v2, self._v2_proto = key, {}, None, None

    def v3(self, name: str) -> bytes | None:
        self._fresh()
        if name not in self._v3:
            parts = name.split("/")
            group, version = ("", parts[1]) if parts[0] == "api" and len(parts) == 2 else \
                (parts[1], parts[2]) if parts[0] == "apis" and len(parts) == 3 else ("?", "?")
            doc = v3_document(self.registry, group, version)
            if doc is None:
                return None
            self._v3[name] = json.dumps(doc, separators=(",", ":")).encode()
        return self._v3[name]

    def v3_index(self) -> bytes:
        self._fresh()
        for group, versions in self.registry.groups().items():
            for v in versions:
                self.v3(f"apis/{group}/{v}" if group else "api/v1")
        return json.dumps(v3_index(self.registry, self._v3)).encode()

    def v2(self) -> bytes:
        self._fresh()
        if self._v2 is None:
            self._v2 = json.dumps(v2_document(self.registry), separators=(",", ":")).encode()
        return self._v2

    def v2_protobuf(self) -> bytes:
        """The v2 document in gnostic's protobuf encoding (what kubectl asks /openapi/v2 for)."""
        self._fresh()
        if self._v2_proto is None:
            from dockyard.cluster.apiserver import openapi_proto

            self._v2_proto = openapi_proto.document(json.loads(self.v2()))
        return self._v2_proto
