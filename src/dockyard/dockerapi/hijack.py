"""Docker's hijacked connections: ``Upgrade: tcp`` → ``101 Switching Protocols`` → raw bytes.

``docker run``/``attach``/``exec`` turn their HTTP request into a bidirectional byte stream:
the client's stdin comes in raw, the container's output goes out raw (with a terminal) or
multiplexed (8-byte header: stream, 0, 0, 0, big-endian length).  aiohttp recognises ``tcp``
upgrades; we take over its payload parser to receive the raw bytes and write to the transport.
A client half-closes (``CloseWrite``) when its stdin ends; aiohttp would then close the whole
connection, so after the 101 the transport is handed to a small protocol of ours that keeps it
open for the output still to come.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

RAW = "application/vnd.docker.raw-stream"
MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
HIGH_WATER = 1 << 20


class _Inbound:
    """aiohttp's payload-parser interface, feeding a queue (b"" marks the end)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.ended = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if data:
            self.queue.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(b"")


class Hijacked:
    def __init__(self, request: web.Request, inbound: _Inbound | None, resp: web.StreamResponse) -> None:
        self.request, self.inbound, self.resp = request, inbound, resp
        self.upgraded = inbound is not None

    async def read(self) -> bytes:
        """Next chunk from the client; b"" at its end (or at once when the client sent no stream)."""
        if self.inbound is None:
            return b""
        return await self.inbound.queue.get()

    async def write(self, data: bytes) -> None:
        if self.upgraded:
            transport = self.request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client went away")
            transport.write(data)
            # flow control by hand: a slow reader must not let the buffer grow without bound
            while transport.get_write_buffer_size() > HIGH_WATER and not transport.is_closing():
                await asyncio.sleep(0.005)
        else:
            await self.resp.write(data)

    async def close(self) -> None:
        if self.upgraded:
            transport = self.request.transport
            if transport is not None:
                transport.close()
        else:
            await self.resp.write_eof()


async def prepare_now(resp: web.StreamResponse, request: web.Request) -> None:
    """Prepare and flush the headers at once: clients (``docker run``'s wait, ``logs -f``, events)
    proceed only once they have them, while aiohttp would hold them until the first body write."""
    writer = await resp.prepare(request)
    if writer is not None:
        writer.send_headers()


async def hijack(request: web.Request, *, tty: bool) -> Hijacked:
    content_type = RAW if tty else MULTIPLEXED
    if request.headers.get("Upgrade", "").lower() != "tcp":
        resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
        await prepare_now(resp, request)
        return Hijacked(request, None, resp)
    resp = web.StreamResponse(status=101, headers={"Content-Type": content_type, "Connection": "Upgrade",
                                                   "Upgrade": "tcp"})
    await prepare_now(resp, request)
    inbound = _Inbound()
    proto = request.protocol
    proto.set_parser(inbound)  # type: ignore[arg-type]  # takes what arrived with the request
    if request.transport is not None:
        request.transport.set_protocol(_Takeover(inbound, proto))
    return Hijacked(request, inbound, resp)


class _Takeover(asyncio.Protocol):
    """The connection's protocol once upgraded: bytes in go to *inbound*; a half-close is not the end."""

    def __init__(self, inbound: _Inbound, original: asyncio.BaseProtocol) -> None:
        self.inbound, self.original = inbound, original

    def data_received(self, data: bytes) -> None:
        self.inbound.feed_data(data)

    def eof_received(self) -> bool:
        self.inbound.feed_eof()
        return True  # keep our half open: output may still follow

    def connection_lost(self, exc: Exception | None) -> None:
        self.inbound.feed_eof()
        self.original.connection_lost(exc)
