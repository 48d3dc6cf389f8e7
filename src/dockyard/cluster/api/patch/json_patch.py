"""JSON Patch (RFC 6902) as kube-apiserver applies it for ``application/json-patch+json``.

Upstream uses evanphx/json-patch (v4): a body that is not a list of objects is a 400 BadRequest;
an operation that does not apply (missing key, failed ``test``, bad index) is a 422 and the whole
patch is rejected — operations are all-or-nothing.  Like v4 we accept negative array indices
(counted from the end) and more than 10,000 operations are refused (413 upstream, reported here as
a 422 PatchError with the count).  The input object is never mutated.
"""

from __future__ import annotations

from typing import Any

from dockyard.cluster.api.patch.errors import PatchError
from dockyard.cluster.api.patch.jsonvalue import JSON, deep_copy, json_equal

#: kube-apiserver's limit on operations in one JSON patch.
MAX_OPERATIONS = 10_000

_OPS = ("add", "remove", "replace", "move", "copy", "test")


class _OpFailed(Exception):
    """Internal: an operation did not apply; converted to PatchError with the op index."""


def parse_pointer(pointer: str) -> list[str]:
    """Split a JSON pointer into unescaped reference tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _OpFailed(f'JSON pointer "{pointer}" must start with "/"')
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(token: str, length: int, *, allow_end: bool) -> int:
    """An array index from a token; ``allow_end`` admits ``len`` (insert at the end)."""
    text = token[1:] if token.startswith("-") else token
    if not text.isdigit():
        raise _OpFailed(f"Unable to access invalid index: {token}: invalid index referenced")
    idx = int(token)
    if idx < 0:
        # evanphx/json-patch v4 counts negative indices from the end of the array.
        idx += length
    limit = length if allow_end else length - 1
    if idx < 0 or idx > limit:
        raise _OpFailed(f"Unable to access invalid index: {token}: invalid index referenced")
    return idx


def _parent(doc: JSON, tokens: list[str], op: str, path: str) -> JSON:
    """The container that holds the last token of ``path``."""
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token != "-":
            try:
                node = node[_index(token, len(node), allow_end=False)]
            except _OpFailed:
                raise _OpFailed(f'{op} operation does not apply: doc is missing path: "{path}"') from None
        else:
            raise _OpFailed(f'{op} operation does not apply: doc is missing path: "{path}"')
    if not isinstance(node, dict | list):
        raise _OpFailed(f'{op} operation does not apply: doc is missing path: "{path}"')
    return node


def _get(doc: JSON, path: str, op: str) -> JSON:
    tokens = parse_pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, op, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _OpFailed(f"{op} operation does not apply: doc is missing key: {path}")
        return parent[last]
    if last == "-":
        raise _OpFailed(f"{op} operation does not apply: doc is missing key: {path}")
    return parent[_index(last, len(parent), allow_end=False)]


def _add(doc: JSON, path: str, value: JSON, op: str = "add") -> JSON:
    tokens = parse_pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, op, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif last == "-":
        parent.append(value)
    else:
        parent.insert(_index(last, len(parent), allow_end=True), value)
    return doc


def _remove(doc: JSON, path: str, op: str = "remove") -> tuple[JSON, JSON]:
    """Remove the value at ``path``; returns (document, removed value)."""
    tokens = parse_pointer(path)
    if not tokens:
        raise _OpFailed(f"{op} operation does not apply: cannot remove the whole document")
    parent = _parent(doc, tokens, op, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _OpFailed(f"{op} operation does not apply: doc is missing key: {path}")
        return doc, parent.pop(last)
    if last == "-":
        raise _OpFailed(f"{op} operation does not apply: doc is missing key: {path}")
    return doc, parent.pop(_index(last, len(parent), allow_end=False))


def _replace(doc: JSON, path: str, value: JSON) -> JSON:
    tokens = parse_pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, "replace", path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _OpFailed(f"replace operation does not apply: doc is missing key: {path}")
        parent[last] = value
    else:
        if last == "-":
            raise _OpFailed(f"replace operation does not apply: doc is missing key: {path}")
        parent[_index(last, len(parent), allow_end=False)] = value
    return doc


def _field(op: dict[str, Any], name: str, kind: str) -> Any:
    if name not in op:
        raise _OpFailed(f"operation missing {name} field")
    value = op[name]
    if name != "value" and not isinstance(value, str):
        raise _OpFailed(f"operation {name} field must be a string, not {type(value).__name__}")
    return value


def _apply_one(doc: JSON, op: dict[str, Any]) -> JSON:
    kind = op.get("op")
    if kind not in _OPS:
        raise _OpFailed(f"Unexpected kind: {kind}")
    path = _field(op, "path", kind)
    if kind == "add":
        return _add(doc, path, deep_copy(_field(op, "value", kind)))
    if kind == "remove":
        return _remove(doc, path)[0]
    if kind == "replace":
        return _replace(doc, path, deep_copy(_field(op, "value", kind)))
    if kind == "test":
        expected = _field(op, "value", kind)
        try:
            actual = _get(doc, path, kind)
        except _OpFailed:
            if expected is None:
                return doc
            raise _OpFailed(f"testing value {path} failed: test failed") from None
        if not json_equal(actual, expected):
            raise _OpFailed(f"testing value {path} failed: test failed")
        return doc
    source = _field(op, "from", kind)
    if kind == "move":
        if path != source and path.startswith(source + "/"):
            raise _OpFailed(f"move operation does not apply: from {source} is a prefix of path {path}")
        doc, value = _remove(doc, source, "move")
        return _add(doc, path, value, "move")
    return _add(doc, path, deep_copy(_get(doc, source, "copy")), "copy")


def apply_json_patch(obj: dict, ops: list) -> dict:
    """Apply RFC 6902 operations to a copy of ``obj``; raises PatchError naming the failing op index."""
    if not isinstance(ops, list):
        raise PatchError("json patch: the body must be a JSON array of operations", status=400)
    if len(ops) > MAX_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {len(ops)}",
            status=413,
        )
    doc: JSON = deep_copy(obj)
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise PatchError(f"json patch operation {index}: must be a JSON object", status=400)
        try:
            doc = _apply_one(doc, op)
        except _OpFailed as exc:
            msg = f"json patch operation {index} ({op.get('op')}): {exc}"
            raise PatchError(msg, op_index=index) from None
    if not isinstance(doc, dict):
        raise PatchError("json patch: the result must be a JSON object")
    return doc
