"""User-defined networks: create, ls, inspect, rm (the ``dockyard network`` verbs).

A network is a bridge with a subnet and a gateway address, a row in ``net.db``, an entry in our
nft table (masquerade unless ``internal``) and an embedded DNS process on its gateway.  Connecting
pods is in :mod:`dockyard.net.pods`.

Docker's three predefined networks always exist: ``bridge`` (``dockyard0``), ``host`` and ``none``.
Each has a stable id in ``net.db`` from the first time anyone looks, so ``ls`` lists all three on a
fresh root, but the bridge's kernel side is made on first use (attach, inspect), never by a listing:
rootless cannot make it at all.  None of them can be removed.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from dockyard.base import ids
from dockyard.base.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from dockyard.net import bridge, dnsproc, ipam, netlink
from dockyard.net.config import DEFAULT_NETWORK, DEFAULT_SUBNET, DEFAULT_SUBNET_FALLBACKS, Context
from dockyard.net.store import NetworkRow


@dataclass(frozen=True, slots=True)
class Network:
    """What ``network inspect`` shows; ``containers`` maps pod id → address."""

    name: str
    id: str
    subnet: str
    gateway: str
    bridge: str
    labels: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    created: float = 0.0
    containers: dict[str, str] = field(default_factory=dict)
    #: docker's driver name: ``bridge``, or ``host``/``null`` for the predefined host and none
    driver: str = "bridge"


#: predefined network → its docker driver
PREDEFINED = {DEFAULT_NETWORK: "bridge", "host": "host", "none": "null"}


def predefined_ids(ctx: Context) -> dict[str, str]:
    """The predefined networks' stable ids, recorded on first call (a ``bridge`` row's own id wins)."""
    known = ctx.store.predefined()
    if len(known) < len(PREDEFINED):
        row = ctx.store.network(DEFAULT_NETWORK)
        ctx.store.add_predefined({name: (row.id if row and name == DEFAULT_NETWORK else ids.new_id())
                                  for name in PREDEFINED if name not in known})
        known = ctx.store.predefined()
    return known


def _placeholder(ctx: Context, name: str) -> Network:
    """A predefined network with no row: host, none, or the bridge before its first use."""
    return Network(name, predefined_ids(ctx)[name], "", "", "", driver=PREDEFINED[name])


def _predefined_name(ctx: Context, name_or_id: str) -> str | None:
    if name_or_id in PREDEFINED:
        return name_or_id
    if len(name_or_id) < 3 or ctx.store.network(name_or_id) is not None:
        return None
    hits = [name for name, nid in predefined_ids(ctx).items() if nid.startswith(name_or_id)]
    return hits[0] if len(hits) == 1 else None


def _public(ctx: Context, row: NetworkRow) -> Network:
    eps = {e.pod_id: e.address for e in ctx.store.endpoints(network=row.name)}
    return Network(row.name, row.id, row.subnet, row.gateway, row.bridge, dict(row.labels),
                   row.internal, row.created, eps)


def create(ctx: Context, name: str, *, subnet: str | None = None, gateway: str | None = None,
           bridge_name: str | None = None, labels: dict[str, str] | None = None,
           internal: bool = False, net_id: str | None = None) -> Network:
    ids.check_container_name(name)
    if name in ("none", "host") or name.startswith("container:"):
        raise InvalidArgument(f"network {name!r}: reserved name; choose another")
    if ctx.store.network(name) is not None:
        raise AlreadyExists(f"network {name!r}: already exists; pick another name or remove it first")
    net_id = net_id or ids.new_id()
    subnet = str(ipam.parse_subnet(subnet)) if subnet else _free_subnet(ctx)
    _check_overlap(ctx, subnet)
    gateway = gateway or ipam.default_gateway(subnet)
    if ipaddress.IPv4Address(gateway) not in ipaddress.IPv4Network(subnet):
        raise InvalidArgument(f"network {name!r}: gateway {gateway} is outside {subnet}")
    br = bridge_name or f"dy-{net_id[:12]}"
    if any(n.bridge == br for n in ctx.store.networks()):
        raise AlreadyExists(f"bridge {br!r}: used by another network; choose another bridge name")
    row = NetworkRow(name, net_id, subnet, gateway, br, labels or {}, internal, True, time.time())
    ctx.store.add_network(row)
    try:
        realize(ctx, row)
    except BaseException:
        remove(ctx, name, force=True)
        raise
    return _public(ctx, row)


def realize(ctx: Context, row: NetworkRow) -> None:
    """Make (or repair) the kernel side of *row*: bridge, forwarding, nft rules, DNS."""
    prefix = ipaddress.IPv4Network(row.subnet).prefixlen
    bridge.ensure_bridge(row.bridge, row.gateway, prefix, instance=ctx.instance)
    bridge.enable_forwarding()
    ctx.sync_firewall()
    dnsproc.ensure(ctx, row)


def ensure_default(ctx: Context) -> NetworkRow:
    row = ctx.store.network(DEFAULT_NETWORK)
    if row is None:
        create(ctx, DEFAULT_NETWORK, subnet=_planned_default_subnet(ctx), bridge_name=ctx.config.default_bridge,
               net_id=predefined_ids(ctx)[DEFAULT_NETWORK])
        row = ctx.store.network(DEFAULT_NETWORK)
    assert row is not None
    return row


def _planned_default_subnet(ctx: Context) -> str:
    subnet = ctx.config.default_subnet
    if subnet == DEFAULT_SUBNET:  # the built-in default steps aside; a configured one does not
        subnet = pick_default_subnet((DEFAULT_SUBNET, *DEFAULT_SUBNET_FALLBACKS), _host_routes())
    return subnet


def pick_default_subnet(candidates: tuple[str, ...], routes: list[tuple[str, bool]]) -> str:
    """The first candidate no foreign host route overlaps; *routes* are (cidr, made by dockyard).

    A route of one of our own bridges is not a reason to move: creating the network then fails
    with the message that says which settings to change (two data roots sharing an instance).
    """
    foreign = [ipaddress.IPv4Network(cidr, strict=False) for cidr, ours in routes if not ours]
    for cidr in candidates:
        if not any(ipaddress.IPv4Network(cidr).overlaps(r) for r in foreign):
            return cidr
    return candidates[0]  # all taken: create() says so


def _host_routes() -> list[tuple[str, bool]]:
    with netlink.iproute() as ipr:
        ours = {link.get("index") for link in ipr.get_links()
                if (link.get("ifalias") or "").startswith("dockyard:")}
        return [(f"{r.get('RTA_DST')}/{r['dst_len']}", r.get("RTA_OIF") in ours)
                for r in ipr.get_routes(family=2, table=254) if r.get("RTA_DST") and r["dst_len"]]


def get_row(ctx: Context, name_or_id: str) -> NetworkRow:
    row = ctx.store.network(name_or_id)
    if row is not None:
        return row
    matches = [n for n in ctx.store.networks() if len(name_or_id) >= 3 and n.id.startswith(name_or_id)]
    if len(matches) == 1:
        return matches[0]
    if name_or_id == DEFAULT_NETWORK:
        return ensure_default(ctx)
    raise NotFound(f"network {name_or_id!r}: not found; see `dockyard network ls`")


def inspect(ctx: Context, name_or_id: str, *, make: bool = True) -> Network:
    """A network by name or id (prefix).  ``bridge`` not used yet is made here when *make* (a
    first use); else it is shown as it will be made, touching nothing (``network inspect``)."""
    name = _predefined_name(ctx, name_or_id)
    if name is not None and name != DEFAULT_NETWORK:
        return _placeholder(ctx, name)
    if name == DEFAULT_NETWORK and not make and ctx.store.network(name) is None:
        subnet = _planned_default_subnet(ctx)
        return Network(name, predefined_ids(ctx)[name], subnet, ipam.default_gateway(subnet),
                       ctx.config.default_bridge)
    return _public(ctx, get_row(ctx, name or name_or_id))


def ls(ctx: Context) -> list[Network]:
    """Every network: the rows, and the predefined ones that have none (touches no kernel state)."""
    rows = ctx.store.networks()
    have = {r.name for r in rows}
    return [*(_placeholder(ctx, n) for n in PREDEFINED if n not in have), *(_public(ctx, r) for r in rows)]


def remove(ctx: Context, name_or_id: str, *, force: bool = False) -> None:
    name = _predefined_name(ctx, name_or_id)
    if name is not None and not force:
        raise PermissionDenied(f"{name} is a pre-defined network and cannot be removed")
    row = get_row(ctx, name or name_or_id)
    if ctx.store.endpoints(network=row.name) and not force:
        raise Conflict(f"network {row.name!r}: has active endpoints; disconnect or remove its pods first")
    dnsproc.stop(ctx, row.name)
    bridge.delete_link(row.bridge)
    ctx.store.delete_network(row.name)
    ctx.sync_firewall()


def _free_subnet(ctx: Context) -> str:
    for candidate in ipaddress.IPv4Network(ctx.config.pool).subnets(new_prefix=24):
        try:
            _check_overlap(ctx, str(candidate))
        except Conflict:
            continue
        return str(candidate)
    raise ResourceExhausted(f"address pool {ctx.config.pool}: exhausted; pass --subnet")


def _check_overlap(ctx: Context, subnet: str) -> None:
    """A subnet may not overlap another network of ours nor a route the host already has."""
    net = ipaddress.IPv4Network(subnet)
    for other in ctx.store.networks():
        if net.overlaps(ipaddress.IPv4Network(other.subnet)):
            raise Conflict(f"subnet {subnet}: overlaps network {other.name!r} ({other.subnet})")
    with netlink.iproute() as ipr:
        for route in ipr.get_routes(family=2, table=254):
            dst, plen = route.get("RTA_DST"), route["dst_len"]
            if dst and plen and net.overlaps(ipaddress.IPv4Network(f"{dst}/{plen}", strict=False)):
                link = (ipr.get_links(route.get("RTA_OIF")) or [{}])[0] if route.get("RTA_OIF") else {}
                if (link.get("ifalias") or "").startswith("dockyard:"):
                    # e.g. two data roots on one host, both with the default instance and dockyard0
                    raise Conflict(f"subnet {subnet}: used by bridge {link.get('ifname')!r} of another dockyard "
                                   "data root or instance; give this one its own DOCKYARD_NET_INSTANCE, "
                                   "DOCKYARD_NET_BRIDGE and DOCKYARD_NET_SUBNET, or use --network none")
                raise Conflict(f"subnet {subnet}: overlaps the host route {dst}/{plen}; choose another")
