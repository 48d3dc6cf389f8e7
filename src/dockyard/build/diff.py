"""An overlay upper directory → a layer blob in Docker's whiteout format.

After a RUN or COPY step the snapshot's upper dir holds exactly what changed, but in overlayfs'
own notation: a deleted path is a 0/0 character device, a directory whose lower contents are
hidden carries ``trusted.overlay.opaque=y``.  Image layers say the same with ``.wh.<name>`` and
``.wh..wh..opq`` entries (OCI image spec, "Whiteouts").  This writer translates while it tars,
drops overlay's private xattrs, sorts entries, and with ``mtime`` (``SOURCE_DATE_EPOCH``) pins
every timestamp, so the same change always gives the same blob.
"""

from __future__ import annotations

import os
import stat
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from dockyard.oci import mediatypes
from dockyard.oci.compression import CompressingWriter
from dockyard.oci.content import ContentStore
from dockyard.oci.images import LayerBlob
from dockyard.oci.layer import add_entry

_OPAQUE = "trusted.overlay.opaque"


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def has_changes(upper: Path) -> bool:
    with os.scandir(upper) as it:
        return any(True for _ in it)


def _walk(top: str, rel: str = "") -> Iterator[tuple[str, str, os.stat_result]]:
    with os.scandir(top) as it:
        children = sorted(it, key=lambda e: e.name)
    for e in children:
        crel = f"{rel}/{e.name}" if rel else e.name
        st = e.stat(follow_symlinks=False)
        yield e.path, crel, st
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(e.path, crel)


def _opaque(path: str) -> bool:
    try:
        return os.getxattr(path, _OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _info(name: str, st: os.stat_result, mtime: float | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime if mtime is None else mtime)
    return info


def write_diff(tar: tarfile.TarFile, upper: Path, *, mtime: float | None = None) -> None:
    seen: dict[tuple[int, int], str] = {}
    for path, rel, st in _walk(str(upper)):
        if is_whiteout(st):
            parent, _, base = rel.rpartition("/")
            wh = _info(f"{parent}/.wh.{base}" if parent else f".wh.{base}", st, mtime)
            wh.mode = 0o644
            tar.addfile(wh)
            continue
        add_entry(tar, path, rel, seen, mtime, skip_xattrs="trusted.overlay.")
        if stat.S_ISDIR(st.st_mode) and _opaque(path):
            opq = _info(f"{rel}/.wh..wh..opq", st, mtime)
            opq.mode = 0o644
            tar.addfile(opq)


def write_layer(content: ContentStore, upper: Path, *, mtime: float | None = None,
                compression: str = "gzip") -> LayerBlob:
    """Tar, compress and store the changes in *upper*; returns the layer's descriptor fields."""
    with content.writer(f"build-layer-{uuid.uuid4().hex}") as w:
        try:
            sink = CompressingWriter(w, compression)  # type: ignore[arg-type]
            with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8",
                              errors="surrogateescape") as tar:
                tar.copybufsize = 1 << 20
                write_diff(tar, upper, mtime=mtime)
            sink.close()
            w.commit(sink.digest)
        except BaseException:
            w.abort()
            raise
    return LayerBlob(sink.digest, sink.diff_id, sink.size, mediatypes.layer_type(compression))
