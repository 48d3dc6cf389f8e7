"""Where a built image goes besides the local store: ``-o type=oci|docker|local`` and ``--push``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dockyard.base import paths
from dockyard.base.errors import InvalidArgument
from dockyard.build.options import BuildResult
from dockyard.oci.images import ImageStore


def export(result: BuildResult, out: dict[str, str], *, tags: list[str]) -> None:
    kind = out.get("type", "local")
    dest = out.get("dest")
    if not dest:
        raise InvalidArgument(f"-o type={kind}: needs dest=")
    images = ImageStore(paths.data_root())
    try:
        if kind in ("oci", "docker"):
            from dockyard.oci.archive import save

            ref = tags[0] if tags else str(result.digest)
            save(images, [ref], Path(dest), fmt=kind)  # type: ignore[arg-type]
        elif kind == "local":
            _export_rootfs(images, result, Path(dest))
        else:
            raise InvalidArgument(f"-o type={kind}: unsupported; use oci, docker or local")
    finally:
        images.close()


def _export_rootfs(images: ImageStore, result: BuildResult, dest: Path) -> None:
    """The image's files, merged, into a directory (``type=local``)."""
    from dockyard.oci.layer import apply_layer

    dest.mkdir(parents=True, exist_ok=True)
    for layer in result.layers:
        with images.content.open(layer.digest) as blob:
            apply_layer(blob, dest, media_type=layer.media_type, expected_diff_id=layer.diff_id)


def push_image(name: str) -> None:
    try:
        from dockyard.oci import names
        from dockyard.registry.client import credentials, progress
        from dockyard.registry.client.push import push
        from dockyard.registry.client.settings import ClientSettings
    except ImportError:
        raise InvalidArgument("--push: this dockyard has no registry client") from None
    ref = names.parse(name)
    images = ImageStore(paths.data_root())
    try:
        asyncio.run(push(ref, images=images, settings=ClientSettings.load(paths.data_root()),
                         credentials=credentials.lookup(ref.domain), progress=progress.for_terminal(quiet=True),
                         source=name))
    finally:
        images.close()



