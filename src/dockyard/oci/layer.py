"""Layers: a directory tree to a deterministic tar blob, and a tar blob safely back onto a tree.

Two directions, both streamed so that neither a blob nor its tar is ever whole in memory:

* :func:`create_layer` walks a directory in sorted order and writes a PAX tar (uid/gid, modes,
  xattrs, mtimes, hardlinks as links) through gzip, zstd or no compression, returning the diff
  ID (digest of the tar), the blob digest and its size.  The same tree gives the same bytes:
  entries sorted, user/group names left empty, gzip header without a timestamp, and with
  ``mtime=`` (``SOURCE_DATE_EPOCH``) every timestamp pinned.
* :func:`apply_layer` reads a blob (compression detected from its magic bytes, whatever the media
  type says), checks the diff ID it computed on the way against the expected one, and applies
  the entries with whiteouts and safe extraction (:mod:`dockyard.oci.apply`,
  :mod:`dockyard.oci.tarsafe`).  It raises :class:`UnsafeLayer` for an entry that would escape
  the root or that policy refuses, :class:`LayerFormatError` for a damaged or truncated blob and
  :class:`DiffIDMismatch` when the tar is not the one the image config names.

A diff ID mismatch is only known at the end of the stream, after the entries were written:
callers unpack into a fresh directory and keep it only on success (the snapshotters do).
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.base.paths import is_root
from dockyard.oci.apply import Applier, Limits, Policy
from dockyard.oci.compression import (
    CompressingWriter,
    Compression,
    DecompressingReader,
    LayerFormatError,
)
from dockyard.oci.tarsafe import UnsafeLayer
from dockyard.oci.tarstream import TarStream

if TYPE_CHECKING:
    from dockyard.oci.content import ContentStore
    from dockyard.oci.images import LayerBlob

__all__ = [
    "DiffIDMismatch",
    "LayerFormatError",
    "LayerStats",
    "Limits",
    "UnsafeLayer",
    "apply_layer",
    "create_layer",
    "write_layer_blob",
]

_COPY = 1 << 20


class DiffIDMismatch(InvalidArgument):
    """The uncompressed tar does not hash to the diff ID the image config lists."""


@dataclass(frozen=True, slots=True)
class LayerStats:
    diff_id: Digest
    digest: Digest
    size: int


# -- creating ---------------------------------------------------------------------------------
def create_layer(src_dir: Path, out: BinaryIO, *, compression: Compression = "gzip",
                 mtime: float | None = None) -> LayerStats:
    """Write *src_dir* as a layer blob to *out*; see the module docstring for what is kept."""
    sink = CompressingWriter(out, compression)
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tar:
        tar.copybufsize = _COPY
        seen: dict[tuple[int, int], str] = {}
        for path, arcname in _walk_sorted(str(src_dir)):
            add_entry(tar, path, arcname, seen, mtime)
    sink.close()
    return LayerStats(sink.diff_id, sink.digest, sink.size)


def _walk_sorted(top: str, rel: str = "") -> Iterator[tuple[str, str]]:
    """(path, name in the tar) for everything below *top*: depth first, siblings by name."""
    with os.scandir(top) as it:
        children = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in it)
    for name, is_dir in children:
        child_rel = f"{rel}/{name}" if rel else name
        path = f"{top}/{name}"
        yield path, child_rel
        if is_dir:
            yield from _walk_sorted(path, child_rel)


def add_entry(tar: tarfile.TarFile, path: str, arcname: str, seen: dict[tuple[int, int], str],
              mtime: float | None, *, skip_xattrs: str | None = None) -> None:
    """Add one file-system object as *arcname*: hardlinks (by inode, through *seen*), owners,
    modes, xattrs (except those under the *skip_xattrs* prefix) and, with *mtime*, pinned times."""
    st = os.lstat(path)
    info = tarfile.TarInfo(arcname)
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime if mtime is None else mtime)
    xattrs = _xattrs(path)
    if skip_xattrs:
        xattrs = {k: v for k, v in xattrs.items() if not k.startswith(skip_xattrs)}
    if xattrs:
        info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in xattrs.items()}
    fmt = stat.S_IFMT(st.st_mode)
    if fmt == stat.S_IFREG:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in seen:
            info.type, info.linkname = tarfile.LNKTYPE, seen[key]
            tar.addfile(info)
            return
        seen[key] = arcname
        info.size = st.st_size
        with open(path, "rb") as f:
            tar.addfile(info, f)
        return
    if fmt == stat.S_IFDIR:
        info.type = tarfile.DIRTYPE
    elif fmt == stat.S_IFLNK:
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
        info.type = tarfile.CHRTYPE if fmt == stat.S_IFCHR else tarfile.BLKTYPE
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    elif fmt == stat.S_IFIFO:
        info.type = tarfile.FIFOTYPE
    else:
        return  # sockets do not belong in images
    tar.addfile(info)


def _xattrs(path: str) -> dict[str, str]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        # tarfile writes str PAX values; surrogateescape carries binary values byte for byte.
        out[name] = value.decode("utf-8", "surrogateescape")
    return out


def write_layer_blob(content: ContentStore, src_dir: Path, *, compression: Compression = "gzip",
                     mtime: float | None = None) -> LayerBlob:
    """Pack *src_dir* straight into the content store; returns the blob's descriptor fields.

    Without *mtime*, ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) pins timestamps when set.
    """
    from dockyard.base.ids import new_id
    from dockyard.oci import mediatypes
    from dockyard.oci.images import LayerBlob

    with content.writer(f"layer-{new_id()}") as w:
        try:
            stats = create_layer(src_dir, w, compression=compression,  # type: ignore[arg-type]
                                 mtime=source_date_epoch() if mtime is None else mtime)
            w.commit(stats.digest)
        except BaseException:
            w.abort()
            raise
    return LayerBlob(stats.digest, stats.diff_id, stats.size, mediatypes.layer_type(compression))


def source_date_epoch() -> float | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return float(value) if value.isdigit() else None


# -- applying ---------------------------------------------------------------------------------
def apply_layer(stream: BinaryIO, target: Path, *, media_type: str | None = None,
                expected_diff_id: Digest | None = None, allow_devices: bool | None = None,
                strip_setuid: bool = False, same_owner: bool | None = None,
                whiteouts: str = "apply", limits: Limits | None = None) -> Digest:
    """Apply the layer blob read from *stream* onto the directory *target*; returns its diff ID.

    ``allow_devices`` and ``same_owner`` default to "running as root".  ``whiteouts="overlay"``
    writes overlayfs whiteouts instead of deleting (for an overlay snapshot's upper dir).
    """
    root = is_root()
    policy = Policy(
        same_owner=root if same_owner is None else same_owner,
        allow_devices=root if allow_devices is None else allow_devices,
        strip_setuid=strip_setuid,
        whiteouts=whiteouts,
        limits=limits or Limits(),
    )
    what = f"layer {expected_diff_id.short}" if expected_diff_id else "layer"
    # The compression comes from the blob's magic bytes; *media_type* is only a claim, and
    # mislabelled layers exist in the wild that unpack fine by their magic.
    reader = DecompressingReader(stream, what=what, threaded=True)
    try:
        Applier(os.fspath(target), policy).run(TarStream(reader.next_chunk, what=what))
        reader.drain()
    finally:
        reader.close()
    diff_id = reader.diff_id
    if expected_diff_id is not None and diff_id != expected_diff_id:
        raise DiffIDMismatch(f"layer {expected_diff_id}: uncompressed content is {diff_id}; the blob does not match the image config")
    return diff_id
