"""``image save``, ``image load`` and ``image import``: choose the format, open the destination, hand off.

Save writes an OCI layout to a directory, or an oci-archive / docker archive to a tar file or a
stream.  Load detects what it was given: a directory or a tar (gzip, bzip2 or xz compressed tars
too, as ``docker load`` accepts), holding an OCI layout, a docker archive, or both at once (what
docker 25+ writes, where ``manifest.json`` supplies the names).  Blobs are verified against their
digests as they enter the content store, and a lease keeps them from GC until they are tagged.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

from dockyard.base.clock import rfc3339
from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.oci import mediatypes as mt
from dockyard.oci import names
from dockyard.oci.compression import CompressingWriter, DecompressingReader
from dockyard.oci.dockerarchive import load_docker, repo_tags, write_docker_archive
from dockyard.oci.images import ImageStore, LayerBlob, commit_image
from dockyard.oci.layout import ArchiveFiles, DirSink, Exported, Loaded, Sink, TarSink, load_oci, write_layout

Format = Literal["oci", "docker"]


def exported(images: ImageStore, refs: Sequence[str]) -> list[Exported]:
    """Resolve each ref; keep its name when it was given by name (by ID it travels untagged)."""
    out: list[Exported] = []
    for ref in refs:
        record = images.resolve(ref)
        name = None
        with contextlib.suppress(InvalidArgument):
            canonical = names.normalize(ref)
            if canonical in record.names:
                name = canonical
        out.append(Exported(record, name))
    return out


def is_tar_path(path: Path) -> bool:
    return path.is_file() or path.name.endswith((".tar", ".tar.gz", ".tgz"))


def save(images: ImageStore, refs: Sequence[str], dest: Path | BinaryIO, *, fmt: Format = "oci") -> None:
    items = exported(images, refs)
    if isinstance(dest, Path) and not is_tar_path(dest):
        _write(images, items, DirSink(dest), fmt)
        return
    if isinstance(dest, Path):
        tmp = dest.with_name(f".{dest.name}.partial")
        with open(tmp, "wb") as f:
            _write(images, items, TarSink(f), fmt)
        tmp.replace(dest)  # a half-written archive never carries the final name
        return
    _write(images, items, TarSink(dest), fmt)


def _write(images: ImageStore, items: list[Exported], sink: Sink, fmt: Format) -> None:
    try:
        if fmt == "docker":
            write_docker_archive(images, items, sink)
        else:
            write_layout(images, items, sink)
    finally:
        sink.close()


def load(images: ImageStore, src: Path | BinaryIO, *, repository: str | None = None) -> list[Loaded]:
    with images.content.lease() as lease:
        if isinstance(src, Path) and src.is_dir():
            files = ArchiveFiles.from_dir(src, images.content, lease)
        elif isinstance(src, Path):
            with open(src, "rb") as f:
                files = ArchiveFiles.from_tar(f, images.content, lease)
        else:
            files = ArchiveFiles.from_tar(src, images.content, lease)
        if "index.json" in files.docs:
            return load_oci(images, files, repository=repository, extra_names=repo_tags(files))
        if "manifest.json" in files.docs:
            return load_docker(images, files, repository=repository)
    where = src if isinstance(src, Path) else "input"
    raise InvalidArgument(f"image archive {where}: neither an OCI layout (index.json) nor a docker archive "
                          "(manifest.json)")


def import_rootfs(images: ImageStore, stream: BinaryIO, *, name: str | None = None,
                  config: dict[str, Any] | None = None, message: str = "") -> Digest:
    """``image import``: a root filesystem tar (any compression) becomes a one-layer image.

    The tar is re-compressed with gzip on its way into the content store; its diff ID is computed
    from the uncompressed bytes as they pass, so it is read exactly once.
    """
    reader = DecompressingReader(stream, what="rootfs tar")
    head = b""
    while len(head) < 512 and (chunk := reader.next_chunk()):
        head += chunk
    if len(head) < 512 or (head[257:262] != b"ustar" and any(head[:512])):
        raise InvalidArgument("image import: input is not a tar archive (gzip, zstd or plain)")
    with images.content.lease() as lease:
        with images.content.writer(f"import-{uuid.uuid4().hex}") as w:
            try:
                packer = CompressingWriter(w, "gzip")  # type: ignore[arg-type]
                packer.write(head)
                while chunk := reader.next_chunk():
                    packer.write(chunk)
                packer.close()
                lease.add(packer.digest)
                w.commit(packer.digest)
            except BaseException:
                w.abort()
                raise
        layer = LayerBlob(packer.digest, packer.diff_id, packer.size, mt.OCI_LAYER_GZIP)
        config = dict(config or {})
        config.setdefault("history", [{"created": rfc3339(images.clock.now()), "created_by": "dockyard import",
                                       "comment": message or "Imported from tarball"}])
        return commit_image(images, layers=[layer], config=config, name=name)
