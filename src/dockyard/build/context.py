"""The build context: which files COPY/ADD may read, and a digest of them for the cache.

A context is a directory filtered by its ``.dockerignore``.  Sources named by COPY/ADD are
resolved the way Docker resolves them: relative to the context root (``/a`` and ``a`` are the
same), globs in Go ``filepath.Match`` syntax, a path that climbs out of the root refused.  The
digest of a set of sources covers, for every file below them, its path, type, permission bits,
size, content (or symlink target) -- not mtimes or owners, which COPY does not keep (files are
owned by 0:0 unless ``--chown`` says otherwise, and that flag is part of the instruction text).
So touching a file does not invalidate the cache, editing one does.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.base.fsutil import resolve_in_root as scoped_path
from dockyard.build.dockerignore import IgnoreMatcher
from dockyard.build.pathmatch import compile_pattern, has_magic


class OutsideContext(InvalidArgument):
    pass


class SourceNotFound(NotFound):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    rel: str  # relative to the context root, "/"-separated; "." for the root itself
    path: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


def clean_source(src: str) -> str:
    """``./a/../b/`` → ``b``; ``/`` → ``.``; raises if the path climbs out of the context."""
    norm = posixpath.normpath(src.lstrip("/") or ".")
    if norm == ".." or norm.startswith("../"):
        raise OutsideContext(f"{src}: path is outside the build context")
    return norm


class BuildContext:
    def __init__(self, root: Path, *, ignore: IgnoreMatcher | None = None,
                 hashes: dict[str, str] | None = None) -> None:
        self.root = Path(root).resolve()
        self.ignore = ignore if ignore is not None else IgnoreMatcher.from_context(self.root)
        #: content hashes by (path, size, mtime, ctime, inode): a file whose stat is unchanged is
        #: not read again; the build cache persists this map between builds
        self.hashes: dict[str, str] = hashes if hashes is not None else {}
        self.new_hashes: dict[str, str] = {}

    def abspath(self, rel: str) -> str:
        return str(self.root) if rel == "." else f"{self.root}/{rel}"

    def excluded(self, rel: str) -> bool:
        return rel != "." and self.ignore.excluded(rel)

    def resolve(self, src: str) -> list[str]:
        """Context-relative paths that *src* names (a glob may name several, never none)."""
        rel = clean_source(src)
        found = self._glob(rel) if has_magic(rel) else self._exact(rel)
        if not found:
            raise SourceNotFound(f"{src}: not found in the build context (or excluded by .dockerignore)")
        return found

    def _exact(self, rel: str) -> list[str]:
        if self.excluded(rel) and not (self._is_dir(rel) and self.ignore.may_include_below(rel)):
            return []
        return [rel] if os.path.lexists(self.abspath(rel)) else []

    def real(self, rel: str) -> str:
        """The file *rel* names, following symlinks inside the context: an absolute or climbing
        link is read relative to the context root, as BuildKit does, never to the host."""
        return scoped_path(str(self.root), rel)

    def _is_dir(self, rel: str) -> bool:
        return os.path.isdir(self.abspath(rel))

    def _glob(self, rel: str) -> list[str]:
        parts = rel.split("/")
        current = ["."]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = []
            for base in current:
                nxt.extend(self._match_in(base, part))
            current = [c for c in nxt if last or self._is_dir(c)]
        return sorted(c for c in current if not self.excluded(c))

    def _match_in(self, base: str, part: str) -> list[str]:
        join = (lambda n: n) if base == "." else (lambda n: f"{base}/{n}")
        if not has_magic(part):
            return [join(part)] if os.path.lexists(self.abspath(join(part))) else []
        regex = compile_pattern(part)
        try:
            names = sorted(os.listdir(self.abspath(base)))
        except (NotADirectoryError, FileNotFoundError):
            return []
        return [join(n) for n in names if regex.match(n)]

    def walk(self, rel: str) -> Iterator[Entry]:
        """*rel* (following it if it is a symlink) and, for a directory, everything visible below it."""
        path = self.real(rel)
        st = os.lstat(path)
        yield Entry(rel, path, st)
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk_dir(rel, path)

    def _walk_dir(self, rel: str, path: str) -> Iterator[Entry]:
        with os.scandir(path) as it:
            children = sorted(it, key=lambda e: e.name)
        for child in children:
            crel = child.name if rel == "." else f"{rel}/{child.name}"
            st = child.stat(follow_symlinks=False)
            is_dir = stat.S_ISDIR(st.st_mode)
            if self.excluded(crel):
                if is_dir and self.ignore.may_include_below(crel):
                    # an excluded directory is still walked when an exception may bring back its
                    # children; the children that come back bring their parent along
                    sub = list(self._walk_dir(crel, child.path))
                    if sub:
                        yield Entry(crel, child.path, st)
                        yield from sub
                continue
            yield Entry(crel, child.path, st)
            if is_dir:
                yield from self._walk_dir(crel, child.path)

    def digest(self, rels: list[str]) -> str:
        """sha256 over path, type, mode, size and content of everything the sources cover."""
        h = hashlib.sha256()
        for rel in rels:
            h.update(f"source {rel}\0".encode())
            for e in self.walk(rel):
                h.update(self._entry_digest(e).encode())
        return "sha256:" + h.hexdigest()

    def _entry_digest(self, e: Entry) -> str:
        mode = e.st.st_mode
        head = f"{e.rel}\0{stat.S_IFMT(mode):o}\0{stat.S_IMODE(mode):o}\0"
        if stat.S_ISLNK(mode):
            return head + os.readlink(e.path) + "\n"
        if not stat.S_ISREG(mode):
            return head + "\n"
        key = f"{e.path}\0{e.st.st_size}\0{e.st.st_mtime_ns}\0{e.st.st_ctime_ns}\0{e.st.st_ino}"
        content = self.hashes.get(key)
        if content is None:
            content = file_sha256(e.path)
            self.hashes[key] = self.new_hashes[key] = content
        return f"{head}{e.st.st_size}\0{content}\n"


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
