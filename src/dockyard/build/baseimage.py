"""FROM <image>: the base image from the local store, pulled from its registry when asked or missing.

The machines dockyard is built on often reach no registry, so a missing base image names both
ways to get one: ``dockyard image bootstrap busybox`` (from the host's static busybox) and
``dockyard pull``.  ``--pull`` always asks the registry first, as ``docker build --pull`` does.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

from dockyard.base import paths
from dockyard.base.digest import Digest
from dockyard.base.errors import DockyardError, NotFound
from dockyard.oci.images import ImageStore, LayerBlob
from dockyard.oci.manifest import Platform


@dataclass(frozen=True, slots=True)
class BaseImage:
    ref: str
    digest: Digest
    config: dict[str, Any]
    layers: list[LayerBlob]


class BaseImageNotFound(NotFound):
    pass


def resolve_base(images: ImageStore, ref: str, *, pull: bool, platform: Platform | None,
                 note=None) -> BaseImage:
    record = None
    if not pull:
        try:
            record = images.resolve(ref)
        except NotFound:
            record = None
    if record is None:
        record = _pull(images, ref, platform, note, required=not pull) or images.resolve(ref)
    manifest, config = images.manifest_for(record, platform)
    from dockyard.oci.manifest import config_diff_ids

    diff_ids = config_diff_ids(config)
    layers = [LayerBlob(d.digest, diff_id, d.size, d.media_type)
              for d, diff_id in zip(manifest.layers, diff_ids, strict=True)]
    return BaseImage(ref, record.digest, config, layers)


def _pull(images: ImageStore, ref: str, platform: Platform | None, note, *, required: bool):
    try:
        from dockyard.oci import names
        from dockyard.registry.client import credentials
        from dockyard.registry.client.progress import PlainProgress
        from dockyard.registry.client.pull import pull
        from dockyard.registry.client.settings import ClientSettings
    except ImportError:
        if required:
            raise _missing(ref) from None
        return None
    parsed = names.parse(ref)
    try:
        asyncio.run(pull(parsed, images=images, settings=ClientSettings.load(paths.data_root()),
                         credentials=credentials.lookup(parsed.domain), progress=PlainProgress(io.StringIO()),
                         platform=platform))
    except DockyardError as e:
        if note:
            note(f"pulling {ref} failed: {e}")
        if required:
            raise _missing(ref) from None
        return None
    return images.resolve(ref)


def _missing(ref: str) -> BaseImageNotFound:
    return BaseImageNotFound(
        f"base image {ref!r}: not in the local store and it could not be pulled",
        hint=f"run `dockyard image bootstrap busybox` (for busybox) or `dockyard pull {ref}`")
