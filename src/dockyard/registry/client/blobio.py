"""Moving blob bytes between an HTTP body and the content store, in 1 MiB steps.

Hashing and file writes run in a worker thread (hashlib releases the GIL), so the event loop keeps
receiving on other connections while a chunk is digested; memory stays at a few MiB per transfer
whatever the blob's size.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp

from dockyard.oci.content import ContentWriter

CHUNK = 1 << 20


async def body_into(resp: aiohttp.ClientResponse, writer: ContentWriter, on_bytes: Callable[[int], None]) -> None:
    """Append the response body to *writer*; what arrived before a failure is kept."""
    buf = bytearray()
    try:
        async for chunk in resp.content.iter_any():
            buf += chunk
            if len(buf) >= CHUNK:
                data, buf = bytes(buf), bytearray()
                await asyncio.to_thread(writer.write, data)
                on_bytes(len(data))
    finally:
        if buf:
            writer.write(bytes(buf))
            on_bytes(len(buf))


async def file_slice(path: Path, start: int, length: int, on_bytes: Callable[[int], None]) -> AsyncIterator[bytes]:
    """Read ``length`` bytes of *path* from *start*, as an async body for aiohttp."""
    with open(path, "rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            data = await asyncio.to_thread(f.read, min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            on_bytes(len(data))
            yield data
