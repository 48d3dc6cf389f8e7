"""Patch metadata for built-in kinds, read from the upstream OpenAPI schemas.

Strategic merge patch and server-side apply both need to know, for each field, how lists and maps
merge: ``x-kubernetes-patch-strategy`` (``merge``, ``replace``, ``retainKeys``, or
``merge,retainKeys``), ``x-kubernetes-patch-merge-key`` (containers merge by ``name``),
``x-kubernetes-list-type`` (``atomic``/``set``/``map``) with ``x-kubernetes-list-map-keys``, and
``x-kubernetes-map-type`` (``atomic`` structs such as LabelSelector are owned as one field).
kube-apiserver gets these from Go struct tags; the ``kubernetes-validate`` package ships the same
schemas as JSON (``_definitions.json`` per Kubernetes release) with the extensions kept, so we read
them from there: lazily, once, and only the newest release found.

A :class:`SchemaNode` is one place in a kind's schema — a property merged with the definition its
``$ref`` points to (extensions on the property win, as ``strategy`` of DeploymentSpec shows).
Custom resources have no entry here; callers pass their CRD's ``openAPIV3Schema`` to
:meth:`SchemaNode.from_openapi` instead.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

_EMPTY: dict[str, Any] = {}


class SchemaNode:
    """A resolved schema location; navigate with :meth:`field` and :meth:`items`."""

    __slots__ = ("_children", "_defs", "_s")

    def __init__(self, schema: dict[str, Any], defs: dict[str, Any]) -> None:
        self._defs = defs
        self._s = _resolve(schema, defs)
        # Children are resolved once per node: walks revisit the same fields on every request.
        self._children: dict[str, SchemaNode | None] = {}

    @classmethod
    def from_openapi(cls, schema: dict[str, Any]) -> SchemaNode:
        """A node for a self-contained OpenAPI v3 schema such as a CRD's ``openAPIV3Schema``."""
        return cls(schema, _EMPTY)

    @property
    def strategies(self) -> tuple[str, ...]:
        raw = self._s.get("x-kubernetes-patch-strategy", "")
        return tuple(s for s in raw.split(",") if s)

    @property
    def merge_key(self) -> str | None:
        return self._s.get("x-kubernetes-patch-merge-key")

    @property
    def list_type(self) -> str | None:
        return self._s.get("x-kubernetes-list-type")

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return tuple(self._s.get("x-kubernetes-list-map-keys", ()))

    @property
    def map_type(self) -> str | None:
        return self._s.get("x-kubernetes-map-type")

    @property
    def is_list(self) -> bool:
        return "items" in self._s or _has_type(self._s, "array")

    def declares(self, name: str) -> bool:
        """Whether ``name`` is a declared property (a struct field) rather than a map key."""
        return name in (self._s.get("properties") or {})

    def field(self, name: str) -> SchemaNode | None:
        """The schema of property ``name`` (or of a map's values), None when unknown."""
        try:
            return self._children[name]
        except KeyError:
            pass
        props = self._s.get("properties")
        extra = self._s.get("additionalProperties")
        child: SchemaNode | None = None
        if props and name in props:
            child = SchemaNode(props[name], self._defs)
        elif isinstance(extra, dict):
            # One node serves every key of a map.
            child = self._children.get("\0values") or SchemaNode(extra, self._defs)
            self._children["\0values"] = child
        self._children[name] = child
        return child

    def items(self) -> SchemaNode | None:
        if "\0items" not in self._children:
            items = self._s.get("items")
            self._children["\0items"] = SchemaNode(items, self._defs) if isinstance(items, dict) else None
        return self._children["\0items"]


def _has_type(schema: dict[str, Any], name: str) -> bool:
    kind = schema.get("type")
    return kind == name or (isinstance(kind, list) and name in kind)


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Merge a property with the definition its ``$ref`` names, property keys winning."""
    ref = schema.get("$ref")
    if not ref:
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            return {**_resolve(all_of[0], defs), **{k: v for k, v in schema.items() if k != "allOf"}}
        return schema
    target = defs.get(ref.rsplit("/", 1)[-1], _EMPTY)
    return {**_resolve(target, defs), **{k: v for k, v in schema.items() if k != "$ref"}}


def schema_dir() -> Path | None:
    """The newest ``v*-local`` schema directory shipped by kubernetes-validate, if installed."""
    try:
        import kubernetes_validate
    except ImportError:  # pragma: no cover - the package is a declared dependency
        return None
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    found: list[tuple[tuple[int, ...], Path]] = []
    for entry in root.glob("v*-local"):
        match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)-local", entry.name)
        if match and (entry / "_definitions.json").is_file():
            found.append((tuple(int(g) for g in match.groups()), entry))
    return max(found)[1] if found else None


@cache
def _definitions() -> dict[str, Any]:
    directory = schema_dir()
    if directory is None:
        return {}
    with open(directory / "_definitions.json", encoding="utf-8") as fh:
        return json.load(fh).get("$defs", {})


@cache
def _gvk_index() -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, definition in _definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            index.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
    return index


@cache
def schema_for(gvk: tuple[str, str, str]) -> SchemaNode | None:
    """The root schema of a built-in kind, e.g. ``("apps", "v1", "Deployment")``; None if not built in."""
    name = _gvk_index().get(gvk)
    if name is None:
        return None
    return SchemaNode(_definitions()[name], _definitions())


def is_builtin(gvk: tuple[str, str, str]) -> bool:
    return gvk in _gvk_index()
