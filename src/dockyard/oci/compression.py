"""Layer compression: gzip, zstd or none, detected by magic bytes, streamed both ways.

A layer blob is read once, front to back: :class:`DecompressingReader` turns the compressed
stream into the uncompressed tar and hashes the tar as it passes (the *diff ID* of the OCI
image spec), so neither the blob nor the tar is ever held whole in memory.  The compression is
detected from the first bytes, not trusted from the media type, because registries and tools
mislabel layers (a "tar" that is really gzip is common in the wild).

:class:`CompressingWriter` is the other direction: tar bytes in, the uncompressed digest
(diff ID) and the compressed digest and size (the descriptor) out.  Output is deterministic:
gzip with mtime 0 and no file name, zstd without a dictionary or content size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from typing import BinaryIO, Literal

import zstandard

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument

Compression = Literal["gzip", "zstd", "none"]

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Compressed bytes read per call; large reads keep Python's per-call cost off the profile.
READ_SIZE = 1 << 20
QUEUE_DEPTH = 8


class LayerFormatError(InvalidArgument):
    """The blob is not a tar in a compression we understand, or it is damaged or truncated."""


def detect(head: bytes) -> Compression:
    """Which compression the first bytes of a blob announce (``none`` for a plain tar)."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def compression_of_media_type(media_type: str | None) -> Compression | None:
    """The compression a media type claims (None when it does not say)."""
    if not media_type:
        return None
    if media_type.endswith("gzip") or media_type.endswith(".gzip"):
        return "gzip"
    if media_type.endswith("zstd"):
        return "zstd"
    if media_type.endswith(".tar") or media_type.endswith("tar"):
        return "none"
    return None


class DecompressingReader:
    """The uncompressed tar of *raw*, chunk by chunk, hashed on the way (:attr:`diff_id`).

    :meth:`next_chunk` returns the next run of tar bytes (any size) and ``b""`` only at the true
    end; a compressed stream that ends before its end-of-stream marker raises
    :class:`LayerFormatError` rather than passing a short tar on as if it were whole.

    With ``threaded=True`` a helper thread reads, decompresses and hashes ahead while the caller
    writes files: zlib, zstd and sha256 all release the GIL, so on two cores decompression costs
    almost nothing on top of the writes (``tar -xz`` gets the same from a separate gzip process).
    At most :data:`QUEUE_DEPTH` chunks wait in memory.
    """

    def __init__(self, raw: BinaryIO, *, what: str = "layer", threaded: bool = False) -> None:
        self._raw = raw
        self._what = what
        self._hash = hashlib.sha256()
        self.total = 0
        head = raw.read(READ_SIZE)
        self.compression = detect(head)
        self._dec = self._new_decompressor()
        self._first: bytes | None = head
        self._eof = False
        self._queue: queue.Queue[bytes | BaseException] | None = None
        self._stop = threading.Event()
        if threaded:
            self._queue = queue.Queue(QUEUE_DEPTH)
            self._thread = threading.Thread(target=self._produce, name="layer-reader", daemon=True)
            self._thread.start()

    def _new_decompressor(self):  # type: ignore[no-untyped-def]
        if self.compression == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self.compression == "zstd":
            return zstandard.ZstdDecompressor().decompressobj()
        return None

    @property
    def diff_id(self) -> Digest:
        return Digest("sha256", self._hash.hexdigest())

    # -- consumer side ----------------------------------------------------------------------
    def next_chunk(self) -> bytes:
        if self._queue is None:
            return self._produce_one()
        if self._eof:
            return b""
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._eof = True
            raise item
        if not item:
            self._eof = True
        return item

    def drain(self) -> None:
        """Consume (and hash) whatever follows the tar's end marker, so the diff ID covers it all."""
        while self.next_chunk():
            pass

    def close(self) -> None:
        """Stop the helper thread (after an error the rest of the stream is not wanted)."""
        if self._queue is not None and not self._eof:
            self._stop.set()
            while self._thread.is_alive():
                try:
                    self._queue.get(timeout=0.05)
                except queue.Empty:
                    pass
            self._eof = True

    # -- producer side ----------------------------------------------------------------------
    def _produce(self) -> None:
        assert self._queue is not None
        try:
            while not self._stop.is_set():
                chunk = self._produce_one()
                self._put(chunk)
                if not chunk:
                    return
        except BaseException as e:
            self._put(e)

    def _put(self, item: bytes | BaseException) -> None:
        assert self._queue is not None
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def _produce_one(self) -> bytes:
        data = self._fill()
        if data:
            self._hash.update(data)
            self.total += len(data)
        return data

    def _next_raw(self) -> bytes:
        if self._first is not None:
            chunk, self._first = self._first, None
            return chunk
        return self._raw.read(READ_SIZE)

    def _fill(self) -> bytes:
        """The next non-empty run of uncompressed bytes, or ``b""`` at the end."""
        while True:
            chunk = self._next_raw()
            if self._dec is None:
                return chunk
            if not chunk:
                if not self._dec.eof:
                    raise LayerFormatError(
                        f"{self._what}: {self.compression} stream ends early; the blob is truncated"
                    )
                return b""
            out = self._inflate(chunk)
            if out:
                return out

    def _inflate(self, chunk: bytes) -> bytes:
        try:
            out = self._dec.decompress(chunk)
            # Concatenated gzip members (pigz, some registries) continue with a fresh decoder.
            while self._dec.eof and self._dec.unused_data:
                rest = self._dec.unused_data
                self._dec = self._new_decompressor()
                out += self._dec.decompress(rest)
        except (zlib.error, zstandard.ZstdError) as e:
            raise LayerFormatError(f"{self._what}: corrupt {self.compression} data ({e})") from e
        return out


class _CountingHasher:
    """The sink end: hashes and counts what the compressor emits, then passes it on."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        pass


class CompressingWriter:
    """A file-like ``write`` target for tarfile that compresses into *out* and hashes both sides."""

    def __init__(self, out: BinaryIO, compression: Compression = "gzip", *, level: int | None = None) -> None:
        if compression not in ("gzip", "zstd", "none"):
            raise InvalidArgument(f"compression {compression!r}: unsupported; use gzip, zstd or none")
        self.compression = compression
        self._sink = _CountingHasher(out)
        self._diff = hashlib.sha256()
        if compression == "gzip":
            # A raw deflate stream in a hand-written gzip frame: header with mtime 0 and no name,
            # so the same tar always gives the same blob digest.
            self._z = zlib.compressobj(level if level is not None else 6, zlib.DEFLATED, -zlib.MAX_WBITS)
            self._crc = 0
            self._sink.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
        elif compression == "zstd":
            self._zc = zstandard.ZstdCompressor(level=level if level is not None else 3).compressobj()
        self._usize = 0

    def write(self, data: bytes) -> int:
        self._diff.update(data)
        self._usize += len(data)
        if self.compression == "gzip":
            self._crc = zlib.crc32(data, self._crc)
            self._sink.write(self._z.compress(data))
        elif self.compression == "zstd":
            self._sink.write(self._zc.compress(data))
        else:
            self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.compression == "gzip":
            self._sink.write(self._z.flush())
            trailer = (self._crc & 0xFFFFFFFF).to_bytes(4, "little") + (self._usize & 0xFFFFFFFF).to_bytes(4, "little")
            self._sink.write(trailer)
        elif self.compression == "zstd":
            self._sink.write(self._zc.flush())

    @property
    def diff_id(self) -> Digest:
        return Digest("sha256", self._diff.hexdigest())

    @property
    def digest(self) -> Digest:
        return Digest("sha256", self._sink.hash.hexdigest())

    @property
    def size(self) -> int:
        return self._sink.size
