"""Small file-system helpers that several layers need: atomic writes, fsync of directories, and
paths resolved inside a root as a chroot would see them."""

from __future__ import annotations

import os
from pathlib import Path

from dockyard.base.errors import InvalidArgument

MAX_SYMLINKS = 40  # as the kernel's path walk


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write *data* to *path* so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile  # ~1 ms (random, bisect…): only writers need it

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def resolve_in_root(root: str, rel: str, *, follow_last: bool = True) -> str:
    """Join *rel* to *root*, resolving symlinks and ``..`` as if *root* were ``/``.

    A link to ``/etc`` means *root*/etc and ``..`` stops at *root*, so an image's crafted links
    cannot lead ``cp``, ``COPY`` or a build mount to host files.  With ``follow_last=False`` a
    link in the last component is returned as is.
    """
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        if os.path.islink(candidate) and (parts or follow_last):
            hops += 1
            if hops > MAX_SYMLINKS:
                raise InvalidArgument(f"path {rel!r}: too many levels of symbolic links")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved) if resolved else root


def rmtree(path: str | os.PathLike[str], *, ignore_errors: bool = False) -> None:
    """Remove the tree at *path* as ``shutil.rmtree`` does, without importing shutil (which
    imports bz2 and lzma for its archive functions: ~1 ms on the path of every ``dockyard run``).

    Directories are opened with ``O_NOFOLLOW`` and emptied through their descriptor, so a
    symlink swapped in for one of them mid-way is removed, never followed.  A missing *path*
    is an error unless *ignore_errors*, which also skips entries that cannot be removed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        if ignore_errors:
            return
        if os.path.islink(path):  # as shutil: a symlink named as the tree is refused, not removed
            raise OSError(f"cannot call rmtree on a symbolic link: {path}") from None
        raise
    try:
        _empty(fd, ignore_errors)
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except OSError:
        if not ignore_errors:
            raise


def _empty(fd: int, ignore_errors: bool) -> None:
    with os.scandir(fd) as entries:
        names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    for name, is_dir in names:
        try:
            if is_dir:
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                except OSError:  # replaced by a file or a symlink since: unlink that instead
                    os.unlink(name, dir_fd=fd)
                    continue
                try:
                    _empty(sub, ignore_errors)
                finally:
                    os.close(sub)
                os.rmdir(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass  # removed by someone else meanwhile: the goal is reached
        except OSError:
            if not ignore_errors:
                raise
