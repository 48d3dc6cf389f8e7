"""JSON Merge Patch (RFC 7386) for ``application/merge-patch+json``, and its inverse.

A merge patch is an object whose keys replace the target's, recursively for objects; ``null``
deletes a key; anything that is not an object (lists included) replaces wholesale.  This is what
kube-apiserver applies for merge patches and, for custom resources, what ``kubectl patch`` and
``kubectl apply`` fall back to.  ``create_merge_patch`` computes the patch that turns one document
into another (used by tests and by callers that need to express a change as a merge patch).
"""

from __future__ import annotations

from dockyard.cluster.api.patch.errors import PatchError
from dockyard.cluster.api.patch.jsonvalue import JSON, deep_copy, json_equal


def _merge(target: JSON, patch: JSON) -> JSON:
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


def apply_merge_patch(obj: dict, patch: JSON) -> dict:
    """Apply an RFC 7386 merge patch to a copy of ``obj``."""
    result = _merge(deep_copy(obj), patch)
    if not isinstance(result, dict):
        raise PatchError(
            "merge patch: the result must be a JSON object; send an object as the patch", status=400
        )
    return result


def create_merge_patch(original: JSON, modified: JSON) -> JSON:
    """The merge patch that turns ``original`` into ``modified``.

    Exact only when ``modified`` holds no ``null`` values inside objects (RFC 7386 cannot express
    "set to null").
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return deep_copy(modified)
    patch: dict[str, JSON] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, value in modified.items():
        if key not in original:
            patch[key] = deep_copy(value)
        elif not json_equal(original[key], value):
            if isinstance(original[key], dict) and isinstance(value, dict):
                patch[key] = create_merge_patch(original[key], value)
            else:
                patch[key] = deep_copy(value)
    return patch
