"""Helpers for raw JSON values (dict/list/str/int/float/bool/None) shared by the patch modules.

Python's ``==`` says ``True == 1`` and ``1 == 1.0``; JSON (and Go's ``reflect.DeepEqual`` on decoded
JSON, which upstream uses) keeps booleans apart from numbers, so equality here is typed.  Copies are
made by hand because ``copy.deepcopy`` is several times slower on plain JSON trees.
"""

from __future__ import annotations

import json
from typing import Any

JSON = Any


def deep_copy(value: JSON) -> JSON:
    """A copy of a JSON tree that shares no dict or list with the original."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def json_equal(a: JSON, b: JSON) -> bool:
    """JSON equality: booleans are not numbers, key order does not matter, list order does."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        if not isinstance(b, dict) or a.keys() != b.keys():
            return False
        return all(json_equal(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return False
        return all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def kind_of(value: JSON) -> str:
    """The JSON type name of a value: object, array, string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"


def scalar_key(value: JSON) -> tuple[str, JSON]:
    """A hashable identity for a scalar that keeps ``True`` and ``1`` apart (for sets of scalars)."""
    if isinstance(value, dict | list):
        return ("json", json.dumps(value, sort_keys=True))
    return (kind_of(value), value)
