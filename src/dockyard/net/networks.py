"""User-defined networks: create, ls, inspect, rm (the ``dockyard network`` verbs).

A network is a bridge with a subnet and a gateway address, a row in ``net.db``, an entry in our
nft table (masquerade unless ``internal``) and an embedded DNS process on its gateway.  The
``bridge`` network (``dockyard0``) is created on first use.  Connecting pods is in
:mod:`dockyard.net.pods`.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field

from dockyard.base import ids
from dockyard.base.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, ResourceExhausted
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


def _public(ctx: Context, row: NetworkRow) -> Network:
    eps = {e.pod_id: e.address for e in ctx.store.endpoints(network=row.name)}
    return Network(row.name, row.id, row.subnet, row.gateway, row.bridge, dict(row.labels),
                   row.internal, row.created, eps)


def create(ctx: Context, name: str, *, subnet: str | None = None, gateway: str | None = None,
           bridge_name: str | None = None, labels: dict[str, str] | None = None,
           internal: bool = False) -> Network:
    ids.check_container_name(name)
    if name in ("none", "host") or name.startswith("container:"):
        raise InvalidArgument(f"network {name!r}: reserved name; choose another")
    if ctx.store.network(name) is not None:
        raise AlreadyExists(f"network {name!r}: already exists; pick another name or remove it first")
    net_id = ids.new_id()
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
        subnet = ctx.config.default_subnet
        if subnet == DEFAULT_SUBNET:  # the built-in default steps aside; a configured one does not
            subnet = pick_default_subnet((DEFAULT_SUBNET, *DEFAULT_SUBNET_FALLBACKS), _host_routes())
        create(ctx, DEFAULT_NETWORK, subnet=subnet, bridge_name=ctx.config.default_bridge)
        row = ctx.store.network(DEFAULT_NETWORK)
    assert row is not None
    return row


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


def inspect(ctx: Context, name_or_id: str) -> Network:
    return _public(ctx, get_row(ctx, name_or_id))


def ls(ctx: Context) -> list[Network]:
    return [_public(ctx, r) for r in ctx.store.networks()]


def remove(ctx: Context, name_or_id: str, *, force: bool = False) -> None:
    row = get_row(ctx, name_or_id)
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
