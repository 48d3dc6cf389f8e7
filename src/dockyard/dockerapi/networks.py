"""``/networks``: list, inspect, create, remove, connect, disconnect — through :class:`dockyard.net.Net`.

``bridge``, ``host`` and ``none`` always exist, each with the stable id ``net.db`` records for it;
listing them makes nothing in the kernel (the bridge is made on first use).  All networks are the
net layer's, reached through the engine's ``Net`` so that the instance settings (``DOCKYARD_NET_*``)
are the ones its containers use.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dockyard.base.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound
from dockyard.dockerapi.backend import BACKEND
from dockyard.dockerapi.errors import check_fields, filters, json_body
from dockyard.dockerapi.routing import Routes

_BUILTIN = {"host": "host", "none": "null"}


def _net(engine):
    """The engine's own ``Net`` (same instance settings as the containers it networks)."""
    from dockyard.engine import network

    return network.net(engine)


def _refresh(engine, rec) -> None:
    """The container's resolv.conf names the DNS of a network it is still on (see engine.network)."""
    from dockyard.engine import network

    network.refresh_resolv_conf(engine, rec, rec.pod)


def _builtin(name: str, net_id: str = "") -> dict[str, Any]:
    return {"Name": name, "Id": net_id or name, "Created": "0001-01-01T00:00:00Z", "Scope": "local",
            "Driver": _BUILTIN[name], "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None,
                                                                   "Config": []},
            "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
            "ConfigOnly": False, "Containers": {}, "Options": {}, "Labels": {}}


def _doc(net: Any) -> dict[str, Any]:
    if getattr(net, "driver", "bridge") != "bridge":  # host, none
        return _builtin(net.name, net.id)
    get = lambda *names, default=None: next((getattr(net, n) for n in names if hasattr(net, n)), default)  # noqa: E731
    subnet, gateway = get("subnet", default=""), get("gateway", default="")
    return {"Name": get("name"), "Id": get("id", "name"), "Created": "0001-01-01T00:00:00Z", "Scope": "local",
            "Driver": "bridge", "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": str(subnet), "Gateway": str(gateway)}] if subnet else []},
            "Internal": bool(get("internal", default=False)), "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {}, "Options": {},
            "Labels": dict(get("labels", default={}) or {})}


async def list_(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    flt = filters(request)
    try:
        docs = [_doc(n) for n in await backend.call(lambda e: _net(e).networks())]
    except FailedPrecondition:  # networking unavailable: host and none still are
        docs = [_builtin("host"), _builtin("none")]
    if flt.get("name"):
        docs = [d for d in docs if any(n in d["Name"] for n in flt["name"])]
    if flt.get("id"):
        docs = [d for d in docs if any(d["Id"].startswith(i) for i in flt["id"])]
    return web.json_response(docs)


async def inspect(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    name = request.match_info["id"]
    try:
        net = await backend.call(lambda e: _net(e).inspect_network(name, make=False))
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
    # bridge, host, none: PermissionDenied, docker's 403 "… is a pre-defined network …"
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
    await backend.call(lambda e: _refresh(e, rec))
    backend.events.emit("network", "connect", name, {"container": rec.id, "name": name})
    return web.Response(status=200)


async def disconnect(request: web.Request) -> web.Response:
    from dockyard.dockerapi.containers import _get

    backend = request.app[BACKEND]
    body = await json_body(request)
    rec = await _get(backend, body.get("Container") or "")
    name = request.match_info["id"]
    await backend.call(lambda e: _net(e).disconnect(name, rec.pod))
    await backend.call(lambda e: _refresh(e, rec))
    backend.events.emit("network", "disconnect", name, {"container": rec.id, "name": name})
    return web.Response(status=200)


async def prune(request: web.Request) -> web.Response:
    """Remove user networks no container uses (``bridge``, ``host`` and ``none`` are never pruned).

    A container keeps its endpoint from create to rm, so a network with no endpoint and no
    container record naming it is unused, as docker counts it (stopped containers included).
    Filters: ``label`` (``k`` or ``k=v``, all must match), ``label!`` (none may), ``until``.
    """
    backend = request.app[BACKEND]
    flt = filters(request)
    unknown = set(flt) - {"label", "label!", "until"}
    if unknown:
        raise InvalidArgument(f"network prune: invalid filter {sorted(unknown)[0]!r}; use label, label! or until")
    until = [parse_until(u) for u in flt.get("until", [])]

    def run(engine) -> list[str]:
        from dockyard.net.networks import PREDEFINED

        n = _net(engine)
        wanted = {r.options.network for r in engine.store.list(include_sandboxes=True)}
        deleted = []
        for net in n.networks():
            if net.name in PREDEFINED or net.containers or net.name in wanted or net.id in wanted:
                continue
            if not _labels_match(net.labels, flt.get("label", []), flt.get("label!", [])):
                continue
            if any(net.created >= t for t in until):
                continue
            try:
                n.remove_network(net.name)
            except (Conflict, NotFound):  # a container joined (or someone removed it) meanwhile
                continue
            deleted.append(net.name)
        return deleted

    try:
        deleted = await backend.call(run)
    except FailedPrecondition:  # networking unavailable (rootless): nothing to prune
        deleted = []
    for name in deleted:
        backend.events.emit("network", "destroy", name, {"name": name})
    backend.events.emit("network", "prune", "", {"reclaimed": "0"})
    return web.json_response({"NetworksDeleted": deleted or None})


def _labels_match(labels: dict[str, str], want: list[str], reject: list[str]) -> bool:
    def has(spec: str) -> bool:
        key, eq, value = spec.partition("=")
        return key in labels and (not eq or labels[key] == value)

    return all(has(s) for s in want) and not any(has(s) for s in reject)


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_until(value: str, now: float | None = None) -> float:
    """Docker's ``until``: a Unix timestamp, an RFC 3339 date/time, or a Go duration before *now*."""
    import re
    import time
    from datetime import UTC, datetime

    now = time.time() if now is None else now
    try:
        return float(value)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", value)
    if parts and "".join(a + u for a, u in parts) == value:
        return now - sum(float(a) * _UNITS[u] for a, u in parts)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"until {value!r}: use a timestamp, a date/time or a duration like 24h") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def register(routes: Routes) -> None:
    routes.get("/networks", list_)
    routes.post("/networks/create", create)
    routes.post("/networks/prune", prune)
    routes.get("/networks/{id}", inspect)
    routes.delete("/networks/{id}", remove)
    routes.post("/networks/{id}/connect", connect)
    routes.post("/networks/{id}/disconnect", disconnect)
