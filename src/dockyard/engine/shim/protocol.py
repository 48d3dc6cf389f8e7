"""The shim's wire protocol, shared by the shim and the engine's client.

A client connects to the pod's unix socket and sends ONE request as a JSON line
(``{"op": "start", "id": "<container>"}``); the shim answers with one JSON line,
``{"ok": true, ...}`` or ``{"ok": false, "category": "failed_precondition", "message": "..."}``
(categories are :mod:`dockyard.base.errors`'s, so errors come back as the same class).

``attach`` and ``exec`` then switch the connection to *framed* mode, the layout docker uses for
attach streams: an 8-byte header (stream byte, three zero bytes, big-endian uint32 length) and
the payload.  Streams: 0 stdin (client → shim), 1 stdout, 2 stderr, 3 control (a JSON object:
``{"exit": 0}`` from the shim; ``{"resize": [rows, cols]}`` or ``{"close_stdin": true}`` from
the client).  Bytes stay bytes end to end; only control frames are JSON.

``wait`` keeps the connection open without framing and answers when the container stops.
"""

from __future__ import annotations

import struct

from dockyard.runtime import jsonlite as json  # the C scanner/escaper: no `re`/`enum` imports (~5 ms)

STDIN, STDOUT, STDERR, CONTROL = 0, 1, 2, 3
HEADER = struct.Struct(">BxxxI")
MAX_FRAME = 1 << 20


def frame(stream: int, payload: bytes) -> bytes:
    return HEADER.pack(stream, len(payload)) + payload


def control(obj: dict) -> bytes:
    return frame(CONTROL, json.dumps(obj).encode())


def encode(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


class FrameReader:
    """Incremental decoder: feed bytes, get ``(stream, payload)`` pairs back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while len(self._buf) >= HEADER.size:
            stream, size = HEADER.unpack_from(self._buf)
            if size > MAX_FRAME:
                raise ValueError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
            if len(self._buf) < HEADER.size + size:
                break
            out.append((stream, bytes(self._buf[HEADER.size : HEADER.size + size])))
            del self._buf[: HEADER.size + size]
        return out
