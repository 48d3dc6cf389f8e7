"""Field paths and field sets, and their ``FieldsV1`` encoding in ``metadata.managedFields``.

Server-side apply tracks, per field manager, the *set of fields* it owns.  A path is a tuple of
path elements, each written the way ``FieldsV1`` writes it:

* ``f:<name>`` — a field of a struct or a key of a map (``f:spec``, ``f:app``);
* ``k:{"name":"nginx"}`` — an item of an associative list (list-type ``map``), by its key fields,
  as a JSON object with the keys sorted;
* ``v:"example.com/finalizer"`` — a value of a set (list-type ``set``), as JSON;
* ``i:0`` — an item of a list by index (lists without keys that are not atomic; rare).

``FieldsV1`` is the set as a trie of JSON objects: a member with no children is ``{}``, a member
that also has owned children carries ``".": {}``, e.g.
``{"f:spec":{"f:containers":{"k:{\\"name\\":\\"a\\"}":{".":{},"f:image":{}}}}}``.  Sets here are
plain Python ``set``\\s of path tuples; the objects involved hold hundreds of paths, not millions.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

Path = tuple[str, ...]
FieldSet = set[Path]

_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def field(name: str) -> str:
    return f"f:{name}"


def key(fields: dict[str, Any]) -> str:
    # The type is part of the cache key: True and 1 hash alike but encode differently.
    items = tuple(sorted((name, type(v).__name__, v) for name, v in fields.items()))
    try:
        return _key(items)
    except TypeError:  # unhashable key values (objects as keys are legal, if rare)
        return "k:" + _dump(dict(sorted(fields.items())))


@lru_cache(maxsize=4096)
def _key(items: tuple[tuple[str, str, Any], ...]) -> str:
    return "k:" + _dump({name: v for name, _, v in items})


def value(item: Any) -> str:
    return "v:" + _dump(item)


def index(position: int) -> str:
    return f"i:{position}"


@lru_cache(maxsize=8192)
def element_sort_key(element: str) -> tuple[Any, ...]:
    """Order elements as upstream serialises them: fields, then keys, then values, then indices.

    Keys compare field by field and values by value, so ports sort 80 before 443 as numbers.
    """
    kind, _, rest = element.partition(":")
    if kind == "k":
        fields = json.loads(rest)
        return (1, tuple((name, _value_order(fields[name])) for name in sorted(fields)))
    if kind == "v":
        return (2, _value_order(json.loads(rest)))
    if kind == "i":
        return (3, int(rest) if rest.lstrip("-").isdigit() else rest)
    return (_RANK.get(kind, 4), rest)


def _value_order(item: Any) -> tuple[int, Any]:
    if item is None:
        return (0, 0)
    if isinstance(item, bool):
        return (3, item)
    if isinstance(item, int | float):
        return (1, item)
    if isinstance(item, str):
        return (2, item)
    return (4, _dump(item))


def to_fields_v1(paths: FieldSet) -> dict[str, Any]:
    """Encode a field set as the ``fieldsV1`` JSON object."""
    trie: dict[str, Any] = {}
    members: set[Path] = set()
    for path in paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
        members.add(path)
    return _render(trie, (), members)


def _render(node: dict[str, Any], prefix: Path, members: set[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if prefix and node and prefix in members:
        out["."] = {}
    for element in sorted(node, key=element_sort_key):
        out[element] = _render(node[element], (*prefix, element), members)
    return out


def from_fields_v1(doc: dict[str, Any] | None) -> FieldSet:
    """Decode a ``fieldsV1`` object into a field set."""
    paths: FieldSet = set()

    def walk(node: dict[str, Any], prefix: Path) -> None:
        for element, child in node.items():
            if element == ".":
                paths.add(prefix)
                continue
            path = (*prefix, element)
            if not isinstance(child, dict) or not child:
                paths.add(path)
            else:
                walk(child, path)

    walk(doc or {}, ())
    return paths


def element_string(element: str) -> str:
    """One element as upstream prints paths: ``.spec``, ``[name="nginx"]``, ``[="x"]``, ``[0]``."""
    kind, _, rest = element.partition(":")
    if kind == "f":
        return "." + rest
    if kind == "k":
        fields = json.loads(rest)
        return "[" + ",".join(f"{name}={_dump(fields[name])}" for name in sorted(fields)) + "]"
    if kind == "v":
        return f"[={rest}]"
    return f"[{rest}]"


def path_string(path: Path) -> str:
    """A path as upstream prints it in conflict messages, e.g. ``.spec.replicas``."""
    return "".join(element_string(e) for e in path)


def has_prefix(path: Path, prefix: Path) -> bool:
    return len(path) >= len(prefix) and path[: len(prefix)] == prefix


def without_prefixed(paths: FieldSet, prefixes: FieldSet) -> FieldSet:
    """``paths`` minus every path at or under one of ``prefixes`` (upstream's RecursiveDifference)."""
    return {p for p in paths if not any(has_prefix(p, q) for q in prefixes)}


def ordered(paths: FieldSet) -> list[Path]:
    """Paths in upstream's iteration order: at each level members first, then children, each sorted."""
    out: list[Path] = []

    def walk(prefix: Path, group: list[Path]) -> None:
        depth = len(prefix)
        members = sorted((p for p in group if len(p) == depth + 1), key=lambda p: element_sort_key(p[depth]))
        out.extend(members)
        children: dict[str, list[Path]] = {}
        for p in group:
            if len(p) > depth + 1:
                children.setdefault(p[depth], []).append(p)
        for element in sorted(children, key=element_sort_key):
            walk((*prefix, element), children[element])

    walk((), [p for p in paths if p])
    return out
