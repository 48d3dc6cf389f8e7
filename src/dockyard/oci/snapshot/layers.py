"""From an image's layers to committed snapshots, each layer unpacked once, shared by every image.

A committed layer snapshot is named by its *chain ID* (OCI image spec, "Layer ChainID"):

    ChainID(L0)    = DiffID(L0)
    ChainID(L0|…|Ln) = sha256(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))

so two images that share a base share its snapshots, and a layer is unpacked again only when it
sits on a different base (where its meaning differs).  :func:`ensure_layers` unpacks what is
missing into a fresh active snapshot with a throw-away key, and commits it under the chain ID only
when the layer was whole and its diff ID matched; a concurrent unpack of the same layer that loses
the race to commit simply removes its copy.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.oci.layer import apply_layer
from dockyard.oci.snapshot import Kind, SnapshotExists, SnapshotNotFound, Snapshotter

#: Label on a committed layer snapshot naming the blob it came from (for garbage collection).
LAYER_LABEL = "dockyard.layer"

if TYPE_CHECKING:
    from dockyard.oci.content import ContentStore
    from dockyard.oci.manifest import Descriptor, Manifest


def chain_ids(diff_ids: Sequence[Digest]) -> list[Digest]:
    out: list[Digest] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            text = f"{out[-1]} {diff_id}".encode()
            out.append(Digest("sha256", hashlib.sha256(text).hexdigest()))
    return out


def ensure_layers(snapshotter: Snapshotter, content: ContentStore, manifest: Manifest,
                  config: dict[str, Any], *, strip_setuid: bool = False) -> str | None:
    """Make sure every layer of *manifest* is a committed snapshot; returns the top chain ID.

    None for an image without layers.  The result is the *parent* to pass to ``prepare`` for a
    container's rootfs.
    """
    from dockyard.oci.manifest import config_diff_ids

    diff_ids = config_diff_ids(config)
    if len(diff_ids) != len(manifest.layers):
        raise InvalidArgument(
            f"image config lists {len(diff_ids)} diff IDs for {len(manifest.layers)} layers; the image is malformed"
        )
    parent: str | None = None
    for desc, diff_id, chain in zip(manifest.layers, diff_ids, chain_ids(diff_ids), strict=True):
        key = str(chain)
        if not _committed(snapshotter, key):
            _unpack_one(snapshotter, content, desc, diff_id, key, parent, strip_setuid)
        parent = key
    return parent


def _committed(snapshotter: Snapshotter, key: str) -> bool:
    try:
        return snapshotter.stat(key).kind == Kind.COMMITTED
    except SnapshotNotFound:
        return False


def _unpack_one(snapshotter: Snapshotter, content: ContentStore, desc: Descriptor, diff_id: Digest,
                chain: str, parent: str | None, strip_setuid: bool) -> None:
    key = f"extract-{uuid.uuid4().hex[:12]} {chain}"
    snapshotter.prepare(key, parent, labels={LAYER_LABEL: str(desc.digest)})
    try:
        target, whiteouts = snapshotter.apply_dir(key)
        with content.open(desc.digest) as blob:
            apply_layer(blob, Path(target), media_type=desc.media_type, expected_diff_id=diff_id,
                        whiteouts=whiteouts, strip_setuid=strip_setuid)
        snapshotter.commit(chain, key)
    except SnapshotExists:
        snapshotter.remove(key)  # another unpack of the same layer committed first
    except BaseException:
        snapshotter.remove(key)
        raise


def layer_digests(snapshotter: Snapshotter) -> set[Digest]:
    """Blob digests of the layers the snapshots were unpacked from: GC roots while they exist."""
    return {Digest.parse(info.labels[LAYER_LABEL]) for info in snapshotter.walk() if LAYER_LABEL in info.labels}
