"""What the engine's containers hold on to, asked for by image removal and garbage collection.

Removing an image or collecting the shared content store must spare what containers still
use: the image a container was created from (docker refuses ``rmi`` of it) and the unpacked
layers (snapshots) its root file system sits on.  Where the engine keeps those records and
snapshots is the engine's business; callers above it ask these questions instead of opening
``containers.db`` or the snapshotter themselves.
"""

from __future__ import annotations

from pathlib import Path

from dockyard.oci.images import ImageStore


def images_in_use(data_root: Path) -> dict[str, list[str]]:
    """Image ID (as recorded at create) → names of the containers created from it, newest first;
    pod sandboxes count too.  Reading never creates the engine's database."""
    if not (data_root / "containers.db").exists():
        return {}
    from dockyard.engine.store import ContainerStore

    store = ContainerStore(data_root)
    try:
        users: dict[str, list[str]] = {}
        for rec in store.list(include_sandboxes=True):
            users.setdefault(rec.image_id, []).append(rec.name)
        return users
    finally:
        store.close()


def collect_snapshots(images: ImageStore) -> int:
    """Drop the unpacked layers that no image in *images* has and no container sits on; bytes
    freed.  A container's own snapshot is active, which keeps every layer below it live."""
    if not (images.root / "snapshots" / "metadata.db").exists():
        return 0
    from dockyard.oci import gc
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    snap = OverlaySnapshotter(images.root / "snapshots")
    try:
        sizes = {key: snap.usage(key).size for key in gc.collect_snapshots(images, snap, dry_run=True)}
        return sum(sizes.get(key, 0) for key in gc.collect_snapshots(images, snap))
    finally:
        snap.close()
