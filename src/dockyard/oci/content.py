"""The content store: blobs addressed by digest, written by streaming ingests that can resume.

Every byte of image data dockyard keeps (layer tars, configs, manifests, indexes) lives here as an
immutable file named by its digest, ``<root>/blobs/<algorithm>/<hex>`` -- the same shape as an OCI
image layout's ``blobs`` folder, so a layout export is a matter of copying (or hard-linking) files.

The store plays three roles, as containerd's content store does:

* **Provider** -- read a blob by digest: :meth:`ContentStore.open` gives a file object to stream
  from, :meth:`~ContentStore.read_bytes` returns small JSON documents (manifests, configs) and
  refuses anything large, because a layer must never be held whole in memory.
* **Ingester** -- write a blob.  :meth:`ContentStore.writer` opens a :class:`ContentWriter` for a
  caller-chosen *ref* (a name for this piece of work, such as ``"layer-sha256:ab…"``).  The writer
  appends to a partial file under ``<root>/ingest/<hash of ref>/`` while hashing what it writes;
  :meth:`ContentWriter.commit` fsyncs it, checks its size and digest against what the caller
  expected, and renames it into ``blobs/``.  Only a verified, fsynced file is ever visible as a blob;
  a digest mismatch raises :class:`DigestMismatch` and leaves nothing behind.
* **Manager** -- ask what is there (:meth:`~ContentStore.has`, :meth:`~ContentStore.size`,
  :meth:`~ContentStore.list`), remove blobs (:meth:`~ContentStore.delete`, used by garbage
  collection), and see which ingests are live (:meth:`~ContentStore.active_ingests`).

Lifecycle of an ingest.  A ref is held by at most one live writer: the writer takes an exclusive
``flock`` on the ref's lock file and keeps it until commit or abort.  A second writer for the same
ref gets :class:`~dockyard.base.errors.Conflict`.  The kernel drops the lock when its holder dies,
so after a crash (even SIGKILL) the next ``writer(ref)`` takes over the partial data: it re-hashes
what is on disk and continues at :attr:`ContentWriter.offset`, the way a registry pull resumes
with an HTTP range request.  A partial that cannot be the expected blob (longer than the expected
size, or started for a different digest) is discarded instead.  :meth:`ContentStore.ingest` wraps
all of this for a stream that starts at byte 0, skipping the bytes already on disk.

Garbage collection never touches ``ingest/``; it spares blobs named by a live ingest's expected
digest and blobs held by a :class:`Lease`, which a caller takes while it writes blobs that no
image references yet (a build writing layers before it commits the image).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict, InvalidArgument, NotFound
from dockyard.base.fsutil import fsync_dir
from dockyard.oci.lease import Lease, try_lock
from dockyard.oci.lease import leased_digests as _leased_in

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

_CHUNK = 1 << 20


class DigestMismatch(InvalidArgument):
    """The bytes written do not hash (or measure) to what the caller said they would."""


class BlobNotFound(NotFound):
    """No blob with that digest is in the store."""


class ContentWriter:
    """One ingest in progress; see the module docstring for its lifecycle.

    Use as a context manager: leaving the block without :meth:`commit` keeps the partial data for
    a later resume if an exception escaped, and releases the ref either way.
    """

    def __init__(self, store: ContentStore, ref: str, *, expected: Digest | None, size: int | None) -> None:
        self._store = store
        self.ref = ref
        self.expected = expected
        self.total = size
        self._dir = store._ingest_dir(ref)
        self._lock_fd = self._acquire()
        import hashlib  # here, not at the top: ~2 ms that `dockyard run` (which only reads) never needs

        self._hash = hashlib.new(expected.algorithm if expected else "sha256")
        try:
            self._file = self._open_partial()
        except BaseException:
            os.close(self._lock_fd)
            raise
        self.offset = self._file.tell()
        self._closed = False

    # -- opening ----------------------------------------------------------------------------
    def _acquire(self) -> int:
        # The directory can vanish between open and flock (its previous writer committed and
        # removed it), so check that the lock we hold is still the one on disk, else retry.
        for _ in range(20):
            self._dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self._dir / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                continue
            if not try_lock(fd):
                os.close(fd)
                raise Conflict(f"content ingest {self.ref!r}: another writer holds it; wait or abort it")
            try:
                if os.stat(self._dir / "lock").st_ino == os.fstat(fd).st_ino:
                    return fd
            except FileNotFoundError:
                pass
            os.close(fd)
        raise Conflict(f"content ingest {self.ref!r}: could not take its lock; retry")

    def _open_partial(self) -> BinaryIO:
        meta = self._dir / "expected"
        data = self._dir / "data"
        recorded = meta.read_text() if meta.exists() else ""
        want = str(self.expected) if self.expected else ""
        stale = recorded != want
        if not stale and self.total is not None and data.exists() and data.stat().st_size > self.total:
            stale = True
        if stale or not data.exists():
            with contextlib.suppress(FileNotFoundError):
                data.unlink()
            (self._dir / "ref").write_text(self.ref)
            meta.write_text(want)
        f = open(data, "a+b")  # noqa: SIM115 -- owned by the writer until commit/abort
        f.seek(0)
        while chunk := f.read(_CHUNK):
            self._hash.update(chunk)
        f.seek(0, os.SEEK_END)
        return f  # type: ignore[return-value]

    # -- writing ----------------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        if self._closed:
            raise InvalidArgument(f"content ingest {self.ref!r}: writer is closed")
        self._file.write(data)
        self._hash.update(data)
        self.offset += len(data)
        if self.total is not None and self.offset > self.total:
            self.abort()
            raise DigestMismatch(f"content ingest {self.ref!r}: more than the expected {self.total} bytes")
        return len(data)

    def digest(self) -> Digest:
        return Digest(self._hash.name, self._hash.hexdigest())

    def commit(self, expected: Digest | None = None) -> Digest:
        """Verify, fsync and publish the blob; return its digest.  Idempotent if it already exists."""
        expected = expected or self.expected
        got = self.digest()
        if self.total is not None and self.offset != self.total:
            self.abort()
            raise DigestMismatch(
                f"content ingest {self.ref!r}: got {self.offset} bytes, expected {self.total}"
            )
        if expected is not None and got != expected:
            self.abort()
            raise DigestMismatch(f"content ingest {self.ref!r}: content is {got}, expected {expected}")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        target = self._store.path(got)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = self._dir / "data"
        os.chmod(data, 0o444)
        if target.exists():
            data.unlink()
        else:
            os.replace(data, target)
            fsync_dir(target.parent)
        self._release(remove=True)
        return got

    def abort(self) -> None:
        """Drop the partial data and the ref."""
        if not self._closed:
            self._file.close()
            self._release(remove=True)

    def close(self) -> None:
        """Release the ref but keep the partial data for a later resume."""
        if not self._closed:
            self._file.flush()
            self._file.close()
            self._release(remove=False)

    def _release(self, *, remove: bool) -> None:
        self._closed = True
        if remove:
            # Unlink the lock file last, while we still hold it, so a waiting writer retries.
            for name in ("data", "ref", "expected", "lock"):
                with contextlib.suppress(FileNotFoundError):
                    (self._dir / name).unlink()
            with contextlib.suppress(OSError):
                self._dir.rmdir()
        os.close(self._lock_fd)

    def __enter__(self) -> ContentWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()


class ContentStore:
    """Blobs under ``root`` (normally ``<data root>/content``); see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.ingests = self.root / "ingest"

    # -- Provider ---------------------------------------------------------------------------
    def path(self, digest: Digest) -> Path:
        return self.blobs / digest.algorithm / digest.encoded

    def has(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise self._missing(digest) from None

    def open(self, digest: Digest) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise self._missing(digest) from None

    def read_bytes(self, digest: Digest, *, limit: int = 4 << 20) -> bytes:
        """A small blob (manifest, config, index) whole; refuses blobs over *limit* bytes."""
        size = self.size(digest)
        if size > limit:
            raise InvalidArgument(f"blob {digest}: {size} bytes is too large to read whole (limit {limit})")
        with self.open(digest) as f:
            return f.read()

    # -- Ingester ---------------------------------------------------------------------------
    def writer(self, ref: str, *, expected: Digest | None = None, size: int | None = None) -> ContentWriter:
        if not ref:
            raise InvalidArgument("content ingest: a ref is required")
        return ContentWriter(self, ref, expected=expected, size=size)

    def ingest(
        self,
        stream: BinaryIO,
        *,
        expected: Digest | None = None,
        size: int | None = None,
        ref: str | None = None,
        wait: float = 60.0,
    ) -> Digest:
        """Stream *stream* (read from its start) into the store, verify it and commit it.

        If another process is ingesting the same ref (two pulls of one layer), wait up to *wait*
        seconds for it: usually it commits the blob and we are done without reading *stream*.
        """
        if expected is not None and self.has(expected):
            return expected
        ref = ref or (f"ingest-{expected}" if expected else f"ingest-{os.urandom(16).hex()}")
        deadline, pause = time.monotonic() + wait, 0.01
        while True:
            try:
                w = self.writer(ref, expected=expected, size=size)
                break
            except Conflict:
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
                if expected is not None and self.has(expected):
                    return expected
        resumed = w.offset > 0
        try:
            return self._copy(w, stream, anonymous=expected is None)
        except DigestMismatch:
            # A partial left by a crash can be damaged (a torn write at power loss); start over
            # once from byte 0 when the stream allows it, rather than fail the whole pull.
            if not (resumed and stream.seekable()):
                raise
        stream.seek(0)
        return self._copy(self.writer(ref, expected=expected, size=size), stream, anonymous=expected is None)

    @staticmethod
    def _copy(w: ContentWriter, stream: BinaryIO, *, anonymous: bool) -> Digest:
        with w:
            if w.offset:
                _skip(stream, w.offset)
            try:
                while chunk := stream.read(_CHUNK):
                    w.write(chunk)
            except DigestMismatch:
                raise
            except BaseException:
                if anonymous:  # nobody can resume an anonymous ingest
                    w.abort()
                raise
            return w.commit()

    def put_bytes(self, data: bytes, *, expected: Digest | None = None) -> Digest:
        digest = Digest.from_bytes(data, expected.algorithm if expected else "sha256")
        if expected is not None and digest != expected:
            raise DigestMismatch(f"blob: content is {digest}, expected {expected}")
        if self.has(digest):
            return digest
        with self.writer(f"put-{digest}-{os.urandom(4).hex()}", expected=digest, size=len(data)) as w:
            w.write(data)
            return w.commit()

    # -- Manager ----------------------------------------------------------------------------
    def delete(self, digest: Digest) -> None:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            raise self._missing(digest) from None

    def list(self) -> Iterator[Digest]:
        if not self.blobs.is_dir():
            return
        for algo_dir in sorted(self.blobs.iterdir()):
            for blob in sorted(algo_dir.iterdir()):
                if not blob.name.startswith("."):
                    yield Digest(algo_dir.name, blob.name)

    def active_ingests(self) -> list[str]:
        """Refs whose writer is alive now (their lock is held)."""
        return [ref for ref, _, live in self._ingest_entries() if live]

    def active_expected(self) -> set[Digest]:
        """Digests that live ingests promise to produce (GC keeps these blobs)."""
        out: set[Digest] = set()
        for _, path, live in self._ingest_entries():
            text = (path / "expected").read_text() if (path / "expected").exists() else ""
            if live and text:
                out.add(Digest.parse(text))
        return out

    def _ingest_entries(self) -> Iterator[tuple[str, Path, bool]]:
        if not self.ingests.is_dir():
            return
        for path in sorted(self.ingests.iterdir()):
            try:
                ref = (path / "ref").read_text()
                fd = os.open(path / "lock", os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                free = try_lock(fd)
            finally:
                os.close(fd)  # closing drops the probe lock if we got it
            yield ref, path, not free

    def lease(self) -> Lease:
        """A new lease (see :mod:`dockyard.oci.lease`) protecting blobs of this store from GC."""
        return Lease(self.root / "leases")

    def leased(self) -> set[Digest]:
        """Digests held by live leases (GC keeps these blobs)."""
        return _leased_in(self.root / "leases")

    def _ingest_dir(self, ref: str) -> Path:
        import hashlib

        return self.ingests / hashlib.sha256(ref.encode()).hexdigest()

    @staticmethod
    def _missing(digest: Digest) -> BlobNotFound:
        return BlobNotFound(f"blob {digest}: not found in the content store")


def _skip(stream: BinaryIO, n: int) -> None:
    """Advance a stream that starts at byte 0 past the *n* bytes a resumed ingest already has."""
    try:
        if stream.seekable():
            stream.seek(n, os.SEEK_CUR)
            return
    except (AttributeError, OSError):
        pass
    while n > 0:
        chunk = stream.read(min(n, _CHUNK))
        if not chunk:
            raise DigestMismatch("content ingest: stream ended before the bytes already ingested")
        n -= len(chunk)


def leased_digests(store: ContentStore, *, remove_stale: bool = True) -> set[Digest]:
    """Digests held by *store*'s live leases (same as ``store.leased()``)."""
    return _leased_in(store.root / "leases", remove_stale=remove_stale)
