"""``/networks``: list, inspect, create, remove, connect, disconnect — through :class:`dockyard.net.Net`.

``host`` and ``none`` always exist (they are modes, not objects); ``bridge`` and user networks
are the net layer's, reached through the engine's ``Net`` so that the instance settings
(``DOCKYARD_NET_*``) are the ones its containers use.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard.base.errors import FailedPrecondition, InvalidArgument, NotFound
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import check_fields, filters, json_body
from dockyard.dockerapi.routing import Routes

_BUILTIN = {"host": "host", "none": "null"}


def _net(engine):
    """The engine's own ``Net`` (same instance settings as the containers it networks)."""
    from dockyard.engine import network

    return network.net(engine)


def _builtin(name: str) -> dict[str, Any]:
    return {"Name": name, "Id": name, "Created": "0001-01-01T00:00:00Z", "Scope": "local",
            "Driver": _BUILTIN[name], "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None,
                                                                   "Config": []},
            "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
            "ConfigOnly": False, "Containers": {}, "Options": {}, "Labels": {}}


def _doc(net: Any) -> dict[str, Any]:
    get = lambda *names, default=None: next((getattr(net, n) for n in names if hasattr(net, n)), default)  # noqa: E731
    subnet, gateway = get("subnet", default=""), get("gateway", default="")
    return {"Name": get("name"), "Id": get("id", "name"), "Created": "0001-01-01T00:00:00Z", "Scope": "local",
            "Driver": "bridge", "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": str(subnet), "Gateway": str(gateway)}]},
            "Internal": bool(get("internal", default=False)), "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {}, "Options": {},
            "Labels": dict(get("labels", default={}) or {})}


async def list_(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    flt = filters(request)
    docs = [_builtin("host"), _builtin("none")]
    try:
        docs += [_doc(n) for n in await backend.call(lambda e: _net(e).networks())]
    except FailedPrecondition:
        pass
    if flt.get("name"):
        docs = [d for d in docs if any(n in d["Name"] for n in flt["name"])]
    if flt.get("id"):
        docs = [d for d in docs if any(d["Id"].startswith(i) for i in flt["id"])]
    return web.json_response(docs)


async def inspect(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    name = request.match_info["id"]
    if name in _BUILTIN:
        return web.json_response(_builtin(name))
    try:
        net = await backend.call(lambda e: _net(e).inspect_network(name))
    except NotFound:
        raise NotFound(f"network {name} not found") from None
    return web.json_response(_doc(net))


async def create(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    body = await json_body(request)
    check_fields("network config", body, {"Name", "CheckDuplicate", "Driver", "Scope", "Internal", "Attachable",
                                          "Ingress", "ConfigOnly", "ConfigFrom", "IPAM", "EnableIPv4", "EnableIPv6",
                                          "Options", "Labels"})
    name = body.get("Name")
    if not name:
        raise InvalidArgument("network config: Name is required")
    if body.get("Driver") not in (None, "", "bridge"):
        raise InvalidArgument(f"network driver {body['Driver']!r}: only bridge is supported")
    ipam = ((body.get("IPAM") or {}).get("Config") or [{}])[0]
    net = await backend.call(lambda e: _net(e).create_network(
        name, subnet=ipam.get("Subnet"), gateway=ipam.get("Gateway"), labels=body.get("Labels") or {},
        internal=bool(body.get("Internal"))))
    doc = _doc(net)
    backend.events.emit("network", "create", doc["Id"], {"name": name, "type": "bridge"})
    return web.json_response({"Id": doc["Id"], "Warning": ""}, status=201)


async def remove(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    name = request.match_info["id"]
    if name in _BUILTIN:
        raise web.HTTPForbidden(text=f"{name} is a pre-defined network and cannot be removed")
    await backend.call(lambda e: _net(e).remove_network(name))
    backend.events.emit("network", "destroy", name, {"name": name})
    return web.Response(status=204)


async def connect(request: web.Request) -> web.Response:
    from dockyard.dockerapi.containers import _get

    backend = request.app[BACKEND]
    body = await json_body(request)
    rec = await _get(backend, body.get("Container") or "")
    name = request.match_info["id"]
    aliases = ((body.get("EndpointConfig") or {}).get("Aliases")) or []
    await backend.call(lambda e: _net(e).connect(name, rec.pod, aliases=[rec.name, *aliases]))
    backend.events.emit("network", "connect", name, {"container": rec.id, "name": name})
    return web.Response(status=200)


async def disconnect(request: web.Request) -> web.Response:
    from dockyard.dockerapi.containers import _get

    backend = request.app[BACKEND]
    body = await json_body(request)
    rec = await _get(backend, body.get("Container") or "")
    name = request.match_info["id"]
    await backend.call(lambda e: _net(e).disconnect(name, rec.pod))
    backend.events.emit("network", "disconnect", name, {"container": rec.id, "name": name})
    return web.Response(status=200)


async def prune(request: web.Request) -> web.Response:
    return web.json_response({"NetworksDeleted": None})


def register(routes: Routes) -> None:
    routes.get("/networks", list_)
    routes.post("/networks/create", create)
    routes.post("/networks/prune", prune)
    routes.get("/networks/{id}", inspect)
    routes.delete("/networks/{id}", remove)
    routes.post("/networks/{id}/connect", connect)
    routes.post("/networks/{id}/disconnect", disconnect)
