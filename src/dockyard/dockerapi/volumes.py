"""``/volumes``: the ``local`` driver — a directory per volume, ``<data root>/volumes/<name>/_data``.

Named volumes in ``Binds``/``Mounts`` are created on first use (as docker does) and are bind
mounted like any host directory.  Metadata (labels, options, creation time) sits beside the data
in ``meta.json``.  A volume used by a container cannot be removed without ``force``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from dockyard.base.errors import Conflict, InvalidArgument, NotFound
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import check_fields, filters, json_body, qbool
from dockyard.dockerapi.routing import Routes

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def root(data_root: Path) -> Path:
    return data_root / "volumes"


def data_dir(data_root: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise InvalidArgument(f'volume name "{name}": use letters, digits and _.- (at least two characters)')
    return root(data_root) / name / "_data"


def ensure(data_root: Path, name: str, *, labels: dict[str, str] | None = None,
           options: dict[str, str] | None = None) -> tuple[dict[str, Any], bool]:
    """Create the volume if missing; (its document, whether it was created)."""
    data = data_dir(data_root, name)
    meta = data.parent / "meta.json"
    if meta.exists():
        return doc(data_root, name), False
    data.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"Labels": labels or {}, "Options": options or {},
                                "CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    return doc(data_root, name), True


def doc(data_root: Path, name: str) -> dict[str, Any]:
    data = data_dir(data_root, name)
    try:
        meta = json.loads((data.parent / "meta.json").read_text())
    except (OSError, ValueError):
        raise NotFound(f"get {name}: no such volume") from None
    return {"Name": name, "Driver": "local", "Mountpoint": str(data), "Scope": "local",
            "Labels": meta.get("Labels") or {}, "Options": meta.get("Options") or {},
            "CreatedAt": meta.get("CreatedAt", "")}


def list_docs(data_root: Path) -> list[dict[str, Any]]:
    base = root(data_root)
    if not base.is_dir():
        return []
    return [doc(data_root, p.name) for p in sorted(base.iterdir()) if (p / "meta.json").exists()]


def _users(engine, data_root: Path, name: str) -> list[str]:
    mount = str(data_dir(data_root, name))
    return [r.name for r in engine.store.list(include_sandboxes=True)
            if any(v.split(":")[0] == mount for v in r.options.volumes)]


async def create(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    body = await json_body(request, required=False)
    check_fields("volume config", body, {"Name", "Driver", "DriverOpts", "Labels", "ClusterVolumeSpec"})
    if body.get("Driver") not in (None, "", "local"):
        raise InvalidArgument(f"volume driver {body['Driver']!r}: only local is supported")
    import uuid

    name = body.get("Name") or uuid.uuid4().hex + uuid.uuid4().hex
    vol, made = await backend.run(ensure, backend.data_root, name, labels=body.get("Labels"),
                                  options=body.get("DriverOpts"))
    if made:
        backend.events.emit("volume", "create", name, {"driver": "local"})
    return web.json_response(vol, status=201)


async def list_(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    flt = filters(request)
    vols = await backend.run(list_docs, backend.data_root)
    if flt.get("name"):
        vols = [v for v in vols if any(n in v["Name"] for n in flt["name"])]
    for label in flt.get("label", []):
        key, eq, value = label.partition("=")
        vols = [v for v in vols if key in v["Labels"] and (not eq or v["Labels"][key] == value)]
    if flt.get("dangling"):
        used = await backend.call(lambda e: {v for v in (x["Name"] for x in vols) if _users(e, backend.data_root, v)})
        want_dangling = flt["dangling"][0] in ("true", "1")
        vols = [v for v in vols if (v["Name"] not in used) == want_dangling]
    return web.json_response({"Volumes": vols, "Warnings": None})


async def inspect(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    return web.json_response(await backend.run(doc, backend.data_root, request.match_info["name"]))


async def remove(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    name = request.match_info["name"]
    await backend.run(doc, backend.data_root, name)
    users = await backend.call(lambda e: _users(e, backend.data_root, name))
    if users and not qbool(request, "force"):
        raise Conflict(f"remove {name}: volume is in use by container {users[0]}")
    await backend.run(shutil.rmtree, data_dir(backend.data_root, name).parent)
    backend.events.emit("volume", "destroy", name, {"driver": "local"})
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]

    def sweep(engine) -> tuple[list[str], int]:
        gone, freed = [], 0
        for vol in list_docs(backend.data_root):
            if _users(engine, backend.data_root, vol["Name"]):
                continue
            path = Path(vol["Mountpoint"]).parent
            freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
            shutil.rmtree(path)
            gone.append(vol["Name"])
        return gone, freed

    gone, freed = await backend.call(sweep)
    return web.json_response({"VolumesDeleted": gone or None, "SpaceReclaimed": freed})


def register(routes: Routes) -> None:
    routes.post("/volumes/create", create)
    routes.get("/volumes", list_)
    routes.post("/volumes/prune", prune)
    routes.get("/volumes/{name}", inspect)
    routes.delete("/volumes/{name}", remove)
