"""``cp`` between the host and a container's root file system, never escaping that root.

Paths inside the container are resolved component by component with symlinks interpreted
relative to the container's root (a link to ``/etc`` means the container's /etc), so an image
cannot make ``cp`` read or write host files through a crafted link.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dockyard.base.errors import NotFound
from dockyard.base.fsutil import resolve_in_root


def secure_join(root: Path, path: str) -> Path:
    """*path* inside *root*, following symlinks as the container would see them."""
    return Path(resolve_in_root(str(root), path))


def copy_out(rootfs: Path, src: str, dest: Path) -> None:
    source = secure_join(rootfs, src)
    if not source.exists():
        raise NotFound(f"path {src!r}: not found in the container")
    if dest.is_dir():
        dest = dest / source.name
    _copy(source, dest)


def copy_in(rootfs: Path, src: Path, dest: str) -> None:
    if not src.exists():
        raise NotFound(f"path {src}: not found on the host")
    target = secure_join(rootfs, dest)
    if target.is_dir():
        target = secure_join(rootfs, f"{dest.rstrip('/')}/{src.name}")
    elif not target.parent.is_dir():
        raise NotFound(f"path {dest!r}: its directory does not exist in the container")
    _copy(src, target)


def _copy(src: Path, dest: Path) -> None:
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest, follow_symlinks=False)
