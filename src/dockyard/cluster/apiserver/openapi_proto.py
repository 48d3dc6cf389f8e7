"""``/openapi/v2`` as protobuf: the same document, in the gnostic ``openapi.v2.Document`` encoding.

kubectl asks for the v2 document only in protobuf (``Accept:
application/com.github.proto-openapi.spec.v2@v1.0+protobuf``), and only when the v3 document has
no operation for a kind it is about to send — ``kubectl apply -f`` of a ``v1 List`` (what ``kubectl
get -o yaml`` writes) is the common case.  It then reads the PATCH operations' parameters (does the
server take ``fieldValidation``?) and the definitions (client-side validation).  A 406 there makes
kubectl refuse the apply, so we encode what :func:`.openapi.v2_document` builds.

Field numbers are those of gnostic's published ``openapiv2/OpenAPIv2.proto``; vendor extensions
(``x-kubernetes-…``) travel as ``NamedAny`` with the value as YAML text, as kube-openapi writes
them (JSON is YAML).  Only what our documents contain is encoded.
"""

from __future__ import annotations

import json
import struct
from typing import Any

Obj = dict[str, Any]
CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s as two's complement, as protobuf does
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _len(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _str(field: int, text: str) -> bytes:
    return _len(field, text.encode()) if text else b""


def _int(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(int(n)) if n else b""


def _bool(field: int, flag: bool) -> bytes:
    return _varint(field << 3) + b"\x01" if flag else b""


def _double(field: int, x: float) -> bytes:
    return _varint(field << 3 | 1) + struct.pack("<d", float(x)) if x else b""


def _any(field: int, value: Any) -> bytes:
    """``Any{yaml: …}`` — kube-openapi's encoding of free-form values."""
    return _len(field, _str(2, json.dumps(value, separators=(",", ":"))))


def _extensions(field: int, node: Obj) -> bytes:
    return b"".join(_len(field, _str(1, k) + _any(2, v)) for k, v in node.items() if k.startswith("x-"))


#: Schema fields: JSON name → (field number, kind).
_SCHEMA: dict[str, tuple[int, str]] = {
    "$ref": (1, "str"), "format": (2, "str"), "title": (3, "str"), "description": (4, "str"),
    "default": (5, "any"), "multipleOf": (6, "double"), "maximum": (7, "double"),
    "exclusiveMaximum": (8, "bool"), "minimum": (9, "double"), "exclusiveMinimum": (10, "bool"),
    "maxLength": (11, "int"), "minLength": (12, "int"), "pattern": (13, "str"), "maxItems": (14, "int"),
    "minItems": (15, "int"), "uniqueItems": (16, "bool"), "maxProperties": (17, "int"),
    "minProperties": (18, "int"), "readOnly": (27, "bool"), "example": (30, "any"),
}


def schema(node: Obj) -> bytes:
    out = bytearray()
    for key, (num, kind) in _SCHEMA.items():
        if key in node:
            value = node[key]
            out += {"str": _str, "int": _int, "bool": _bool, "double": _double, "any": _any}[kind](num, value)
    for name in node.get("required") or ():
        out += _len(19, name.encode())
    for value in node.get("enum") or ():
        out += _len(20, _str(2, json.dumps(value)))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out += _len(21, _len(1, schema(extra)))
    elif isinstance(extra, bool):
        out += _len(21, _varint(2 << 3) + (b"\x01" if extra else b"\x00"))
    types = node.get("type")
    if types:
        out += _len(22, b"".join(_str(1, t) for t in ([types] if isinstance(types, str) else types)))
    items = node.get("items")
    if items:
        out += _len(23, b"".join(_len(1, schema(i)) for i in (items if isinstance(items, list) else [items])))
    for sub in node.get("allOf") or ():
        out += _len(24, schema(sub))
    props = node.get("properties")
    if props:
        out += _len(25, b"".join(_len(1, _str(1, k) + _len(2, schema(v))) for k, v in props.items()))
    out += _extensions(31, node)
    return bytes(out)


def _parameter(p: Obj) -> bytes:
    if p.get("in") == "body":
        body = _str(1, p.get("description", "")) + _str(2, p["name"]) + _str(3, "body") + \
            _bool(4, p.get("required", False)) + _len(5, schema(p.get("schema") or {}))
        return _len(1, _len(1, body))
    sub = {"query": 3, "path": 4, "header": 1}.get(p.get("in", "query"), 3)
    fields = _bool(1, p.get("required", False)) + _str(2, p.get("in", "query")) + \
        _str(3, p.get("description", "")) + _str(4, p["name"])
    if sub == 3:
        fields += _str(6, p.get("type", "")) + _bool(20, p.get("uniqueItems", False))
    else:
        fields += _str(5, p.get("type", "")) + _bool(19, p.get("uniqueItems", False))
    return _len(1, _len(2, _len(sub, fields)))


def _operation(op: Obj) -> bytes:
    out = bytearray()
    for tag in op.get("tags") or ():
        out += _str(1, tag)
    out += _str(3, op.get("description", "")) + _str(5, op.get("operationId", ""))
    for p in op.get("parameters") or ():
        out += _len(8, _parameter(p))
    codes = b""
    for code, resp in (op.get("responses") or {}).items():
        response = _str(1, resp.get("description", ""))
        if resp.get("schema"):
            response += _len(2, _len(1, schema(resp["schema"])))
        codes += _len(1, _str(1, code) + _len(2, _len(1, response)))
    if codes:
        out += _len(9, codes)
    out += _extensions(13, op)
    return bytes(out)


_VERBS = {"get": 2, "put": 3, "post": 4, "delete": 5, "options": 6, "head": 7, "patch": 8}


def document(doc: Obj) -> bytes:
    """A Swagger 2.0 document (as JSON dict) encoded as ``openapi.v2.Document``."""
    info = doc.get("info") or {}
    out = bytearray(_str(1, doc.get("swagger", "2.0")))
    out += _len(2, _str(1, info.get("title", "")) + _str(2, info.get("version", "")))
    paths = b""
    for path, item in (doc.get("paths") or {}).items():
        ops = b"".join(_len(_VERBS[verb], _operation(op)) for verb, op in item.items() if verb in _VERBS)
        paths += _len(2, _str(1, path) + _len(2, ops))
    out += _len(8, paths)
    defs = b"".join(_len(1, _str(1, name) + _len(2, schema(s))) for name, s in (doc.get("definitions") or {}).items())
    out += _len(9, defs)
    return bytes(out)
