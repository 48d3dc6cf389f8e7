"""Garbage collection: mark what images and snapshots need, sweep the rest (blobs, then snapshots).

Mark starts from every image in the image store (an index leads to its manifests, a manifest to
its config and layers), from caller-supplied roots (the engine passes the images its containers
were created from, the snapshotter the layers its snapshots came from), from live leases and from
the digests that live ingests are writing.  Sweep deletes every other blob -- except blobs that
appeared after the mark began (their inode changed after we started), which a concurrent writer
has just committed and may be about to reference.  Partial ingests are never touched, unless they
are abandoned (no live writer) and older than ``stale_ingest_age``.

Snapshots are collected the same way by :func:`collect_snapshots`: a committed layer snapshot
lives while some image has that layer (by chain ID) or a container's snapshot sits on it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from dockyard.base.digest import Digest
from dockyard.base.errors import DockyardError, InvalidArgument, NotFound
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore
from dockyard.oci.lease import try_lock
from dockyard.oci.manifest import Manifest, config_diff_ids, parse
from dockyard.oci.snapshot import Kind, Snapshotter

Roots = Iterable[Digest] | Callable[[], Iterable[Digest]]


@dataclass(slots=True)
class GCResult:
    removed: list[Digest] = field(default_factory=list)
    freed: int = 0
    kept: int = 0
    stale_ingests: int = 0


def mark(images: ImageStore, extra_roots: Roots = ()) -> set[Digest]:
    live: set[Digest] = set()
    for record in images.list():
        live.update(images.referenced_blobs(record.digest, record.media_type))
    roots = extra_roots() if callable(extra_roots) else extra_roots
    for root in roots:
        live.update(_expand(images, root))
    content = images.content
    live |= content.leased() | content.active_expected()
    return live


def _expand(images: ImageStore, digest: Digest) -> Iterable[Digest]:
    """A root may be any blob; if it is a manifest or index, everything below it is live too."""
    content = images.content
    if not content.has(digest) or content.size(digest) > (4 << 20):
        return [digest]
    try:
        parse(content.read_bytes(digest))
    except (InvalidArgument, NotFound):
        return [digest]
    return list(images.referenced_blobs(digest))


def collect(images: ImageStore, *, extra_roots: Roots = (), dry_run: bool = False,
            stale_ingest_age: float | None = None) -> GCResult:
    started = time.time_ns()
    live = mark(images, extra_roots)
    content = images.content
    result = GCResult()
    for digest in list(content.list()):
        if digest in live:
            result.kept += 1
            continue
        try:
            st = content.path(digest).stat()
        except FileNotFoundError:
            continue
        if st.st_ctime_ns > started:  # committed while we were marking: not ours to judge
            result.kept += 1
            continue
        if not dry_run:
            try:
                content.delete(digest)
            except NotFound:
                continue
        result.removed.append(digest)
        result.freed += st.st_size
    if stale_ingest_age is not None and not dry_run:
        result.stale_ingests = _sweep_ingests(content, stale_ingest_age)
    return result


def _sweep_ingests(content: ContentStore, max_age: float) -> int:
    """Remove abandoned partial ingests older than *max_age* seconds; we hold each one's lock
    while removing it, so a writer cannot resume it under our feet."""
    if not content.ingests.is_dir():
        return 0
    cutoff = time.time() - max_age
    removed = 0
    for path in content.ingests.iterdir():
        try:
            mtime = max(p.stat().st_mtime for p in path.iterdir())
            fd = os.open(path / "lock", os.O_RDWR | os.O_CLOEXEC)
        except (FileNotFoundError, ValueError):
            continue
        try:
            if mtime < cutoff and try_lock(fd):
                for p in path.iterdir():
                    p.unlink(missing_ok=True)
                path.rmdir()
                removed += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


__all__ = ["GCResult", "collect", "mark"]


# -- snapshots -------------------------------------------------------------------------------------

def image_chain_ids(images: ImageStore) -> set[str]:
    """Chain IDs of every layer of every image (all platforms present), as snapshot keys."""
    from dockyard.oci.snapshot.layers import chain_ids

    out: set[str] = set()
    for record in images.list():
        for manifest in _manifests(images, record.digest, record.media_type):
            if images.content.has(manifest.config.digest):
                config = json.loads(images.content.read_bytes(manifest.config.digest))
                out.update(str(c) for c in chain_ids(config_diff_ids(config)))
    return out


def _manifests(images: ImageStore, digest: Digest, media_type: str | None) -> Iterator[Manifest]:
    if not images.content.has(digest):
        return
    doc = parse(images.content.read_bytes(digest), media_type)
    if isinstance(doc, Manifest):
        yield doc
        return
    for child in doc.manifests:
        yield from _manifests(images, child.digest, child.media_type or None)


def collect_snapshots(images: ImageStore, snapshotter: Snapshotter, *, extra_roots: Iterable[str] = (),
                      dry_run: bool = False) -> list[str]:
    """Remove committed snapshots that no image layer, container or *extra_roots* key needs.

    Active and view snapshots (containers' root filesystems, unpacks in progress) are in use, and
    so is every snapshot below a live one.  Removal goes children first, as snapshotters require.
    """
    infos = {info.key: info for info in snapshotter.walk()}
    live = image_chain_ids(images) | set(extra_roots)
    live |= {key for key, info in infos.items() if info.kind != Kind.COMMITTED}
    stack = list(live)
    while stack:
        info = infos.get(stack.pop())
        if info is not None and info.parent and info.parent not in live:
            live.add(info.parent)
            stack.append(info.parent)

    def depth(key: str) -> int:
        n, parent = 0, infos[key].parent
        while parent in infos:
            n, parent = n + 1, infos[parent].parent
        return n

    removed: list[str] = []
    for key in sorted((k for k in infos if k not in live), key=depth, reverse=True):
        if not dry_run:
            try:
                snapshotter.remove(key)
            except DockyardError:  # someone built on it meanwhile; next GC will judge again
                continue
        removed.append(key)
    return removed
