"""Schema-aware walks over objects for server-side apply: field sets, merge, compare, remove.

These are the four operations structured-merge-diff performs on typed values, written for plain JSON
objects plus a :class:`SchemaNode` (``None`` where the schema says nothing, as for custom resources
without a schema: maps are then granular and lists atomic, upstream's "deduced" type).

How each value is treated:

* a scalar, an atomic map (``x-kubernetes-map-type: atomic``, e.g. LabelSelector) or an atomic list
  is one leaf field, owned and compared as a whole;
* a granular map/struct is a container of ``f:`` fields; the map itself is not a member;
* an associative list (list-type ``map``, or patch strategy ``merge`` with a merge key) holds items
  by ``k:{keys}``; each item is itself a member and a container of fields;
* a set (list-type ``set``, or strategy ``merge`` on scalars) holds ``v:`` members.

Empty maps and lists on both sides are leaves, which keeps ``{}`` apart from absent as upstream does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.cluster.api.patch import fieldpath
from dockyard.cluster.api.patch.errors import PatchError
from dockyard.cluster.api.patch.fieldpath import FieldSet, Path
from dockyard.cluster.api.patch.jsonvalue import deep_copy, json_equal
from dockyard.cluster.api.patch.schema import SchemaNode

_ABSENT: Any = object()

#: Defaults of list-map key fields, which upstream takes from the OpenAPI ``default`` of the key
#: (SMD's complete_keys); kubernetes-validate's schemas drop ``default``, and among served kinds the
#: only defaulted key field is a port's ``protocol``.
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


def list_kind(node: SchemaNode | None) -> tuple[str, tuple[str, ...]]:
    """``(kind, keys)`` for a list: kind is ``atomic``, ``set`` or ``map`` (keys then given)."""
    if node is None:
        return ("atomic", ())
    list_type = node.list_type
    if list_type == "map":
        keys = node.list_map_keys or ((node.merge_key,) if node.merge_key else ())
        return ("map", keys) if keys else ("atomic", ())
    if list_type in ("set", "atomic"):
        return (list_type, ())
    if "merge" in node.strategies:
        return ("map", (node.merge_key,)) if node.merge_key else ("set", ())
    return ("atomic", ())


def _atomic_map(node: SchemaNode | None) -> bool:
    return node is not None and node.map_type == "atomic"


def _items(node: SchemaNode | None) -> SchemaNode | None:
    return node.items() if node is not None else None


def _child(node: SchemaNode | None, name: str) -> SchemaNode | None:
    return node.field(name) if node is not None else None


def item_element(item: Any, kind: str, keys: tuple[str, ...], position: int) -> str:
    """The path element naming one list item."""
    if kind == "set":
        return fieldpath.value(item)
    if kind == "map":
        if not isinstance(item, dict):
            raise PatchError(f"associative list with keys has an element that is not an object: {item!r}")
        values: dict[str, Any] = {}
        for name in keys:
            if name in item:
                values[name] = item[name]
            elif name in KEY_DEFAULTS:
                values[name] = KEY_DEFAULTS[name]
            else:
                raise PatchError(
                    f"associative list with keys has an element that omits key field {name!r} "
                    "(and doesn't have default value)"
                )
        return fieldpath.key(values)
    return fieldpath.index(position)


def _is_leaf(value: Any, node: SchemaNode | None, other: Any = _ABSENT) -> bool:
    """Scalars, atomic containers, and containers empty on both sides are leaves."""
    if isinstance(value, dict):
        if _atomic_map(node):
            return True
    elif isinstance(value, list):
        if list_kind(node)[0] == "atomic":
            return True
    else:
        return True
    other_empty = other is _ABSENT or other is None or (isinstance(other, dict | list) and not other)
    return not value and other_empty


def to_field_set(obj: Any, node: SchemaNode | None, prefix: Path = ()) -> FieldSet:
    """Every field ``obj`` sets, as upstream's ToFieldSet computes it."""
    out: FieldSet = set()
    _collect(obj, node, prefix, out)
    return out


def _collect(value: Any, node: SchemaNode | None, path: Path, out: FieldSet) -> None:
    if isinstance(value, dict) and not _atomic_map(node):
        for name, child in value.items():
            child_path = (*path, fieldpath.field(name))
            _collect(child, _child(node, name), child_path, out)
            if node is None or not node.declares(name):
                # Upstream: map entries (as opposed to struct fields) are members themselves.
                out.add(child_path)
        return
    if isinstance(value, list) and list_kind(node)[0] != "atomic":
        kind, keys = list_kind(node)
        for position, item in enumerate(value):
            item_path = (*path, item_element(item, kind, keys, position))
            out.add(item_path)
            if kind == "map":
                _collect(item, _items(node), item_path, out)
        return
    if path:
        out.add(path)


def merge(lhs: Any, rhs: Any, node: SchemaNode | None) -> Any:
    """``rhs`` (the applied configuration) merged onto ``lhs`` (the live object)."""
    if rhs is _ABSENT:
        return deep_copy(lhs)
    if lhs is _ABSENT or type(lhs) is not type(rhs) or not isinstance(rhs, dict | list):
        return deep_copy(rhs)
    if _is_leaf(lhs, node, rhs):
        return deep_copy(rhs)
    if isinstance(rhs, dict):
        out = {name: merge(value, rhs.get(name, _ABSENT), _child(node, name)) for name, value in lhs.items()}
        for name, value in rhs.items():
            if name not in lhs:
                out[name] = deep_copy(value)
        return out
    return _merge_items(lhs, rhs, node)


def _merge_items(lhs: list[Any], rhs: list[Any], node: SchemaNode | None) -> list[Any]:
    """Merge list items by identity in upstream's order.

    Items both sides have appear in the configuration's order, items only the live object has stay
    at their live position, new items at their configured position.
    """
    kind, keys = list_kind(node)
    left = _by_element(lhs, kind, keys)
    right = _by_element(rhs, kind, keys)
    left_order, right_order = list(left), list(right)
    shared = [e for e in right_order if e in left]
    shared_at = 0
    out: list[Any] = []
    li = ri = 0
    while li < len(left_order) or ri < len(right_order):
        next_shared = shared[shared_at] if shared_at < len(shared) else None
        if li < len(left_order) and ri < len(right_order):
            element = left_order[li]
            if element == right_order[ri]:
                out.append(merge(left[element], right[element], _items(node)))
                li, ri, shared_at = li + 1, ri + 1, shared_at + 1
                continue
            if element in right and next_shared is not None and element != next_shared:
                li += 1  # a shared item met out of the configured order: emitted from the right
                continue
        if li < len(left_order) and left_order[li] not in right:
            out.append(deep_copy(left[left_order[li]]))
            li += 1
            continue
        if ri < len(right_order):
            element = right_order[ri]
            out.append(merge(left.get(element, _ABSENT), right[element], _items(node)))
            ri += 1
            if element == next_shared:
                shared_at += 1
        else:
            li += 1  # only shared items already emitted remain on the left
    return out


@dataclass(slots=True)
class Comparison:
    """Paths added, modified and removed going from one object to another."""

    added: FieldSet = field(default_factory=set)
    modified: FieldSet = field(default_factory=set)
    removed: FieldSet = field(default_factory=set)


def compare(old: Any, new: Any, node: SchemaNode | None) -> Comparison:
    """Upstream's Compare: every node of an added/removed subtree is reported, leaves by value."""
    result = Comparison()
    _compare(old, new, node, (), result)
    return result


def _compare(old: Any, new: Any, node: SchemaNode | None, path: Path, result: Comparison) -> None:
    if old is _ABSENT and new is _ABSENT:
        return
    present = new if new is not _ABSENT else old
    other = old if new is not _ABSENT else _ABSENT
    kinds_differ = old is not _ABSENT and new is not _ABSENT and type(old) is not type(new)
    if kinds_differ or _is_leaf(present, node, other):
        if old is _ABSENT:
            result.added.add(path)
        elif new is _ABSENT:
            result.removed.add(path)
        elif not json_equal(old, new):
            result.modified.add(path)
        return
    if isinstance(present, dict):
        left = old if isinstance(old, dict) else {}
        right = new if isinstance(new, dict) else {}
        for name in list(left) + [n for n in right if n not in left]:
            _compare(
                left.get(name, _ABSENT),
                right.get(name, _ABSENT),
                _child(node, name),
                (*path, fieldpath.field(name)),
                result,
            )
    else:
        kind, keys = list_kind(node)
        left_items = _by_element(old if isinstance(old, list) else [], kind, keys)
        right_items = _by_element(new if isinstance(new, list) else [], kind, keys)
        for element in list(left_items) + [e for e in right_items if e not in left_items]:
            _compare(
                left_items.get(element, _ABSENT),
                right_items.get(element, _ABSENT),
                _items(node),
                (*path, element),
                result,
            )
    if path and old is _ABSENT:
        result.added.add(path)
    elif path and new is _ABSENT:
        result.removed.add(path)


def _by_element(items: list[Any], kind: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {item_element(item, kind, keys, i): item for i, item in enumerate(items)}


def remove_paths(obj: Any, paths: FieldSet, node: SchemaNode | None) -> Any:
    """A copy of ``obj`` without the values at ``paths``.

    As upstream, a map or list left empty by the removal becomes null — i.e. its key is dropped —
    while its parent stays, even if that leaves the parent empty (``spec.template.spec: {}``).
    """
    result = _remove(obj, paths, node, ())
    return {} if result is _ABSENT else result


def _remove(value: Any, paths: FieldSet, node: SchemaNode | None, path: Path) -> Any:
    """``value`` without ``paths``; ``_ABSENT`` when a container was emptied by the removal."""
    relevant = {p for p in paths if fieldpath.has_prefix(p, path) and len(p) > len(path)}
    if not relevant:
        return deep_copy(value)
    if isinstance(value, dict) and not _atomic_map(node):
        out: dict[str, Any] = {}
        nulled = False
        for name, child in value.items():
            child_path = (*path, fieldpath.field(name))
            if child_path in paths:
                continue
            kept = _remove(child, relevant, _child(node, name), child_path)
            if kept is _ABSENT:
                nulled = True  # upstream keeps the key with a null value, which decoding drops
            else:
                out[name] = kept
        return out if out or nulled or not value else _ABSENT
    if isinstance(value, list) and list_kind(node)[0] != "atomic":
        kind, keys = list_kind(node)
        items: list[Any] = []
        for position, item in enumerate(value):
            item_path = (*path, item_element(item, kind, keys, position))
            if item_path in paths:
                continue
            kept = _remove(item, relevant, _items(node), item_path)
            if kept is not _ABSENT:
                items.append(kept)
        return items if items or not value else _ABSENT
    return deep_copy(value)
