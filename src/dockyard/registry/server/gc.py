"""Garbage collection of registry blobs, safe for the engine sharing the same content store.

Only blobs the registry itself stored (``owned`` in :mod:`.state`) are candidates; of those, a
blob goes only when no repository links it, no stored manifest refers to it, no image in the
engine's image store reaches it, no live ingest is producing it and no lease holds it.
:func:`held_blobs` is the converse, for the other collectors of the shared store: everything
the registry keeps.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict, DockyardError, FailedPrecondition, NotFound
from dockyard.oci.content import ContentStore, leased_digests
from dockyard.oci.images import ImageStore
from dockyard.registry.server.state import RegistryState


def engine_blobs(data_root: Path) -> set[Digest]:
    images = ImageStore(data_root)
    try:
        return {d for rec in images.list() for d in images.referenced_blobs(rec.digest, rec.media_type)}
    finally:
        images.close()


def held_blobs(data_root: Path) -> set[Digest]:
    """Blobs the registry under *data_root* holds (see :meth:`RegistryState.held`); none if it
    has never run.  Unreadable state is an error, never an empty set: a caller collecting the
    shared content store would otherwise delete pushed blobs."""
    path = data_root / "registry.db"
    if not path.exists():
        return set()
    try:
        state = RegistryState(path)
        try:
            return {Digest.parse(d) for d in state.held()}
        finally:
            state.close()
    except (sqlite3.Error, ValueError, DockyardError) as e:
        raise FailedPrecondition(f"cannot read the registry's blobs in {path} ({e})") from e


#: Upload sessions untouched for this long are abandoned; docker-registry's default purge age is a week.
UPLOAD_MAX_AGE = 24 * 3600


def abandon_stale_uploads(content: ContentStore, state: RegistryState, *, now: float) -> list[str]:
    """Drop upload sessions started more than UPLOAD_MAX_AGE ago that no server is writing."""
    dropped = []
    for uuid in state.stale_uploads(now - UPLOAD_MAX_AGE):
        try:
            content.writer(f"registry-upload-{uuid}").abort()
        except Conflict:
            continue  # a running server holds it: still in use
        state.end_upload(uuid)
        dropped.append(uuid)
    return dropped


def collect(data_root: Path, *, now: float | None = None) -> list[Digest]:
    content = ContentStore(data_root / "content")
    state = RegistryState(data_root / "registry.db")
    try:
        abandon_stale_uploads(content, state, now=time.time() if now is None else now)
        keep = engine_blobs(data_root) | content.active_expected() | leased_digests(content)
        removed = []
        for text in state.unreferenced_owned():
            digest = Digest.parse(text)
            if digest in keep:
                continue
            try:
                content.delete(digest)
            except NotFound:
                pass
            removed.append(digest)
        state.disown(str(d) for d in removed)
        return removed
    finally:
        state.close()
