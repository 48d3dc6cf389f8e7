"""IP address management: one lease per (network, address), kept in ``net.db``.

A lease is taken inside ``BEGIN IMMEDIATE``, so two processes allocating on the same network
serialise on SQLite's write lock and the primary key (network, address) makes a duplicate
impossible even if they did not.  Leases survive restarts; :func:`release` (called on rm) and the
reconciler give them back.  Addresses are handed out lowest-free-first, skipping the network
address, the gateway and the broadcast address.
"""

from __future__ import annotations

import ipaddress

from dockyard.base.errors import InvalidArgument, NotFound, ResourceExhausted
from dockyard.net.store import Store

IPv4Net = ipaddress.IPv4Network


def parse_subnet(subnet: str) -> IPv4Net:
    try:
        net = ipaddress.IPv4Network(subnet, strict=True)
    except ValueError as e:
        raise InvalidArgument(f"subnet {subnet!r}: {e}; use CIDR such as 10.89.0.0/24") from e
    if net.prefixlen > 30:
        raise InvalidArgument(f"subnet {subnet!r}: too small; use a /30 or larger")
    return net


def default_gateway(subnet: str) -> str:
    return str(next(parse_subnet(subnet).hosts()))


def allocate(store: Store, network: str, owner: str, *, want: str | None = None) -> str:
    """Lease an address on *network* for *owner* (a pod id); the same owner gets its lease back."""
    with store.write() as c:
        row = c.execute("SELECT subnet, gateway FROM networks WHERE name = ?", (network,)).fetchone()
        if row is None:
            raise NotFound(f"network {network!r}: not found; create it with `dockyard network create`")
        mine = c.execute("SELECT address FROM leases WHERE network = ? AND owner = ?",
                         (network, owner)).fetchone()
        if mine is not None:
            return mine["address"]
        net = ipaddress.IPv4Network(row["subnet"])
        taken = {r["address"] for r in c.execute("SELECT address FROM leases WHERE network = ?", (network,))}
        taken.add(row["gateway"])
        address = _pick(net, taken, want, network)
        c.execute("INSERT INTO leases VALUES (?, ?, ?)", (network, address, owner))
        return address


def _pick(net: IPv4Net, taken: set[str], want: str | None, network: str) -> str:
    if want is not None:
        if ipaddress.IPv4Address(want) not in net or want in taken:
            raise InvalidArgument(f"address {want} on network {network!r}: outside the subnet or in use")
        return want
    for host in net.hosts():
        if str(host) not in taken:
            return str(host)
    raise ResourceExhausted(f"network {network!r} ({net}): no free address; remove pods or use a larger subnet")


def release(store: Store, network: str, owner: str) -> None:
    with store.write() as c:
        c.execute("DELETE FROM leases WHERE network = ? AND owner = ?", (network, owner))


def leases(store: Store, network: str) -> dict[str, str]:
    """address → owner on *network*."""
    rows = store.conn.execute("SELECT address, owner FROM leases WHERE network = ?", (network,))
    return {r["address"]: r["owner"] for r in rows}
