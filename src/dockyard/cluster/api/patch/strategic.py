"""Strategic merge patch (``application/strategic-merge-patch+json``) for built-in kinds.

A strategic merge patch is a JSON merge patch that knows the schema: lists whose field carries
``x-kubernetes-patch-strategy: merge`` are merged item by item — by the ``patchMergeKey`` for lists
of objects (containers by ``name``, ports by ``containerPort``), as a de-duplicated union for lists
of scalars (finalizers) — instead of being replaced.  Directives steer it:

* ``$patch: replace`` in a map or as a list item replaces instead of merging; ``$patch: delete``
  deletes the map, or the list item with that merge key;
* ``$setElementOrder/<field>`` fixes the order of a merged list (kubectl sends it);
* ``$retainKeys`` (fields with the ``retainKeys`` strategy, e.g. Deployment ``spec.strategy``)
  drops every key of the live map not listed, so switching RollingUpdate → Recreate clears
  ``rollingUpdate``;
* ``$deleteFromPrimitiveList/<field>`` removes scalars from a merged scalar list;
* ``null`` deletes a key.

Ordering follows upstream's rule: items named in the patch keep the patch's order (or
``$setElementOrder``'s), items only on the server keep their live order, and the two are
interleaved by live position.  Custom resources have no patch metadata: upstream answers 415, and so
does :func:`apply_strategic_merge_patch` by raising :class:`UnsupportedPatch`.
"""

from __future__ import annotations

from typing import Any

from dockyard.cluster.api.patch import listorder, schema
from dockyard.cluster.api.patch.errors import PatchError, UnsupportedPatch
from dockyard.cluster.api.patch.jsonvalue import JSON, deep_copy, kind_of, scalar_key
from dockyard.cluster.api.patch.schema import SchemaNode

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ORDER = "$setElementOrder/"
DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"

#: The message kube-apiserver gives a strategic merge patch sent to a custom resource.
UNSUPPORTED_MESSAGE = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)


def _bad_format(what: str) -> PatchError:
    # Upstream answers these format errors with 400 BadRequest.
    return PatchError(f"invalid patch format of {what}", status=400)


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE, RETAIN_KEYS) or key.startswith((SET_ORDER, DELETE_PRIMITIVE))


def _strip(value: JSON) -> JSON:
    """Drop directive keys from a value that replaces wholesale."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not _is_directive_key(k)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _child(node: SchemaNode | None, key: str) -> SchemaNode | None:
    return node.field(key) if node is not None else None


def _strategy(node: SchemaNode | None) -> str:
    """The field's strategy other than retainKeys: ``merge``, ``replace`` or ``""``."""
    if node is None:
        return ""
    others = [s for s in node.strategies if s != "retainKeys"]
    return others[0] if others else ""


def _new_value(value: JSON, node: SchemaNode | None) -> JSON:
    """A patch value for a key the original lacks: apply it to nothing so directives resolve."""
    if isinstance(value, dict):
        return _merge_map({}, value, node)
    if isinstance(value, list) and _strategy(node) == "merge":
        return _merge_list([], value, node, is_delete_list=False)
    return _strip(value)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None) -> dict[str, Any]:
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            return _strip({k: v for k, v in patch.items() if k != DIRECTIVE})
        if directive == "delete":
            return {}
        raise PatchError(f"unknown patch type: {directive} in map: {patch}")
    _apply_retain_keys(original, patch)
    _apply_set_element_order(original, patch, node)
    for key, value in patch.items():
        is_delete_list = key.startswith(DELETE_PRIMITIVE)
        if is_delete_list:
            key = _suffix(key, DELETE_PRIMITIVE, "primitive list")
        child = _child(node, key)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original:
            if not is_delete_list:
                original[key] = _new_value(value, child)
            continue
        current = original[key]
        if isinstance(current, dict) and isinstance(value, dict):
            replace = _strategy(child) == "replace"
            original[key] = _strip(value) if replace else _merge_map(current, value, child)
        elif isinstance(current, list) and isinstance(value, list):
            if _strategy(child) == "merge" or is_delete_list:
                original[key] = _merge_list(current, value, child, is_delete_list=is_delete_list)
            else:
                original[key] = _strip(value)
        else:
            original[key] = _new_value(value, child)
    return original


def _suffix(key: str, prefix: str, what: str) -> str:
    rest = key[len(prefix) :]
    if not rest:
        raise _bad_format(what)
    return rest


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS not in patch:
        return
    keep = patch.pop(RETAIN_KEYS)
    if not isinstance(keep, list):
        raise _bad_format("retainKeys")
    allowed = set(k for k in keep if isinstance(k, str))
    for key, value in patch.items():
        if value is None or key.startswith((SET_ORDER, DELETE_PRIMITIVE)):
            continue
        if key not in allowed:
            raise _bad_format("retainKeys")
    for key in [k for k in original if k not in allowed]:
        del original[key]


def _apply_set_element_order(
    original: dict[str, Any], patch: dict[str, Any], node: SchemaNode | None
) -> None:
    for order_key in [k for k in patch if k.startswith(SET_ORDER)]:
        order = patch.pop(order_key)
        field = _suffix(order_key, SET_ORDER, "setElementOrder list")
        if not isinstance(order, list):
            raise _bad_format("setElementOrder list")
        child = _child(node, field)
        merge_key = child.merge_key if child is not None else None
        patch_list = patch.pop(field, None)
        original_list = original.get(field)
        if patch_list is not None and not isinstance(patch_list, list):
            raise _bad_format("setElementOrder list")
        if original_list is not None and not isinstance(original_list, list):
            original_list = None
        if patch_list is None and original_list is None:
            continue
        listorder.check_order(patch_list or [], order, merge_key)
        if patch_list is None:
            merged = list(original_list or [])
        elif _strategy(child) == "merge":
            merged = _merge_list(original_list or [], patch_list, child, is_delete_list=False)
        else:
            merged = _strip(patch_list)
        in_order, server_only = listorder.partition(merged, order, merge_key)
        original[field] = listorder.normalize(in_order, server_only, order, original_list or [], merge_key)


def _element_kind(*lists: list[Any]) -> str:
    kinds = {"number" if k == "number" else k for lst in lists for k in map(kind_of, lst)}
    if "array" in kinds:
        raise PatchError("lists of lists are not supported")
    if len(kinds) > 1:
        raise PatchError(f"list element types are not identical: {list(lists)}")
    return kinds.pop() if kinds else "null"


def _merge_list(
    original: list[Any], patch: list[Any], node: SchemaNode | None, *, is_delete_list: bool
) -> list[Any]:
    if not original and not patch:
        return original
    if _element_kind(original, patch) != "object":
        if is_delete_list:
            drop = {scalar_key(v) for v in patch}
            return [v for v in original if scalar_key(v) not in drop]
        merged = listorder.dedupe(original + patch)
        in_patch, server_only = listorder.partition(merged, patch, None)
        return listorder.normalize(in_patch, server_only, patch, original, None)
    merge_key = node.merge_key if node is not None else None
    if not merge_key:
        raise PatchError("cannot merge lists without merge key for type map")
    original, patch = _special_items(original, patch, merge_key)
    for item in patch:
        ident = listorder.identity(item, merge_key)
        for index, existing in enumerate(original):
            if (
                isinstance(existing, dict)
                and merge_key in existing
                and scalar_key(existing[merge_key]) == ident
            ):
                original[index] = _merge_map(existing, item, node.items() if node else None)
                break
        else:
            original.append(_merge_map({}, item, node.items() if node else None))
    in_patch, server_only = listorder.partition(original, patch, merge_key)
    return listorder.normalize(in_patch, server_only, patch, original, merge_key)


def _special_items(original: list[Any], patch: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Apply ``$patch`` list items; returns the new original and the patch without them."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            ident = listorder.identity(item, merge_key)
            original = [
                o
                for o in original
                if not (
                    isinstance(o, dict)
                    and o.get(merge_key, _MISSING) is not _MISSING
                    and scalar_key(o[merge_key]) == ident
                )
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {directive} in map: {item}")
    if replace:
        return [_strip(i) for i in plain], []
    return original, plain


_MISSING = object()


def apply_strategic_merge_patch(obj: dict, patch: JSON, *, gvk: tuple[str, str, str]) -> dict:
    """Apply a strategic merge patch to a copy of ``obj`` of kind ``gvk`` (group, version, kind)."""
    root = schema.schema_for(gvk)
    if root is None:
        raise UnsupportedPatch(UNSUPPORTED_MESSAGE)
    return strategic_merge(obj, patch, root)


def strategic_merge(obj: dict, patch: JSON, root: SchemaNode) -> dict:
    """Apply a strategic merge patch to a copy of ``obj`` using the patch metadata under ``root``."""
    if not isinstance(patch, dict):
        raise PatchError("invalid JSON document", status=400)
    return _merge_map(deep_copy(obj), deep_copy(patch), root)
