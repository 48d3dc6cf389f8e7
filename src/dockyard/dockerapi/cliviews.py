"""``/dockyard/…``: the engine's own views, for the dockyard CLI talking to this daemon.

Docker's shapes lose what ``dockyard ps`` and ``dockyard inspect`` print daemonless (float
creation times, start/finish times, runtime, pod, the engine's inspect document, the engine's
"not found" messages, the engine's and the image store's).  These endpoints hand the CLI (:mod:`dockyard.cli.remote`) the same data
its daemonless verbs read from the engine, so its output is the same bytes with or without a
daemon.  They are not part of the Docker API and no Docker client calls them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import qbool
from dockyard.dockerapi.routing import Routes


def _row(rec, st, ports: dict[str, str]) -> dict[str, Any]:
    return {"id": rec.id, "image": rec.image, "entrypoint": rec.options.entrypoint, "command": rec.options.command,
            "created": rec.created, "status": st.status, "exit_code": st.exit_code, "pid": st.pid,
            "started_at": st.started_at, "finished_at": st.finished_at, "name": rec.name, "pod": rec.pod,
            "runtime": rec.runtime, "ports": ports.get(rec.id, "") if st.running else "",
            "tty": rec.options.tty}


async def containers(request: web.Request) -> web.Response:
    """What ``dockyard ps`` lists: every container (sandboxes too), in the engine's order."""
    all_ = qbool(request, "all")

    def gather(engine) -> list[dict[str, Any]]:
        from dockyard.engine import network

        recs = engine.list()
        ports = network.ports_by_container(engine, recs)
        rows = []
        for rec in recs:
            st = engine.status(rec)
            if all_ or st.status == "running":
                rows.append(_row(rec, st, ports))
        return rows

    return web.json_response(await request.app[BACKEND].call(gather))


async def container(request: web.Request) -> web.Response:
    """One container by id, prefix or name: its ``ps`` row and the engine's inspect document."""
    ref = request.match_info["ref"]

    def find(engine) -> dict[str, Any]:
        from dockyard.engine import views

        rec = engine.get(ref)  # the engine's own NotFound message, as daemonless
        return {"row": _row(rec, engine.status(rec), {}), "inspect": views.inspect(engine, rec)}

    return web.json_response(await request.app[BACKEND].call(find))


def _image(r) -> dict[str, Any]:
    return {"digest": str(r.digest), "media_type": r.media_type, "names": list(r.names),
            "config_digest": str(r.config_digest) if r.config_digest else None, "size": r.size,
            "created": r.created, "added": r.added}


async def images(request: web.Request) -> web.Response:
    """The image store's records, as ``dockyard images`` reads them."""
    return web.json_response(await request.app[BACKEND].call(lambda e: [_image(r) for r in e.images.list()]))


async def image(request: web.Request) -> web.Response:
    """One image record by name, id or digest (the store's own "not found" message)."""
    ref = request.match_info["ref"]
    return web.json_response(await request.app[BACKEND].call(lambda e: _image(e.images.resolve(ref))))


def register(routes: Routes) -> None:
    routes.get("/dockyard/containers", containers)
    routes.get("/dockyard/containers/{ref}", container)
    routes.get("/dockyard/images", images)
    routes.get("/dockyard/images/{ref:.+}", image)
