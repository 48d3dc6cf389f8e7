"""Protocol buffers wire format: varints, tags and the four wire types Kubernetes uses.

Generic and schema-free: :func:`fields` splits one message's bytes into ``(number, wire type,
value)`` triples; what a field means is :mod:`.decode`'s business.  Every malformation (truncated
varint or length, a group or an unknown wire type) raises :class:`Malformed`, a 400.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from dockyard.cluster.api.errors import BadRequest

VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5
_MAX_VARINT = 10


class Malformed(BadRequest):
    """The body is not valid protobuf."""


def varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    value = shift = 0
    for i in range(_MAX_VARINT):
        if pos + i >= len(buf):
            raise Malformed(f"protobuf body is malformed: truncated varint at byte {pos}")
        b = buf[pos + i]
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos + i + 1
        shift += 7
    raise Malformed(f"protobuf body is malformed: varint longer than 10 bytes at byte {pos}")


def signed(value: int, bits: int = 64) -> int:
    """Two's complement reading of a varint (proto int32/int64 encode negatives as 10-byte varints)."""
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) % (1 << 32)) - (1 << 31)
    return value


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """Each field of one message in wire order: varint and fixed values as ints, LEN as a view."""
    view = memoryview(buf)
    pos, end = 0, len(view)
    while pos < end:
        tag, pos = varint(view, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise Malformed(f"protobuf body is malformed: field number 0 at byte {pos}")
        if wire == VARINT:
            value, pos = varint(view, pos)
            yield number, wire, value
        elif wire == LEN:
            size, pos = varint(view, pos)
            if pos + size > end:
                raise Malformed(f"protobuf body is malformed: field {number} is {size} bytes long "
                                f"but only {end - pos} remain")
            yield number, wire, view[pos:pos + size]
            pos += size
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if pos + width > end:
                raise Malformed(f"protobuf body is malformed: truncated fixed{width * 8} field {number}")
            yield number, wire, int.from_bytes(view[pos:pos + width], "little")
            pos += width
        else:
            raise Malformed(f"protobuf body is malformed: field {number} has unsupported wire type {wire}")


def packed_varints(view: memoryview) -> Iterator[int]:
    """The values of a packed repeated varint field."""
    pos = 0
    while pos < len(view):
        value, pos = varint(view, pos)
        yield value


def double(bits: int) -> float:
    return float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])
