"""Talking to a pod's shim without a thread: ``wait``, ``attach`` and ``exec`` over asyncio.

The engine's :class:`~dockyard.engine.shimclient.ShimClient` blocks; a daemon holding hundreds of
attach streams or waits must not spend a thread on each.  The wire format is the shim's own
(:mod:`dockyard.engine.shim.protocol`): one JSON request line, one JSON reply line, then frames
with docker's 8-byte header — which is why attach output can be passed to Docker clients as is.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from dockyard.base.errors import Unavailable, from_wire
from dockyard.engine.shim import protocol
from dockyard.engine.shimclient import shim_dir


def socket_path(state_dir: Path, pod: str) -> Path:
    return shim_dir(state_dir, pod) / "shim.sock"


class ShimStream:
    """An open request: ``reply`` is the shim's answer, frames follow on ``reader``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: dict,
                 what: str = "") -> None:
        self.reader, self.writer, self.reply, self.what = reader, writer, reply, what

    async def read_reply(self) -> dict:
        line = await self.reader.readline()
        if not line:
            self.writer.close()
            raise Unavailable(self.what)
        self.reply = json.loads(line)
        if not self.reply.get("ok"):
            self.writer.close()
            err = from_wire(self.reply)
            # 127 (not found) or 126 (cannot run) when a process could not be started: exec's code
            err.exec_failure = int(self.reply.get("exec_failure") or 0)  # type: ignore[attr-defined]
            raise err
        return self.reply

    async def frames(self):
        """Yield ``(stream, payload)`` until the shim closes the connection."""
        header = protocol.HEADER
        while True:
            try:
                head = await self.reader.readexactly(header.size)
                kind, size = header.unpack(head)
                payload = await self.reader.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            yield kind, payload

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


async def request(sock: Path, op: str, **fields) -> ShimStream:
    stream = await send(sock, op, **fields)
    await stream.read_reply()
    return stream


async def send(sock: Path, op: str, **fields) -> ShimStream:
    """Send the request without waiting for its answer (``wait`` answers only at the exit)."""
    try:
        reader, writer = await asyncio.open_unix_connection(str(sock), limit=1 << 22)
    except OSError as e:
        raise Unavailable(f"shim at {sock}: not answering ({e.strerror or e})") from e
    writer.write(protocol.encode({"op": op, **fields}))
    await writer.drain()
    return ShimStream(reader, writer, {}, f"shim at {sock}: closed the connection before answering {op}")


async def wait(sock: Path, cid: str) -> int:
    """Block (asynchronously) until the container stops; its exit code."""
    stream = await send(sock, "wait", id=cid)
    try:
        await stream.read_reply()
    finally:
        stream.close()
    code = stream.reply.get("exit_code")
    return int(code) if code is not None else 255
