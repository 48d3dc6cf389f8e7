"""The Kubernetes protobuf envelope and the table-driven walk from wire fields to a JSON object.

A body is ``k8s\\0`` then a ``runtime.Unknown`` message: type meta (1), the object's own bytes (2),
content encoding (3) and content type (4).  The object is decoded with the message table of its
``(apiVersion, kind)`` into exactly the dict a JSON body would have given.  Malformed bytes are a
400; a kind, a message or a field number we have no table for is a 415 telling the client to send
JSON instead — nothing is ever silently dropped.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from dockyard.cluster.api.errors import UnsupportedMediaType
from dockyard.cluster.api.protobuf import wire
from dockyard.cluster.api.protobuf.schema import SCALARS, Field, kinds, tables
from dockyard.cluster.api.protobuf.wire import LEN, VARINT, Malformed

MAGIC = b"k8s\x00"
_RETRY = "; send the object as JSON instead (Content-Type: application/json, e.g. kubectl create -f FILE)"
_WIRE = {"string": LEN, "bytes": LEN, "bool": VARINT, "int32": VARINT, "int64": VARINT, "double": wire.FIXED64}


class Unsupported(UnsupportedMediaType):
    """A well-formed protobuf body this server has no table for."""

    def __init__(self, what: str) -> None:
        super().__init__(f"protobuf body not supported: {what}{_RETRY}")


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON object a ``application/vnd.kubernetes.protobuf`` request body carries."""
    if not body.startswith(MAGIC):
        raise Malformed("protobuf body is malformed: it does not start with the k8s\\0 magic prefix")
    type_meta: dict[str, str] = {}
    raw: memoryview | bytes = b""
    encoding = ""
    for number, wtype, value in wire.fields(memoryview(body)[len(MAGIC):]):
        if number == 1 and wtype == LEN:
            assert isinstance(value, memoryview)
            type_meta = {{1: "apiVersion", 2: "kind"}.get(n, ""): _text(v, "TypeMeta")
                         for n, t, v in wire.fields(value) if t == LEN and n in (1, 2)}
        elif number == 2 and wtype == LEN:
            assert isinstance(value, memoryview)
            raw = value
        elif number == 3 and wtype == LEN:
            assert isinstance(value, memoryview)
            encoding = _text(value, "Unknown")
        elif number == 4 and wtype == LEN:
            pass  # the inner content type: always protobuf in practice
        else:
            raise Malformed(f"protobuf body is malformed: unexpected field {number} (wire type {wtype}) "
                            f"in the runtime.Unknown envelope")
    if encoding:
        raise Unsupported(f'content encoding "{encoding}"')
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    message = kinds().get((api_version, kind))
    if message is None:
        raise Unsupported(f"kind {kind or '(none)'} of apiVersion {api_version or '(none)'} is not decoded by this server")
    return {"apiVersion": api_version, "kind": kind, **_message(raw, message)}


def _message(buf: bytes | memoryview, name: str) -> dict[str, Any]:
    table = tables().get(name)
    if table is None:
        raise Unsupported(f"message {name} is not decoded by this server")
    out: dict[str, Any] = {}
    for number, wtype, value in wire.fields(buf):
        field = table.get(number)
        if field is None:
            raise Unsupported(f"field number {number} of message {name} is not known to this server")
        _put(out, field, wtype, value, name)
    return out


def _put(out: dict[str, Any], field: Field, wtype: int, value: int | memoryview, parent: str) -> None:
    where = f"{parent}.{field.name} (field {field.number})"
    if field.map:
        key, item = _map_entry(_view(value, wtype, where), field, where)
        out.setdefault(field.name, {})[key] = item
        return
    if field.repeated:
        items = out.setdefault(field.name, [])
        if wtype == LEN and _WIRE.get(field.type, LEN) != LEN:  # packed scalars
            assert isinstance(value, memoryview)
            items.extend(_scalar(field, VARINT, v, where) for v in wire.packed_varints(value))
        else:
            items.append(_value(field, wtype, value, where))
        return
    decoded = _value(field, wtype, value, where)
    if field.name == "*":
        out.update(decoded)
    elif decoded is None:  # Go's zero Time: JSON null, left out as the JSON path leaves it
        out.pop(field.name, None)
    elif field.pointer or field.type not in SCALARS or decoded not in ("", 0, False):
        out[field.name] = decoded


def _value(field: Field, wtype: int, value: int | memoryview, where: str) -> Any:
    if field.type in SCALARS:
        return _scalar(field, wtype, value, where)
    view = _view(value, wtype, where)
    special = _SPECIAL.get(field.type)
    if special is not None:
        return special(view, where)
    return _message(view, field.type)


def _scalar(field: Field, wtype: int, value: int | memoryview, where: str) -> Any:
    expected = _WIRE[field.type]
    if wtype != expected:
        raise Malformed(f"protobuf body is malformed: {where} has wire type {wtype}, expected {expected}")
    if field.type == "string":
        assert isinstance(value, memoryview)
        return _text(value, where)
    if field.type == "bytes":
        assert isinstance(value, memoryview)
        return base64.b64encode(bytes(value)).decode()
    assert isinstance(value, int)
    if field.type == "bool":
        return value != 0
    if field.type == "double":
        return wire.double(value)
    return wire.signed(value, 32 if field.type == "int32" else 64)


def _map_entry(view: memoryview, field: Field, where: str) -> tuple[str, Any]:
    key, item = "", None
    value_field = Field(2, "value", field.type, pointer=True)
    for number, wtype, value in wire.fields(view):
        if number == 1 and wtype == LEN:
            assert isinstance(value, memoryview)
            key = _text(value, where)
        elif number == 2:
            item = _value(value_field, wtype, value, where)
        else:
            raise Malformed(f"protobuf body is malformed: map entry of {where} has field {number}")
    if item is None:  # an absent value is the type's zero value
        item = {"string": "", "bytes": "", "Quantity": "0"}.get(field.type, {})
    return key, item


def _view(value: int | memoryview, wtype: int, where: str) -> memoryview:
    if wtype != LEN or not isinstance(value, memoryview):
        raise Malformed(f"protobuf body is malformed: {where} has wire type {wtype}, expected a message")
    return value


def _text(view: memoryview, where: str) -> str:
    try:
        return bytes(view).decode()
    except UnicodeDecodeError:
        raise Malformed(f"protobuf body is malformed: {where} is not valid UTF-8") from None


def _sub(view: memoryview, where: str, allowed: dict[int, int]) -> dict[int, Any]:
    """A special message's fields by number, each checked against its expected wire type."""
    got: dict[int, Any] = {}
    for number, wtype, value in wire.fields(view):
        if allowed.get(number) != wtype:
            raise Malformed(f"protobuf body is malformed: {where} has field {number} with wire type {wtype}")
        got[number] = value
    return got


def _quantity(view: memoryview, where: str) -> str:
    got = _sub(view, where, {1: LEN})
    return _text(got[1], where) if 1 in got else "0"


def _int_or_string(view: memoryview, where: str) -> int | str:
    got = _sub(view, where, {1: VARINT, 2: VARINT, 3: LEN})
    if got.get(1, 0) == 1:
        return _text(got[3], where) if 3 in got else ""
    return wire.signed(got.get(2, 0), 32)


def _time(view: memoryview, where: str, micro: bool = False) -> str | None:
    got = _sub(view, where, {1: VARINT, 2: VARINT})
    seconds, nanos = wire.signed(got.get(1, 0)), wire.signed(got.get(2, 0), 32)
    if seconds == 0 and nanos == 0:
        return None  # Go's zero time, which JSON renders as null
    try:
        moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        raise Malformed(f"protobuf body is malformed: {where} is out of range") from None
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw_json(view: memoryview, where: str) -> Any:
    got = _sub(view, where, {1: LEN})
    if 1 not in got:
        return None
    try:
        return json.loads(bytes(got[1]))
    except ValueError:
        raise Unsupported(f"{where} holds bytes that are not JSON") from None


_SPECIAL = {
    "Quantity": _quantity,
    "IntOrString": _int_or_string,
    "Time": _time,
    "MicroTime": lambda view, where: _time(view, where, micro=True),
    "RawExtension": _raw_json,
}
