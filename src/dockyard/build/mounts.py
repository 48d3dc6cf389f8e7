"""``RUN --mount``: cache, secret, bind and tmpfs mounts turned into OCI mounts for one step.

* ``cache`` -- a directory under ``<data root>/build/cache-mounts`` keyed by ``id`` (default: the
  target), kept across builds and never part of a layer; ``sharing=locked`` serialises steps that
  use it with a file lock.
* ``secret`` -- the file given by ``--secret id=…,src=…`` copied to a private tmpfs-backed file and
  bound read-only at ``/run/secrets/<id>`` (or ``target``), or with ``env=NAME`` put in the step's
  process environment; never in a layer, the history, the config or the cache key.  A missing
  secret is an error only with ``required``.
* ``bind`` -- read-only view of the build context or of another stage (``from=``); ``rw`` gives a
  throw-away copy, as BuildKit discards writes to it.
* ``tmpfs`` -- an empty tmpfs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

from dockyard.base.errors import FailedPrecondition, InvalidArgument
from dockyard.base.fsutil import resolve_in_root as scoped_path
from dockyard.build.context import BuildContext, clean_source
from dockyard.build.dockerfile.instructions import Mount


@contextlib.contextmanager
def prepared_mounts(mounts: tuple[Mount, ...], *, data_root: Path, scratch: Path, context: BuildContext,
                    secrets: dict[str, Path], workdir: str, env: dict[str, str],
                    stage_root: Callable[[str], contextlib.AbstractContextManager[Path]]) -> Iterator[list[dict]]:
    """OCI mounts for *mounts*, valid inside the ``with`` block; ``env=`` secrets go into *env*."""
    with ExitStack() as stack:
        out: list[dict] = []
        for m in mounts:
            target = mount_target(m, workdir)
            if m.type == "cache":
                out.append(_bind(stack.enter_context(_cache_dir(m, data_root)), target, ro=not m.writable))
            elif m.type == "secret":
                src = secrets.get(m.id)
                if src is None:
                    if m.required:
                        raise FailedPrecondition(f"secret {m.id!r}: required by RUN --mount but not given; "
                                                 f"pass --secret id={m.id},src=<file>")
                    continue
                if m.env:
                    # env= puts the value in the step's process environment only (never in the
                    # image config, the history or the cache key)
                    env[m.env] = src.read_text().rstrip("\n") if src.is_file() else ""
                if m.target or not m.env:
                    out.append(_bind(_secret_copy(src, scratch, m, stack), target, ro=True))
            elif m.type == "bind":
                out.append(_bind_source(m, target, context, stage_root, scratch, stack))
            elif m.type == "tmpfs":
                size = f"size={m.size}" if m.size else "size=65536k"
                out.append({"destination": target, "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", size]})
            else:
                raise InvalidArgument(f"RUN --mount=type={m.type}: not supported by dockyard build")
        yield out


def mount_target(m: Mount, workdir: str) -> str:
    return m.target if m.target.startswith("/") or not m.target else f"{workdir.rstrip('/')}/{m.target}"


def _bind(source: str | Path, dest: str, *, ro: bool) -> dict:
    return {"destination": dest, "type": "bind", "source": str(source),
            "options": ["rbind", "rprivate", "ro" if ro else "rw"]}


@contextlib.contextmanager
def _cache_dir(m: Mount, data_root: Path) -> Iterator[Path]:
    key = hashlib.sha256(m.id.encode()).hexdigest()[:32]
    base = data_root / "build" / "cache-mounts"
    path = base / key
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, m.mode if m.mode is not None else 0o755)
        os.chown(path, m.uid or 0, m.gid or 0)
    if m.sharing != "locked":
        yield path
        return
    with open(base / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield path


def _secret_copy(src: Path, scratch: Path, m: Mount, stack: ExitStack) -> Path:
    if not src.is_file():
        raise FailedPrecondition(f"secret {m.id!r}: source {src} is not a readable file")
    # /dev/shm keeps the secret off the disk where possible
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else scratch
    tmp = Path(tempfile.mkdtemp(prefix="dy-secret-", dir=base))
    stack.callback(shutil.rmtree, tmp, True)
    os.chmod(tmp, 0o700)
    dst = tmp / "secret"
    shutil.copyfile(src, dst)
    os.chmod(dst, m.mode if m.mode is not None else 0o400)
    os.chown(dst, m.uid or 0, m.gid or 0)
    return dst


def _bind_source(m: Mount, target: str, context: BuildContext, stage_root, scratch: Path,
                 stack: ExitStack) -> dict:
    if m.from_:
        root = stack.enter_context(stage_root(m.from_))
        source = scoped_path(str(root), m.source or "/")
    else:
        source = context.real(clean_source(m.source or "."))
    if not os.path.exists(source):
        raise InvalidArgument(f"RUN --mount=type=bind,source={m.source or '.'}: not found")
    if m.writable:
        tmp = Path(tempfile.mkdtemp(prefix="dy-bind-", dir=scratch))
        stack.callback(shutil.rmtree, tmp, True)
        copy = tmp / "src"
        if os.path.isdir(source):
            shutil.copytree(source, copy, symlinks=True)
        else:
            shutil.copy2(source, copy)
        source = str(copy)
    return _bind(source, target, ro=not m.writable)
