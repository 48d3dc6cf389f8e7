"""Unpacking a whole image into one plain directory (what ``umoci unpack`` and ``image export`` do).

The engine runs containers on snapshots (:mod:`dockyard.oci.snapshot`); this module is for the
other uses of a root filesystem: a runtime bundle for tests and for runc, ``image export``, the
builder's ``COPY --from`` of a whole stage.  Layers are applied in order into the target, each
checked against the diff ID the image config lists for it, whiteouts applied as deletions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dockyard.base.errors import FailedPrecondition, InvalidArgument
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore
from dockyard.oci.layer import apply_layer
from dockyard.oci.manifest import Manifest, Platform, config_diff_ids


def unpack_image(images: ImageStore, ref: str, target: Path, *, platform: Platform | None = None,
                 strip_setuid: bool = False) -> dict[str, Any]:
    """Apply every layer of image *ref* (name, id or digest) into *target*; returns the image config.

    *target* must be missing or empty: unpacking over an existing tree would mix two images.
    """
    record = images.resolve(ref)
    manifest, config = images.manifest_for(record, platform)
    unpack_manifest(images.content, manifest, config, target, strip_setuid=strip_setuid, what=ref)
    return config


def unpack_manifest(content: ContentStore, manifest: Manifest, config: dict[str, Any], target: Path, *,
                    strip_setuid: bool = False, what: str = "image") -> None:
    diff_ids = config_diff_ids(config)
    if len(diff_ids) != len(manifest.layers):
        raise InvalidArgument(
            f"image {what!r}: config lists {len(diff_ids)} diff IDs for {len(manifest.layers)} layers"
        )
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True, mode=0o755)
    if any(os.scandir(target)):
        raise FailedPrecondition(f"unpack {what!r} into {target}: directory is not empty; use a new one")
    for desc, diff_id in zip(manifest.layers, diff_ids, strict=True):
        with content.open(desc.digest) as blob:
            apply_layer(blob, target, media_type=desc.media_type, expected_diff_id=diff_id,
                        strip_setuid=strip_setuid)
