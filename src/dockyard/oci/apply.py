"""Applying one layer's entries to a directory: files, links, whiteouts, metadata.

:class:`Applier` takes entries from :class:`~dockyard.oci.tarstream.TarStream` in order and makes
the directory look like the layer says, as the OCI image spec's "applying changesets" section
describes:

* ``.wh.NAME`` deletes NAME from what lower layers left; ``.wh..wh..opq`` empties its directory
  of everything lower layers put there (entries of this same layer stay, whatever their order).
  With ``whiteouts="overlay"`` they become overlayfs whiteouts instead (a 0/0 character device,
  ``trusted.overlay.opaque=y``), for unpacking straight into an overlay snapshot's upper dir.
* A new entry replaces what is there, except that a directory over a directory merges.
* Ownership (as root), modes, xattrs and mtimes are kept.  Order matters: chown clears setuid
  bits and file capabilities, so it comes before chmod and before xattrs; directory modes and
  mtimes are set last, deepest first, because writing children changes them.

Safety is :mod:`dockyard.oci.tarsafe`'s job (names and parents); policy lives here: device
nodes only when allowed, setuid/setgid stripped on request, and declared sizes capped so a
"tar bomb" that promises a terabyte is refused before a byte of it is written.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass

from dockyard.base.errors import (
    DockyardError,
    Internal,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
)
from dockyard.oci.compression import LayerFormatError
from dockyard.oci.tarsafe import RootedResolver, UnsafeLayer, clean_name, shown
from dockyard.oci.tarstream import Entry, TarStream

log = logging.getLogger(__name__)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OVERLAY_XATTRS = ("trusted.overlay.", "user.overlay.")
_XATTR_SKIP = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES}


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what one layer may declare (defaults are generous; a bomb still trips them)."""

    max_entry_size: int = 64 << 30
    max_total_size: int = 256 << 30
    max_entries: int = 4_000_000


@dataclass(frozen=True, slots=True)
class Policy:
    same_owner: bool
    allow_devices: bool
    strip_setuid: bool = False
    whiteouts: str = "apply"  # or "overlay"
    limits: Limits = Limits()


class Applier:
    def __init__(self, target: str, policy: Policy) -> None:
        self.policy = policy
        self.created: set[str] = set()
        self.res = RootedResolver(target, on_create=self.created.add)
        self.root = self.res.root
        self._dirs: list[tuple[str, Entry]] = []
        self._total = 0
        self._count = 0

    # -- driver -----------------------------------------------------------------------------
    def run(self, tar: TarStream) -> None:
        entry = None
        try:
            for entry in tar:
                self._count += 1
                if self._count > self.policy.limits.max_entries:
                    raise UnsafeLayer(entry.name, f"more than {self.policy.limits.max_entries} entries")
                self.apply(entry, tar)
            entry = None
            self.finish()
        except OSError as e:
            raise os_error(entry.name if entry else "", e) from e

    def apply(self, entry: Entry, tar: TarStream) -> None:
        rel = clean_name(entry.name)
        parent, _, base = rel.rpartition("/")
        if base.startswith(WHITEOUT):
            self._whiteout(entry, parent, base)
            return
        if not rel:
            if entry.isdir():
                self._dirs.append((self.root, entry))
            return
        pdir = self.res.parent(parent, entry.name)
        real = f"{pdir}/{base}" if pdir else base
        path = self.res.path(real)
        kind = entry.type
        if entry.isreg():
            self._file(entry, path, tar)
        elif kind == tarfile.DIRTYPE:
            self._dir(entry, path)
        elif kind == tarfile.SYMTYPE:
            self._replace(path)
            os.symlink(entry.linkname, path)
            self._owner(entry, path)
            self._xattrs(entry, path)
            os.utime(path, ns=_ns(entry), follow_symlinks=False)
        elif kind == tarfile.LNKTYPE:
            self._hardlink(entry, path)
        elif kind in (tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE):
            self._special(entry, path)
        else:
            raise UnsafeLayer(entry.name, f"unsupported tar entry type {entry.type!r}")
        self.created.add(real)

    def finish(self) -> None:
        # Deepest first, so setting a child's mtime cannot disturb its parent's.  Through an fd
        # opened without following links: the path was a directory when recorded, and _remove
        # forgets the directories it deletes, but a path is never trusted twice.
        for path, entry in reversed(self._dirs):
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            try:
                os.fchmod(fd, self._mode(entry))
                os.utime(fd, ns=_ns(entry))
            finally:
                os.close(fd)

    # -- entry kinds ------------------------------------------------------------------------
    def _file(self, entry: Entry, path: str, tar: TarStream) -> None:
        self._check_size(entry)
        try:
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        except FileExistsError:
            self._replace(path)
            fd = os.open(path, _OPEN_FLAGS, 0o600)
        try:
            if entry.size:
                tar.copy_to_fd(fd)
            if self.policy.same_owner:
                os.fchown(fd, entry.uid, entry.gid)
            os.fchmod(fd, self._mode(entry))
            if entry.xattrs:
                self._xattrs(entry, fd)
            os.utime(fd, ns=_ns(entry))
        finally:
            os.close(fd)

    def _dir(self, entry: Entry, path: str) -> None:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                self._replace(path)
                os.mkdir(path, 0o700)
        self._owner(entry, path)
        self._xattrs(entry, path)
        self._dirs.append((path, entry))

    def _hardlink(self, entry: Entry, path: str) -> None:
        target_rel = clean_name(entry.linkname)
        tparent, _, tbase = target_rel.rpartition("/")
        if not tbase:
            raise UnsafeLayer(entry.name, "hardlink to the root directory")
        tdir = self.res.parent(tparent, entry.name, create=False)
        source = self.res.path(f"{tdir}/{tbase}" if tdir else tbase)
        try:
            if tdir is None:
                raise FileNotFoundError(source)
            st = os.lstat(source)
        except FileNotFoundError:
            raise LayerFormatError(f'layer entry "{shown(entry.name)}": hardlink target "{shown(entry.linkname)}" not found') from None
        if stat.S_ISDIR(st.st_mode):
            raise UnsafeLayer(entry.name, f'hardlink to directory "{shown(entry.linkname)}"')
        try:
            if os.lstat(path).st_ino == st.st_ino:
                return
        except FileNotFoundError:
            pass
        else:
            self._replace(path)
        os.link(source, path, follow_symlinks=False)

    def _special(self, entry: Entry, path: str) -> None:
        if entry.type == tarfile.FIFOTYPE:
            kind = stat.S_IFIFO
        elif not self.policy.allow_devices:
            raise UnsafeLayer(entry.name, "device node not allowed (not running as root)")
        else:
            kind = stat.S_IFCHR if entry.type == tarfile.CHRTYPE else stat.S_IFBLK
        self._replace(path)
        os.mknod(path, kind | 0o600, os.makedev(entry.devmajor, entry.devminor))
        self._owner(entry, path)
        os.chmod(path, self._mode(entry))
        self._xattrs(entry, path)
        os.utime(path, ns=_ns(entry), follow_symlinks=False)

    # -- whiteouts --------------------------------------------------------------------------
    def _whiteout(self, entry: Entry, parent: str, base: str) -> None:
        overlay = self.policy.whiteouts == "overlay"
        # Applying, a whiteout under a missing directory hides nothing; for overlay the upper
        # dir needs the directory to hold the whiteout device.
        pdir = self.res.parent(parent, entry.name, create=overlay)
        if pdir is None:
            return
        if base == OPAQUE:
            dirpath = self.res.path(pdir)
            if overlay:
                os.setxattr(dirpath, "trusted.overlay.opaque", b"y", follow_symlinks=False)
                return
            for child in os.listdir(dirpath):
                real = f"{pdir}/{child}" if pdir else child
                if real not in self.created:
                    self._remove(self.res.path(real))
            return
        if base.startswith(OPAQUE[:8]):  # ".wh..wh.": aufs bookkeeping (.wh..wh.plnk etc.)
            return
        name = base[len(WHITEOUT) :]
        if name in ("", ".", ".."):
            raise UnsafeLayer(entry.name, "whiteout names no file")
        real = f"{pdir}/{name}" if pdir else name
        if real in self.created:
            return
        path = self.res.path(real)
        if overlay:
            self._replace(path)
            os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            self.created.add(real)
        else:
            self._remove(path)

    # -- helpers ----------------------------------------------------------------------------
    def _replace(self, path: str) -> None:
        """Make room for a new entry at *path* (which is never followed)."""
        self._remove(path)

    def _remove(self, path: str) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
            self.res.invalidate()
            inside = path + "/"
            self._dirs = [(p, e) for p, e in self._dirs if p != path and not p.startswith(inside)]
        else:
            os.unlink(path)
            if stat.S_ISLNK(st.st_mode):
                self.res.invalidate()

    def _mode(self, entry: Entry) -> int:
        mode = entry.mode & 0o7777
        if self.policy.strip_setuid:
            mode &= ~0o6000
        return mode

    def _check_size(self, entry: Entry) -> None:
        limits = self.policy.limits
        if entry.size > limits.max_entry_size:
            raise UnsafeLayer(entry.name, f"declares {entry.size} bytes, more than the {limits.max_entry_size} allowed per file")
        self._total += entry.size
        if self._total > limits.max_total_size:
            raise UnsafeLayer(entry.name, f"layer declares more than the {limits.max_total_size} bytes allowed in total")
        if entry.size > 64 << 20:
            vfs = os.statvfs(self.root)
            free = vfs.f_bavail * vfs.f_frsize
            if entry.size > free:
                raise UnsafeLayer(entry.name, f"declares {entry.size} bytes, more than the {free} free on {self.root}")

    def _owner(self, entry: Entry, path: str) -> None:
        if self.policy.same_owner:
            os.lchown(path, entry.uid, entry.gid)

    def _xattrs(self, entry: Entry, where: str | int) -> None:
        for name, value in entry.xattrs.items():
            if name.startswith(_OVERLAY_XATTRS):
                # overlayfs reads these (redirect, metacopy, opaque) to decide what a mount shows;
                # only the snapshotter may set them, never a layer's author.
                log.debug("layer entry %r: overlay xattr %s dropped", entry.name, name)
                continue
            if name.startswith("trusted.") and not self.policy.same_owner:
                continue
            try:
                if isinstance(where, int):
                    os.setxattr(where, name, value)
                else:
                    os.setxattr(where, name, value, follow_symlinks=False)
            except OSError as e:
                if e.errno not in _XATTR_SKIP:
                    raise
                log.debug("layer entry %r: xattr %s not set (%s)", entry.name, name, e.strerror)


def os_error(name: str, e: OSError) -> DockyardError:
    """A file-system failure while applying, in dockyard's categories, naming the entry."""
    what = f'layer entry "{shown(name)}"' if name else "layer"
    cls: type[DockyardError] = {
        errno.ENAMETOOLONG: InvalidArgument, errno.ELOOP: InvalidArgument, errno.EINVAL: InvalidArgument,
        errno.ENOSPC: ResourceExhausted, errno.EDQUOT: ResourceExhausted, errno.EMLINK: ResourceExhausted,
        errno.EACCES: PermissionDenied, errno.EPERM: PermissionDenied, errno.EROFS: PermissionDenied,
    }.get(e.errno or 0, Internal)
    return cls(f"{what}: {e.strerror or e}")


def _ns(entry: Entry) -> tuple[int, int]:
    ns = int(entry.mtime * 1_000_000_000)
    return ns, ns
