"""Builders for hostile layer tars, made in memory by each test (no binary files in the repo).

``tarfile`` writes whatever names and link targets it is given, which is exactly what an
attacker's tool does; the helpers below add the few things it will not do on its own (a header
that promises more data than follows, a stream cut at a chosen byte).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class E:
    """One entry: kind is file, dir, symlink, hardlink, chr, blk or fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""
    mode: int = 0o644


_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "chr": tarfile.CHRTYPE,
    "blk": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def build(entries: Iterable[E]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type = _TYPES[e.kind]
            info.mode = e.mode
            info.linkname = e.link
            info.mtime = 1_700_000_000
            if e.kind in ("chr", "blk"):
                info.devmajor, info.devminor = 1, 3
            if e.kind == "file":
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def bomb(name: str = "bomb", declared: int = 1 << 40) -> bytes:
    """A header declaring *declared* bytes of data, followed by only a few kilobytes of it."""
    info = tarfile.TarInfo(name)
    info.size = declared
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    return header + b"A" * 8192


def truncated(data: bytes, at: int) -> bytes:
    return data[:at]


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
