"""``/containers/{id}/archive``: ``docker cp`` — a tar of a path out, a tar extracted in, a stat.

Paths are resolved inside the container's root file system with the engine's
:func:`~dockyard.engine.copy.secure_join` (symlinks interpreted relative to that root), so a
crafted image cannot make ``cp`` reach host files.  ``HEAD``/``GET`` answer the path's stat in the
``X-Docker-Container-Path-Stat`` header (base64 JSON), which the CLI reads before copying.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat as st
import tarfile
import time
from pathlib import Path

from aiohttp import web

from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.containers import _get
from dockyard.dockerapi.routing import Routes


def _rootfs(engine, rec) -> Path:
    return engine.bundle(rec.id) / "rootfs"


def _stat_header(root: Path, path: str) -> tuple[Path, str]:
    from dockyard.engine.copy import secure_join

    target = secure_join(root, path)
    if not target.exists() and not target.is_symlink():
        raise NotFound(f"Could not find the file {path} in container")
    info = target.lstat()
    mode = st.S_IMODE(info.st_mode)
    # Go's os.FileMode: the directory bit is 1<<31, a symlink 1<<27
    if st.S_ISDIR(info.st_mode):
        mode |= 1 << 31
    elif st.S_ISLNK(info.st_mode):
        mode |= 1 << 27
    doc = {"name": target.name or "/", "size": info.st_size, "mode": mode,
           "mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info.st_mtime)),
           "linkTarget": os.readlink(target) if target.is_symlink() else ""}
    return target, base64.b64encode(json.dumps(doc).encode()).decode()


async def head(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    path = request.query.get("path") or ""
    _, header = await backend.call(lambda e: _stat_header(_rootfs(e, rec), path))
    return web.Response(status=200, headers={"X-Docker-Container-Path-Stat": header})


def _tar_of(target: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(str(target), arcname=target.name, recursive=True)
    return buf.getvalue()


async def get(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    path = request.query.get("path") or ""

    def pack(engine):
        target, header = _stat_header(_rootfs(engine, rec), path)
        return _tar_of(target), header

    data, header = await backend.call(pack)
    return web.Response(body=data, headers={"X-Docker-Container-Path-Stat": header,
                                            "Content-Type": "application/x-tar"})


def _extract(root: Path, dest: str, data: bytes) -> None:
    from dockyard.engine.copy import secure_join

    target = secure_join(root, dest)
    if not target.is_dir():
        raise NotFound(f"Could not find the file {dest} in container" if not target.exists()
                       else f"extraction point {dest} is not a directory")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar.getmembers():
            name = os.path.normpath(member.name)
            if name.startswith(("/", "..")):
                raise InvalidArgument(f"archive entry {member.name!r}: path escapes the destination; refused")
        tar.extractall(str(target), filter="tar")


async def put(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    rec = await _get(backend, request.match_info["id"])
    path = request.query.get("path") or ""
    data = await request.content.read()
    await backend.call(lambda e: _extract(_rootfs(e, rec), path, data))
    return web.Response(status=200)


def register(routes: Routes) -> None:
    routes.head("/containers/{id}/archive", head)
    routes.get("/containers/{id}/archive", get)
    routes.put("/containers/{id}/archive", put)
