"""Image garbage collection with every tenant of the shared content store as a root.

The content store under the data root is shared: the image store, the embedded registry (pushed
blobs) and the engine's snapshots (unpacked layers) all live there.  ``dockyard.oci.gc`` knows only
images; this module, which both ``dockyard image prune`` and the daemon's ``POST /images/prune``
use, asks each other tenant what it holds through that tenant's public query --
:func:`dockyard.registry.server.gc.held_blobs` and :mod:`dockyard.engine.usage` -- and never reads
their databases itself.
"""

from __future__ import annotations

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
    """Drop unpacked layers no image or container needs (the engine's snapshots); bytes freed."""
    from dockyard.engine.usage import collect_snapshots

    return collect_snapshots(store)


def registry_roots(data_root: Path) -> set[Any]:
    """Blobs the embedded registry holds (it shares the content store and collects its own).

    If the registry's state cannot be read we refuse to collect rather than risk deleting a
    pushed blob.
    """
    from dockyard.registry.server.gc import held_blobs

    try:
        return held_blobs(data_root)
    except DockyardError as e:  # any failure must stop the sweep
        raise FailedPrecondition(f"image GC: {e}; nothing removed") from e


def images_used(data_root: Path) -> set[str]:
    """IDs of the images some container (or pod sandbox) was created from: not dangling to prune."""
    from dockyard.engine.usage import images_in_use

    return set(images_in_use(data_root))


def containers_using(data_root: Path, image_id: Any) -> list[str]:
    """Names of the engine's containers created from *image_id* (docker refuses to remove those)."""
    from dockyard.engine.usage import images_in_use

    return images_in_use(data_root).get(str(image_id), [])
