"""Garbage collection as the CLI runs it: with every tenant of the shared content store as a root.

The content store under the data root is shared: the image store, the embedded registry (pushed
blobs) and the engine's snapshots (unpacked layers) all live there.  ``dockyard.oci.gc`` knows only
images; the CLI, the composition root that may import every layer, adds the registry's blobs as
roots and collects snapshots where the engine keeps them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from dockyard.base.errors import DockyardError, FailedPrecondition
from dockyard.oci.images import ImageStore


def collect_garbage(store: ImageStore, *, stale_ingest_age: float | None = None) -> int:
    """Run the content GC with every other tenant of the content store as a root; bytes freed."""
    from dockyard.oci import gc

    return gc.collect(store, extra_roots=lambda: registry_roots(store.root),
                      stale_ingest_age=stale_ingest_age).freed


def collect_snapshots(store: ImageStore) -> int:
    """Drop unpacked layers no image or container needs (the engine keeps them under
    ``<data root>/snapshots``); bytes freed."""
    if not (store.root / "snapshots" / "metadata.db").exists():
        return 0
    from dockyard.oci import gc
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    snap = OverlaySnapshotter(store.root / "snapshots")
    try:
        sizes = {key: snap.usage(key).size for key in gc.collect_snapshots(store, snap, dry_run=True)}
        return sum(sizes.get(key, 0) for key in gc.collect_snapshots(store, snap))
    finally:
        snap.close()


def registry_roots(data_root: Path) -> set[Any]:
    """Blobs the embedded registry holds (it shares the content store and collects its own).

    The CLI is the composition root, the one place allowed to know both layers; if the registry's
    state cannot be read we refuse to collect rather than risk deleting a pushed blob.
    """
    db = data_root / "registry.db"
    if not db.exists():
        return set()
    from dockyard.base.digest import Digest
    from dockyard.registry.server.state import RegistryState

    state = RegistryState(db)
    try:
        held: set[str] = set()
        for (refs,) in state.conn.execute("SELECT refs FROM manifests"):
            held.update(json.loads(refs))
        held.update(r[0] for r in state.conn.execute(
            "SELECT digest FROM owned UNION SELECT digest FROM blob_links UNION SELECT digest FROM manifests"))
    except (sqlite3.Error, ValueError, DockyardError) as e:  # any failure must stop the sweep
        raise FailedPrecondition(f"image GC: cannot read the registry's blobs in {db} ({e}); nothing removed") from e
    finally:
        state.close()
    return {Digest.parse(d) for d in held}


def containers_using(data_root: Path, image_id: Any) -> list[str]:
    """Names of the engine's containers created from *image_id* (docker refuses to remove those)."""
    if not (data_root / "containers.db").exists():
        return []
    from dockyard.engine.store import ContainerStore

    store = ContainerStore(data_root)
    try:
        return [rec.name for rec in store.list(include_sandboxes=True) if rec.image_id == str(image_id)]
    finally:
        store.conn.close()
