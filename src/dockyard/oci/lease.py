"""Leases: protection from garbage collection for blobs that nothing references yet.

A build writes its layers before it writes the manifest that references them, and a load ingests
blobs before it tags the image; in between, those blobs look like garbage.  The writer takes a
lease and adds each digest to it; GC treats every digest in a live lease as a root.

A lease is a file ``<content>/leases/<id>`` listing digests, one a line, and it is live while its
holder keeps an exclusive ``flock`` on it.  The kernel drops the lock when the holder exits or is
killed, so a crashed build cannot pin blobs forever: the next GC sees an unlocked lease file, ignores
it and removes it.  The same flock idiom marks live ingests in :mod:`dockyard.oci.content`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from dockyard.base.digest import Digest


def try_lock(fd: int) -> bool:
    """Take an exclusive flock without waiting; False if another open file holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Lease:
    """Protects blobs from GC while nothing references them yet (a build, a load in progress).

    Held by a flock on ``leases/<id>``; the file lists the protected digests.  A lease whose holder
    died is ignored (and removed) by the next GC.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / os.urandom(16).hex()  # as uuid4().hex, without importing uuid
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def add(self, digest: Digest) -> Digest:
        os.write(self._fd, f"{digest}\n".encode())
        return digest

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def leased_digests(lease_dir: Path, *, remove_stale: bool = True) -> set[Digest]:
    """Digests held by the live leases in *lease_dir*; stale lease files (holder gone) are removed."""
    out: set[Digest] = set()
    if not lease_dir.is_dir():
        return out
    for path in lease_dir.iterdir():
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            if try_lock(fd):
                if remove_stale:
                    path.unlink(missing_ok=True)
                continue
            out.update(Digest.parse(line) for line in path.read_text().split() if line)
        finally:
            os.close(fd)
    return out
