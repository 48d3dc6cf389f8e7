"""``/images/…``: list, inspect, history, tag, remove, prune, pull and push (progress JSON), save, load.

The image store (:mod:`dockyard.oci.images`) does the work; this module shapes Docker's JSON.
Pull and push stream docker's progress objects (``{"status": …, "id": …}``) line by line; an error
mid-stream is an ``{"errorDetail": …, "error": …}`` line, as the CLI expects once a 200 has gone.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from dockyard.base.errors import Conflict, DockyardError, InvalidArgument
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import filters, qbool
from dockyard.dockerapi.hijack import prepare_now
from dockyard.dockerapi.routing import Routes


def _names():
    from dockyard.oci import names

    return names


def summary(images, record) -> dict[str, Any]:
    names = _names()
    try:
        _, config = images.manifest_for(record)
    except DockyardError:
        config = {}
    repos = {names.parse(n).repository for n in record.names}
    return {"Id": str(record.id), "ParentId": "", "RepoTags": [names.familiar(n) for n in record.names],
            "RepoDigests": sorted(f"{names.familiar(r)}@{record.digest}" for r in repos),
            "Created": int(record.created), "Size": record.size, "SharedSize": -1, "VirtualSize": record.size,
            "Labels": ((config.get("config") or {}).get("Labels")) or {}, "Containers": -1}


def inspect_doc(images, record) -> dict[str, Any]:
    doc = summary(images, record)
    _, config = images.manifest_for(record)
    cfg = dict(config.get("config") or {})
    cfg.setdefault("Env", None)
    cfg.setdefault("Cmd", None)
    cfg.setdefault("Entrypoint", None)
    return {"Id": doc["Id"], "RepoTags": doc["RepoTags"], "RepoDigests": doc["RepoDigests"], "Parent": "",
            "Comment": "", "Created": config.get("created", ""), "Container": "", "DockerVersion": "",
            "Author": config.get("author", ""), "Config": cfg, "ContainerConfig": cfg,
            "Architecture": config.get("architecture", ""), "Os": config.get("os", "linux"),
            "Size": record.size, "VirtualSize": record.size, "GraphDriver": {"Name": "overlay", "Data": {}},
            "RootFS": {"Type": "layers", "Layers": [str(d) for d in (config.get("rootfs") or {}).get("diff_ids", [])]},
            "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"}}


async def list_(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    flt = filters(request)

    def gather(engine):
        out = []
        for rec in engine.images.list():
            doc = summary(engine.images, rec)
            if flt.get("dangling") and (flt["dangling"][0] in ("true", "1")) == bool(rec.names):
                continue
            if flt.get("reference") and not any(any(t.split(":")[0] == r or t == r for t in doc["RepoTags"])
                                                for r in flt["reference"]):
                continue
            out.append(doc)
        return out

    return web.json_response(await backend.call(gather))


async def inspect(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ref = request.match_info["name"]
    return web.json_response(await backend.call(lambda e: inspect_doc(e.images, _resolve(e.images, ref))))


def _resolve(images, ref: str):
    from dockyard.base.errors import NotFound

    try:
        return images.resolve(ref)
    except NotFound:
        raise NotFound(f"No such image: {ref}") from None


async def history(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ref = request.match_info["name"]

    def rows(engine):
        record = _resolve(engine.images, ref)
        manifest, config = engine.images.manifest_for(record)
        layers = list(manifest.layers)
        out = []
        for entry in config.get("history") or [{} for _ in layers]:
            size = layers.pop(0).size if not entry.get("empty_layer") and layers else 0
            created = entry.get("created") or ""
            try:
                from dockyard.base.clock import parse_rfc3339

                ts = int(parse_rfc3339(created)) if created else 0
            except ValueError:
                ts = 0
            out.append({"Id": "<missing>", "Created": ts, "CreatedBy": entry.get("created_by", ""), "Tags": None,
                        "Size": size, "Comment": entry.get("comment", "")})
        out.reverse()
        if out:
            out[0]["Id"] = str(record.id)
            out[0]["Tags"] = [_names().familiar(n) for n in record.names]
        return out

    return web.json_response(await backend.call(rows))


async def tag(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ref, repo, tag_ = request.match_info["name"], request.query.get("repo"), request.query.get("tag") or "latest"
    if not repo:
        raise InvalidArgument("tag: repo is required")

    def do(engine):
        record = _resolve(engine.images, ref)
        engine.images.tag(f"{repo}:{tag_}", record.digest, record.media_type)
        return record

    record = await backend.call(do)
    backend.events.emit("image", "tag", str(record.id), {"name": f"{repo}:{tag_}"})
    return web.Response(status=201)


def _remove(engine, ref: str, force: bool) -> list[dict[str, str]]:
    names = _names()
    images = engine.images
    record = _resolve(images, ref)
    try:
        canonical = names.normalize(ref)
    except InvalidArgument:
        canonical = None
    if canonical in record.names and len(record.names) > 1:
        images.untag(canonical)
        return [{"Untagged": names.familiar(canonical)}]
    if len(record.names) > 1 and not force:
        raise Conflict(f"conflict: unable to delete {record.short_id} (must be forced) - image is referenced in "
                       "multiple repositories")
    users = [r.name for r in engine.store.list(include_sandboxes=True) if r.image_id in (str(record.id), record.id)]
    if users and not force:
        raise Conflict(f"conflict: unable to remove repository reference \"{ref}\" (must force) - container "
                       f"{users[0]} is using its referenced image {record.short_id}")
    out = []
    for name in record.names:
        images.untag(name)
        out.append({"Untagged": names.familiar(name)})
    images.delete(images.get(record.digest), force=True)
    out.append({"Deleted": str(record.id)})
    from dockyard.engine import imagegc

    imagegc.collect_garbage(images)  # as `dockyard rmi`: the blobs only this image held go now
    return out


def _labels_match(images, record, flt: dict[str, list[str]]) -> bool:
    """docker's ``label=K``, ``label=K=V`` and ``label!=…`` against the image config's labels."""
    try:
        _, config = images.manifest_for(record)
    except DockyardError:
        return False
    labels = (config.get("config") or {}).get("Labels") or {}

    def has(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        return key in labels and (not eq or labels[key] == value)

    return all(has(x) for x in flt.get("label", [])) and not any(has(x) for x in flt.get("label!", []))


async def remove(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ref = request.match_info["name"]
    out = await backend.call(_remove, ref, qbool(request, "force"))
    for item in out:
        for action, ident in item.items():
            backend.events.emit("image", action.lower().replace("deleted", "delete").replace("untagged", "untag"),
                                ident, {"name": ref})
    return web.json_response(out)


async def prune(request: web.Request) -> web.Response:
    """``docker image prune [-a] [--filter until=…|label=…]``: images no container was created from;
    only untagged ones unless ``dangling=false`` (``-a``).  Blobs and unpacked layers no one needs
    go too, with the registry's blobs as roots (:mod:`dockyard.engine.imagegc`)."""
    backend = request.app[BACKEND]
    flt = filters(request)
    unknown = set(flt) - {"dangling", "until", "label", "label!"}
    if unknown:
        raise InvalidArgument(f"invalid filter '{sorted(unknown)[0]}'")
    dangling_only = (flt.get("dangling") or ["true"])[0].lower() in ("true", "1")
    until = None
    if flt.get("until"):
        from dockyard.dockerapi.networks import parse_until

        until = parse_until(flt["until"][0])

    def sweep(engine):
        from dockyard.engine import imagegc

        images = engine.images
        used = imagegc.images_used(engine.data_root)
        gone = []
        for r in images.list():
            if str(r.id) in used or (dangling_only and r.names):
                continue
            if until is not None and (r.created or r.added or 0) >= until:
                continue
            if (flt.get("label") or flt.get("label!")) and not _labels_match(images, r, flt):
                continue
            gone.append(r)
        out = []
        for r in gone:
            out += [{"Untagged": _names().familiar(n)} for n in r.names]
            images.delete(r, force=True)
            out.append({"Deleted": str(r.id)})
        freed = imagegc.collect_garbage(images, stale_ingest_age=24 * 3600) + imagegc.collect_snapshots(images)
        return out, freed

    deleted, freed = await backend.call(sweep)
    return web.json_response({"ImagesDeleted": deleted or None, "SpaceReclaimed": freed})


class _StreamProgress:
    """The registry client's progress, as docker's JSON lines into a queue."""

    def __init__(self, queue: asyncio.Queue) -> None:
        self.queue = queue

    def start(self, key: str, status: str, total: int | None = None) -> None:
        self.queue.put_nowait({"status": status, "id": key[:12]})

    def advance(self, key: str, n: int) -> None: ...

    def done(self, key: str, status: str) -> None:
        self.queue.put_nowait({"status": status, "id": key[:12]})

    def message(self, text: str) -> None:
        self.queue.put_nowait({"status": text})


async def _stream_job(request: web.Request, job) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    await prepare_now(resp, request)
    queue: asyncio.Queue = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(job(_StreamProgress(queue)))
    while not (task.done() and queue.empty()):
        getter = asyncio.ensure_future(queue.get())
        await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            await resp.write(json.dumps(getter.result()).encode() + b"\r\n")
        else:
            getter.cancel()
    exc = task.exception()
    if exc is not None:
        await resp.write(json.dumps({"errorDetail": {"message": str(exc)}, "error": str(exc)}).encode() + b"\r\n")
    await resp.write_eof()
    return resp


async def create(request: web.Request) -> web.StreamResponse:
    """``POST /images/create?fromImage=…&tag=…``: a pull."""
    from dockyard.oci import names
    from dockyard.registry.client import credentials
    from dockyard.registry.client.pull import pull
    from dockyard.registry.client.settings import ClientSettings

    backend = request.app[BACKEND]
    image = request.query.get("fromImage")
    if not image:
        raise InvalidArgument("images/create: only fromImage (a pull) is supported; use /images/load to import")
    tag_ = request.query.get("tag")
    text = f"{image}@{tag_}" if tag_ and tag_.startswith("sha256:") else f"{image}:{tag_}" if tag_ else image
    ref = names.parse(text)

    async def job(progress):
        images = await backend.run(lambda: backend.engine().images)
        settings = ClientSettings.load(backend.data_root)
        await pull(ref, images=images, settings=settings, credentials=credentials.lookup(ref.domain),
                   progress=progress)
        backend.events.emit("image", "pull", ref.familiar(), {"name": ref.familiar()})

    return await _stream_job(request, job)


async def push(request: web.Request) -> web.StreamResponse:
    from dockyard.oci import names
    from dockyard.registry.client import credentials
    from dockyard.registry.client.push import push as do_push
    from dockyard.registry.client.settings import ClientSettings

    backend = request.app[BACKEND]
    name, tag_ = request.match_info["name"], request.query.get("tag")
    ref = names.parse(f"{name}:{tag_}" if tag_ else name)

    async def job(progress):
        images = await backend.run(lambda: backend.engine().images)
        await do_push(ref, images=images, settings=ClientSettings.load(backend.data_root),
                      credentials=credentials.lookup(ref.domain), progress=progress)
        backend.events.emit("image", "push", ref.familiar(), {"name": ref.familiar()})

    return await _stream_job(request, job)


async def save(request: web.Request) -> web.StreamResponse:
    """``GET /images/get?names=…`` and ``/images/{name}/get``: a ``docker save`` archive."""
    from dockyard.oci.archive import save as save_images

    backend = request.app[BACKEND]
    refs = request.query.getall("names", []) or [request.match_info.get("name", "")]
    with tempfile.TemporaryDirectory(dir=backend.data_root) as tmp:
        out = Path(tmp) / "images.tar"
        await backend.call(lambda e: save_images(e.images, refs, out, fmt="docker"))
        return web.Response(body=out.read_bytes(), content_type="application/x-tar")


async def load(request: web.Request) -> web.Response:
    from dockyard.oci.archive import load as load_images

    backend = request.app[BACKEND]
    with tempfile.TemporaryDirectory(dir=backend.data_root) as tmp:
        path = Path(tmp) / "in.tar"
        with open(path, "wb") as f:
            async for chunk in request.content.iter_chunked(1 << 20):
                f.write(chunk)
        loaded = await backend.call(lambda e: load_images(e.images, path))
    names = _names()
    lines = [{"stream": f"Loaded image: {names.familiar(i.name)}\n" if i.name
              else f"Loaded image ID: {i.image_id or i.digest}\n"} for i in loaded]
    return web.Response(body=b"".join(json.dumps(x).encode() + b"\n" for x in lines),
                        content_type="application/json")


def register(routes: Routes) -> None:
    routes.get("/images/json", list_)
    routes.post("/images/create", create)
    routes.post("/images/load", load)
    routes.get("/images/get", save)
    routes.post("/images/prune", prune)
    routes.get("/images/{name:.+}/json", inspect)
    routes.get("/images/{name:.+}/history", history)
    routes.get("/images/{name:.+}/get", save)
    routes.post("/images/{name:.+}/tag", tag)
    routes.post("/images/{name:.+}/push", push)
    routes.delete("/images/{name:.+}", remove)
