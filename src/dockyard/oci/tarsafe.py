"""Keeping every write of a layer inside its root: entry names and in-root path resolution.

A layer is untrusted input.  Three rules keep extraction inside the target directory:

1. Entry names are cleaned lexically: a leading ``/`` is dropped (an absolute name means "from
   the image's root", as docker and GNU tar read it) and a name that still climbs out with ``..``
   is refused.
2. Every *parent* component of an entry is resolved by :class:`RootedResolver` one component at a
   time with ``lstat``.  A symlink met on the way is followed the way the container will see it:
   an absolute target restarts at the image root, a relative one continues from where it is, and
   a target that climbs above the root is refused.  So ``lib -> usr/lib`` works while a link to
   ``../../..`` followed by a write through it is refused with the entry's name.
3. The *last* component is never followed: files are opened with ``O_NOFOLLOW|O_EXCL``, links
   replace what is there, hardlinks use ``link(..., follow_symlinks=False)``.

Resolved parents are cached (a layer of 5,000 files has a few hundred directories) and the cache is
dropped whenever the applier removes a directory or symlink, the only changes that could make a
cached answer wrong.  The target is assumed to have no other writer while a layer is applied
(snapshots are unpacked before any container sees them).
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable

from dockyard.base.errors import InvalidArgument

_MAX_LINKS = 40  # the kernel's own limit (ELOOP) for symlinks followed in one lookup


class UnsafeLayer(InvalidArgument):
    """A layer entry that would write outside its root, or that policy forbids (devices, bombs)."""

    def __init__(self, name: str, reason: str) -> None:
        self.entry = name
        super().__init__(f'layer entry "{shown(name)}": {reason}; refused')


def shown(name: str, limit: int = 200) -> str:
    """*name* for a one-line message: hostile names can be kilobytes long."""
    return name if len(name) <= limit else f"{name[:limit]}…({len(name)} bytes)"


def clean_name(name: str) -> str:
    """The entry's path relative to the root (``""`` for the root itself), or UnsafeLayer."""
    if "\0" in name:
        raise UnsafeLayer(name, "name contains a NUL byte")
    rel = posixpath.normpath("/" + name.lstrip("/")) if name else "/"
    # normpath of an absolute path cannot climb above "/", so check the raw components instead.
    depth = 0
    for part in name.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise UnsafeLayer(name, "path escapes the root")
        elif part not in ("", "."):
            depth += 1
    return rel.lstrip("/")


class RootedResolver:
    """Resolves entry parents to real directories under *root*, creating missing ones."""

    def __init__(self, root: str, *, on_create: Callable[[str], None] | None = None) -> None:
        self.root = root.rstrip("/") or "/"
        self._cache: dict[str, str] = {"": ""}
        self._on_create = on_create

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def invalidate(self) -> None:
        self._cache = {"": ""}

    def parent(self, rel_dir: str, entry: str, *, create: bool = True) -> str | None:
        """Real path (relative to root) of the directory *rel_dir* names, symlinks resolved in root.

        Missing directories are created, or with ``create=False`` the answer is None.
        """
        hit = self._cache.get(rel_dir)
        if hit is not None:
            return hit
        real = self._walk(rel_dir, entry, create)
        if real is not None:
            self._cache[rel_dir] = real
        return real

    def _walk(self, rel: str, entry: str, create: bool) -> str | None:
        stack = rel.split("/")[::-1]
        cur: list[str] = []
        links = 0
        while stack:
            comp = stack.pop()
            if comp in ("", "."):
                continue
            if comp == "..":
                if not cur:
                    raise UnsafeLayer(entry, "path escapes the root through a symlink")
                cur.pop()
                continue
            real = "/".join([*cur, comp])
            full = self.path(real)
            try:
                st = os.lstat(full)
            except FileNotFoundError:
                if not create:
                    return None
                os.mkdir(full, 0o755)
                if self._on_create:
                    self._on_create(real)
                cur.append(comp)
                continue
            if stat.S_ISDIR(st.st_mode):
                cur.append(comp)
            elif stat.S_ISLNK(st.st_mode):
                links += 1
                if links > _MAX_LINKS:
                    raise UnsafeLayer(entry, "too many levels of symlinks")
                target = os.readlink(full)
                if target.startswith("/"):
                    cur = []
                stack.extend(target.split("/")[::-1])
            else:
                raise UnsafeLayer(entry, f'parent "{real}" is not a directory')
        return "/".join(cur)
