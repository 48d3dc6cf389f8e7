"""List ordering and item identity for strategic merge patch.

Upstream's rule (the "preserve order in strategic merge patch" design): after merging, the items
named in the patch take the order of ``$setElementOrder`` (or of the patch list), the items only the
server has keep their live order, and the two runs are interleaved — a server-only item goes before
a patch item only when both are in the live list and it came first there.  Items are identified by
their merge key for lists of maps and by value (booleans apart from numbers) for lists of scalars.
"""

from __future__ import annotations

from typing import Any

from dockyard.cluster.api.patch.errors import PatchError
from dockyard.cluster.api.patch.jsonvalue import JSON, scalar_key

DIRECTIVE = "$patch"


def check_order(patch_list: list[Any], order: list[Any], merge_key: str | None) -> None:
    """Every non-delete patch item must appear in ``$setElementOrder`` in the same relative order."""
    items = [i for i in patch_list if not (isinstance(i, dict) and DIRECTIVE in i)]
    pos = 0
    for item in items:
        ident = identity(item, merge_key)
        while pos < len(order) and identity(order[pos], merge_key) != ident:
            pos += 1
        if pos == len(order):
            raise PatchError(
                f"The order in patch list: {patch_list} doesn't match $setElementOrder list: {order}"
            )
        pos += 1


def identity(item: JSON, merge_key: str | None) -> tuple[str, JSON]:
    """What makes two list items "the same item": the merge key's value, or the scalar itself."""
    if merge_key and isinstance(item, dict):
        if merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        return scalar_key(item[merge_key])
    return scalar_key(item)


def dedupe(items: list[Any]) -> list[Any]:
    seen: set[tuple[str, JSON]] = set()
    out = []
    for item in items:
        key = scalar_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def partition(items: list[Any], by: list[Any], merge_key: str | None) -> tuple[list[Any], list[Any]]:
    wanted = {identity(i, merge_key) for i in by if not (isinstance(i, dict) and DIRECTIVE in i)}
    inside = [i for i in items if identity(i, merge_key) in wanted]
    outside = [i for i in items if identity(i, merge_key) not in wanted]
    return inside, outside


def normalize(
    in_patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str | None,
) -> list[Any]:
    """Order patch items by the patch, server-only items by the live list, then interleave them."""
    patch_pos = positions(patch_order, merge_key)
    server_pos = positions(server_order, merge_key)
    right = sorted(in_patch, key=lambda i: patch_pos.get(identity(i, merge_key), len(patch_pos)))
    left = sorted(server_only, key=lambda i: server_pos.get(identity(i, merge_key), len(server_pos)))
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
        elif i >= len(left):
            out.append(right[j])
            j += 1
        else:
            # A server-only item goes first only when both are in the live list and it was earlier.
            li = server_pos.get(identity(left[i], merge_key))
            ri = server_pos.get(identity(right[j], merge_key))
            if li is not None and ri is not None and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def positions(items: list[Any], merge_key: str | None) -> dict[tuple[str, JSON], int]:
    positions: dict[tuple[str, JSON], int] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict) and DIRECTIVE in item:
            continue
        if merge_key and not (isinstance(item, dict) and merge_key in item):
            continue
        positions.setdefault(identity(item, merge_key), index)
    return positions
