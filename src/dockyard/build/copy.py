"""COPY and ADD: files from the context, another stage or a URL into a mounted rootfs.

Docker's rules, applied to a rootfs mounted for the step:

* A relative destination is relative to WORKDIR.  The destination is a directory when it ends in
  ``/``, when there are several sources (or a glob), or when it already is one.  Missing parent
  directories are created ``0755``.
* A source directory contributes its *contents*; a file lands at ``dest`` or ``dest/<name>``.
* Files from the context are owned by 0:0 (the context's owners mean nothing in the image); files
  from another stage keep their owners; ``--chown`` overrides both (a user without a group uses the
  same number for the group, as Docker documents), ``--chmod`` sets the mode of files and dirs.
* ADD also unpacks a local tar archive (plain, gzip, bzip2, xz) into the destination, and fetches
  a URL into a ``0600`` file.
* Paths in the destination rootfs resolve symlinks inside the rootfs, never on the host.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

from dockyard.base.errors import InvalidArgument, Unavailable
from dockyard.base.fsutil import resolve_in_root as scoped_path
from dockyard.build.context import BuildContext, Entry
from dockyard.build.dockerignore import IgnoreMatcher


@dataclass(frozen=True, slots=True)
class Owner:
    uid: int | None  # None: keep the source's owner
    gid: int | None


def is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def parse_chmod(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        mode = int(text, 8)
    except ValueError:
        raise InvalidArgument(f"--chmod={text}: expected an octal mode such as 0755") from None
    if mode > 0o7777:
        raise InvalidArgument(f"--chmod={text}: mode out of range")
    return mode


def resolve_chown(spec: str | None, rootfs: Path, *, keep: bool) -> Owner:
    """``--chown=user[:group]`` with names looked up in the destination's /etc/passwd and /etc/group."""
    if not spec:
        return Owner(None, None) if keep else Owner(0, 0)
    user, _, group = spec.partition(":")
    uid = _lookup(user, rootfs / "etc/passwd", "user", spec)
    gid = _lookup(group, rootfs / "etc/group", "group", spec) if group else uid
    return Owner(uid, gid)


def _lookup(name: str, table: Path, what: str, spec: str) -> int:
    if name.isdigit():
        return int(name)
    try:
        lines = table.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        fields = line.split(":")
        if len(fields) > 2 and fields[0] == name and fields[2].isdigit():
            return int(fields[2])
    raise InvalidArgument(f"--chown={spec}: no {what} {name!r} in the image's /etc/{table.name}")


class Copier:
    def __init__(self, rootfs: Path, owner: Owner, chmod: int | None, *, mtime: float | None = None) -> None:
        self.rootfs = rootfs
        self.owner = owner
        self.chmod = chmod
        self.mtime = mtime

    def target(self, dest: str) -> str:
        return scoped_path(str(self.rootfs), dest)

    def is_dir(self, dest: str) -> bool:
        return os.path.isdir(self.target(dest))

    def makedirs(self, dest: str) -> str:
        """Create *dest* and missing parents (0755, owned by the --chown user or root)."""
        path = self.rootfs
        parts = [p for p in dest.split("/") if p]
        done = ""
        for part in parts:
            done += "/" + part
            real = Path(self.target(done))
            if not real.exists():
                real.mkdir(mode=0o755)
                real.chmod(0o755)
                os.lchown(real, self.owner.uid or 0, self.owner.gid or 0)
            path = real
        return str(path)

    def _own(self, path: str, st: os.stat_result | None, *, is_link: bool = False) -> None:
        uid = self.owner.uid if self.owner.uid is not None else (st.st_uid if st else 0)
        gid = self.owner.gid if self.owner.gid is not None else (st.st_gid if st else 0)
        os.lchown(path, uid, gid)
        if is_link:
            return
        mode = self.chmod if self.chmod is not None else (stat.S_IMODE(st.st_mode) if st else 0o644)
        os.chmod(path, mode)

    def _clear(self, path: str, *, want_dir: bool) -> None:
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            os.unlink(path)
        elif os.path.isdir(path) and not want_dir:
            raise InvalidArgument(f"cannot copy a file over the directory {path[len(str(self.rootfs)):]}")

    def put_entry(self, e: Entry, dst: str) -> None:
        st = e.st
        if stat.S_ISDIR(st.st_mode):
            self._clear(dst, want_dir=True)
            if not os.path.isdir(dst):
                os.mkdir(dst)
            self._own(dst, st)
        elif stat.S_ISLNK(st.st_mode):
            self._clear(dst, want_dir=False)
            os.symlink(os.readlink(e.path), dst)
            self._own(dst, st, is_link=True)
            return
        elif stat.S_ISREG(st.st_mode):
            self._clear(dst, want_dir=False)
            shutil.copyfile(e.path, dst)
            self._own(dst, st)
        else:
            return  # devices, fifos and sockets are not copied
        os.utime(dst, (st.st_atime, st.st_mtime))

    def copy_tree(self, ctx: BuildContext, rel: str, dest: str, dest_is_dir: bool, *,
                  exclude: IgnoreMatcher | None = None) -> None:
        """Copy *rel* (and what is below it) from *ctx* to *dest* in the rootfs.

        *exclude* (``COPY --exclude``) holds patterns matched against paths below *rel*."""
        entries = iter(ctx.walk(rel))
        top = next(entries)
        if top.is_dir:
            base = self.makedirs(dest)
            for e in entries:
                sub = e.rel[len(rel) + 1:] if rel != "." else e.rel
                if exclude is not None and exclude.excluded(sub):
                    continue
                self.put_entry(e, os.path.join(base, sub))
            return
        name = rel.rsplit("/", 1)[-1]
        if dest_is_dir:
            dst = os.path.join(self.makedirs(dest), name)
        else:
            parent, _, leaf = dest.rstrip("/").rpartition("/")
            dst = os.path.join(self.makedirs(parent), leaf)
        self.put_entry(top, dst)

    def write_file(self, data: bytes, dest: str, name: str, dest_is_dir: bool, *, mode: int = 0o644,
                   mtime: float | None = None) -> str:
        if dest_is_dir:
            dst = os.path.join(self.makedirs(dest), name)
        else:
            parent, _, leaf = dest.rstrip("/").rpartition("/")
            dst = os.path.join(self.makedirs(parent), leaf)
        self._clear(dst, want_dir=False)
        with open(dst, "wb") as f:
            f.write(data)
        os.lchown(dst, self.owner.uid or 0, self.owner.gid or 0)
        os.chmod(dst, self.chmod if self.chmod is not None else mode)
        if mtime is not None:
            os.utime(dst, (mtime, mtime))
        return dst

    def extract(self, archive: str, dest: str) -> None:
        """ADD's local archive: unpack into *dest* (never outside it), keeping owners as root does."""
        base = self.makedirs(dest)
        with tarfile.open(archive) as tar:
            tar.extractall(base, filter="tar")


def is_archive(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def fetch_url(url: str, *, checksum: str | None = None, timeout: float = 30.0) -> tuple[bytes, str, float | None]:
    """Download *url* for ADD: (data, file name, Last-Modified as a timestamp)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    from email.utils import parsedate_to_datetime

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
            modified = resp.headers.get("Last-Modified")
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Unavailable(f"ADD {url}: cannot fetch it ({reason}); this machine may have no network "
                          "access -- download the file into the build context and COPY it instead") from None
    if checksum:
        algo, _, want = checksum.partition(":")
        if algo != "sha256" or hashlib.sha256(data).hexdigest() != want:
            raise InvalidArgument(f"ADD {url}: content does not match --checksum={checksum}")
    name = urllib.parse.urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] or "index.html"
    when = None
    if modified:
        try:
            when = parsedate_to_datetime(modified).timestamp()
        except (TypeError, ValueError):
            when = None
    return data, name, when
