"""A forward-only tar reader built for unpacking layers fast and refusing damaged ones loudly.

Why not ``tarfile`` in stream mode: its stream buffer re-slices the whole read-ahead buffer on
every small read, so a layer of thousands of small files spends its time copying memory, and it
ends silently when a stream stops in the middle of a header.  This reader keeps one buffer with a
cursor, parses each 512-byte header with :meth:`tarfile.TarInfo.frombuf` (checksums, base-256
numbers), folds PAX (``x``/``g``) and GNU long-name (``L``/``K``) records into the entry that
follows, and hands file data straight to a file descriptor.

Entries come out as :class:`Entry` with raw ``bytes`` xattr values (PAX ``SCHILY.xattr.*``), so a
binary ``security.capability`` survives the trip.  A stream that ends before the end-of-archive
marker, a header with a bad checksum or a sparse entry raises :class:`LayerFormatError`.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dockyard.oci.compression import LayerFormatError
from dockyard.oci.tarsafe import shown

BLOCK = 512
_NUMERIC_PAX = {"size": "size", "uid": "uid", "gid": "gid", "mtime": "mtime"}
# uid/gid: 32-bit ids below (uid_t)-1; mtime: what nanosecond timestamps hold (year 2262).
_PAX_LIMITS = {"size": 1 << 62, "uid": (1 << 32) - 1, "gid": (1 << 32) - 1, "mtime": float(1 << 33),
               "devmajor": 1 << 32, "devminor": 1 << 32}


@dataclass(slots=True)
class Entry:
    name: str
    type: bytes
    size: int
    mode: int
    uid: int
    gid: int
    mtime: float
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)

    def isreg(self) -> bool:
        return self.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)

    def isdir(self) -> bool:
        return self.type == tarfile.DIRTYPE


class TarStream:
    """Iterate entries of the tar whose bytes *next_chunk* returns (any size; ``b""`` at the end)."""

    def __init__(self, next_chunk: Callable[[], bytes], *, what: str = "layer") -> None:
        self._read = next_chunk
        self._what = what
        self._buf = b""
        self._pos = 0
        self._data_left = 0  # unread data (plus padding) of the current entry
        self._size = 0  # unread data (without padding) of the current entry
        self._globals: dict[str, bytes] = {}
        self.last_name = ""

    # -- buffer -----------------------------------------------------------------------------
    def _more(self) -> bool:
        chunk = self._read()
        if not chunk:
            return False
        rest = self._buf[self._pos :]
        self._buf = rest + chunk if rest else chunk
        self._pos = 0
        return True

    def _take(self, n: int) -> bytes | None:
        """Exactly *n* bytes, or None at a clean end (nothing buffered)."""
        while len(self._buf) - self._pos < n:
            if not self._more():
                if len(self._buf) == self._pos:
                    return None
                self._truncated()
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def _truncated(self) -> None:
        where = f' in entry "{shown(self.last_name)}"' if self.last_name else ""
        raise LayerFormatError(f"{self._what}: tar stream ends early{where}; the blob is truncated")

    # -- entries ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Entry]:
        while True:
            self.skip_data()
            entry = self._next()
            if entry is None:
                return
            self.last_name = entry.name
            self._data_left = _padded(entry.size) if entry.isreg() else 0
            self._size = entry.size if entry.isreg() else 0
            yield entry

    def _next(self) -> Entry | None:
        pax: dict[str, bytes] = {}
        longname = longlink = None
        while True:
            block = self._take(BLOCK)
            if block is None:
                self._truncated_at_end()
            if block == tarfile.NUL * BLOCK:
                return None
            info = _fast_header(block) or self._slow_header(block)
            if info.type in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE):
                records = _parse_pax(self._blob(info.size))
                (self._globals if info.type == tarfile.XGLTYPE else pax).update(records)
                continue
            if info.type in (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK):
                text = self._blob(info.size).rstrip(b"\0").decode("utf-8", "surrogateescape")
                if info.type == tarfile.GNUTYPE_LONGNAME:
                    longname = text
                else:
                    longlink = text
                continue
            if info.type == tarfile.GNUTYPE_SPARSE or b"GNU.sparse.major" in pax:
                raise LayerFormatError(f'{self._what} entry "{shown(info.name)}": sparse files are not supported')
            return self._entry(info, {**self._globals, **pax}, longname, longlink)

    def _slow_header(self, block: bytes) -> Entry:
        """tarfile's parser for what the fast path leaves out (base-256 numbers, odd checksums)."""
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as e:
            raise LayerFormatError(f"{self._what}: bad tar header after \"{shown(self.last_name)}\" ({e})") from e
        return Entry(info.name, info.type, info.size, info.mode, info.uid, info.gid, float(info.mtime),
                     info.linkname, info.devmajor, info.devminor)

    def _truncated_at_end(self) -> None:
        # No end-of-archive marker: every writer we know emits one, so this is a cut stream.
        self._truncated()

    def _blob(self, size: int) -> bytes:
        if size > 16 << 20:
            raise LayerFormatError(f"{self._what}: extended header of {size} bytes is too large")
        data = self._take(_padded(size))
        if data is None:
            self._truncated()
        return data[:size]  # type: ignore[index]

    def _entry(self, entry: Entry, pax: dict[str, bytes], longname: str | None,
               longlink: str | None) -> Entry:
        if longname is not None:
            entry.name = longname
        if longlink is not None:
            entry.linkname = longlink
        for key, value in pax.items():
            _apply_pax(entry, key, value, self._what)
        check_numbers(entry, self._what)
        return entry

    # -- data -------------------------------------------------------------------------------
    def copy_to_fd(self, fd: int) -> None:
        """Write the current entry's data to *fd* (whole, else :class:`LayerFormatError`)."""
        left = self._size
        while left:
            if self._pos >= len(self._buf) and not self._more():
                self._truncated()
            avail = min(left, len(self._buf) - self._pos)
            view = memoryview(self._buf)[self._pos : self._pos + avail]
            while view:
                view = view[os.write(fd, view) :]
            self._pos += avail
            left -= avail
            self._data_left -= avail
        self._size = 0

    def skip_data(self) -> None:
        """Skip the rest of the current entry's data and padding."""
        left = self._data_left
        while left:
            if self._pos >= len(self._buf) and not self._more():
                self._truncated()
            step = min(left, len(self._buf) - self._pos)
            self._pos += step
            left -= step
        self._data_left = 0
        self._size = 0


_POSIX_MAGIC = b"ustar\x0000"
_CHKSUM_BLANK = 8 * 0x20  # the checksum field counts as eight spaces


def _fast_header(block: bytes) -> Entry | None:
    """Parse a plain ustar/GNU header with octal numbers, or None to let tarfile handle it.

    tarfile's general parser costs ~30 us a header, a fifth of the Python time of a layer of
    small files; this covers what real layers contain and defers anything unusual.
    """
    try:
        chksum = int(block[148:156].strip(b" \0") or b"-1", 8)
        if chksum != sum(block) - sum(block[148:156]) + _CHKSUM_BLANK:
            return None
        nums = [int(block[a:b].strip(b" \0") or b"0", 8) for a, b in _NUM_FIELDS]
    except ValueError:  # base-256 numbers, garbage: tarfile decides
        return None
    name = block[0:100].split(b"\0", 1)[0]
    kind = block[156:157] or tarfile.REGTYPE
    if block[257:265] == _POSIX_MAGIC and block[345] and kind not in tarfile.GNU_TYPES:
        name = block[345:500].split(b"\0", 1)[0] + b"/" + name
    if kind == tarfile.AREGTYPE and name.endswith(b"/"):
        kind = tarfile.DIRTYPE
    text = name.decode("utf-8", "surrogateescape")
    if kind == tarfile.DIRTYPE:
        text = text.rstrip("/")
    link = block[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    mode, uid, gid, size, mtime, major, minor = nums
    return Entry(text, kind, size, mode, uid, gid, float(mtime), link, major, minor)


_NUM_FIELDS = ((100, 108), (108, 116), (116, 124), (124, 136), (136, 148), (329, 337), (337, 345))


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def _parse_pax(data: bytes) -> dict[str, bytes]:
    """PAX records ``"<len> <key>=<value>\\n"``; values stay bytes (xattrs may be binary)."""
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError as e:
            raise LayerFormatError(f"layer: malformed PAX record at byte {pos}") from e
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]
        key, eq, value = record.partition(b"=")
        if not eq:
            raise LayerFormatError(f"layer: malformed PAX record at byte {pos}")
        out[key.decode("utf-8", "surrogateescape")] = value
        pos += length
    return out


def _apply_pax(entry: Entry, key: str, value: bytes, what: str) -> None:
    if key == "path":
        entry.name = value.decode("utf-8", "surrogateescape")
    elif key == "linkpath":
        entry.linkname = value.decode("utf-8", "surrogateescape")
    elif key in _NUMERIC_PAX:
        try:
            number = float(value) if key == "mtime" else int(value)
        except ValueError:
            number = float("nan")
        if not _in_range(key, number):
            raise LayerFormatError(f'{what} entry "{shown(entry.name)}": bad PAX {key} {value[:40]!r}')
        setattr(entry, _NUMERIC_PAX[key], number)
    elif key.startswith("SCHILY.xattr."):
        entry.xattrs[key[len("SCHILY.xattr.") :]] = value


def _in_range(key: str, number: float) -> bool:
    limit = _PAX_LIMITS[key]
    return (-limit if key == "mtime" else 0) <= number < limit  # also false for NaN


def check_numbers(entry: Entry, what: str) -> None:
    """Refuse ids, sizes and times the system calls would choke on (base-256 allows any)."""
    for key in ("size", "uid", "gid", "mtime", "devmajor", "devminor"):
        if not _in_range(key, getattr(entry, key)):
            raise LayerFormatError(f'{what} entry "{shown(entry.name)}": {key} {getattr(entry, key)} is out of range')
