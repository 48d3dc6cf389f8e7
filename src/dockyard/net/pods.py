"""Pods on networks: the sandbox (netns) a pod's containers join, its interfaces and ports.

Lifecycle of one pod, as the engine drives it::

    attach(pod, network=…, ports=…)  → Attachment(netns_path, ip, …)   # before the runtime starts
    connect(pod, other) / disconnect(pod, other)                       # optional, while it runs
    detach(pod)                                                        # after its last process

Every step writes its row *before* it makes the kernel object, so a crash at any point leaves a
row the reconciler can finish or undo; nothing exists in the kernel without a row.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from dockyard.net import bridge, dnsproc, ipam, networks, ports, sandbox
from dockyard.net.config import Context
from dockyard.net.ports import PortSpec
from dockyard.net.store import PortRow


@dataclass(frozen=True, slots=True)
class Attachment:
    """What the engine needs to start a pod: join ``netns_path``; write ``resolv_conf``."""

    pod_id: str
    netns_path: Path | None  # None: host network, the pod keeps the host's namespace
    ip: str = ""
    gateway: str = ""
    prefixlen: int = 0
    network: str = ""
    ports: tuple[PortRow, ...] = ()
    resolv_conf: str = ""
    addresses: dict[str, str] = field(default_factory=dict)  # network → address


def netns_path(ctx: Context, pod_id: str) -> Path:
    return ctx.config.netns_dir / pod_id


def attach(ctx: Context, pod_id: str, *, network: str = "bridge", name: str = "",
           aliases: tuple[str, ...] = (), port_specs: list[PortSpec] | tuple[PortSpec, ...] = (),
           ip: str | None = None) -> Attachment:
    """Give *pod_id* its namespace, on *network* (``bridge``, a name, ``none`` or ``host``)."""
    if network == "host":
        return Attachment(pod_id, None, resolv_conf=dnsproc.resolv_conf(ctx, None))
    if os.geteuid() != 0:
        raise FailedPrecondition(
            f"pod {pod_id[:12]}: network {network!r} needs root (netns, bridges, nftables); "
            "rootless pods use --network host, or none with the runtime's own empty namespace")
    if network.startswith("container:"):
        raise InvalidArgument(f"network {network!r}: resolve the container to its pod and use its netns_path")
    if ctx.store.sandbox(pod_id) is not None:
        raise AlreadyExists(f"pod {pod_id[:12]}: already has a network sandbox; detach it first")
    path = netns_path(ctx, pod_id)
    with ctx.store.write() as c:
        c.execute("INSERT INTO sandboxes VALUES (?,?,?,?)", (pod_id, str(path), name, time.time()))
    try:
        sandbox.create(path)
        if network != "none":
            connect(ctx, pod_id, network, aliases=aliases, ip=ip, sync=False)
            first = ctx.store.endpoints(pod_id=pod_id)[0]
            ports.publish(ctx.store, ctx.instance, pod_id, first.address, list(port_specs))
        ctx.sync_firewall()
    except BaseException:
        detach(ctx, pod_id)
        raise
    return attachment(ctx, pod_id)


def attachment(ctx: Context, pod_id: str) -> Attachment:
    box = ctx.store.sandbox(pod_id)
    if box is None:
        raise NotFound(f"pod {pod_id[:12]}: has no network sandbox")
    eps = ctx.store.endpoints(pod_id=pod_id)
    if not eps:
        return Attachment(pod_id, Path(box.netns_path), network="none",
                          resolv_conf=dnsproc.resolv_conf(ctx, None))
    row = ctx.store.network(eps[0].network)
    assert row is not None
    return Attachment(
        pod_id, Path(box.netns_path), eps[0].address, row.gateway,
        ipaddress.IPv4Network(row.subnet).prefixlen, row.name, tuple(ctx.store.ports(pod_id=pod_id)),
        dnsproc.resolv_conf(ctx, row), {e.network: e.address for e in eps},
    )


def connect(ctx: Context, pod_id: str, network: str, *, aliases: tuple[str, ...] = (),
            ip: str | None = None, sync: bool = True) -> str:
    """Add an interface on *network* to the pod's namespace; returns its address."""
    box = ctx.store.sandbox(pod_id)
    if box is None:
        raise NotFound(f"pod {pod_id[:12]}: has no network sandbox; attach it first")
    row = networks.get_row(ctx, network)
    existing = ctx.store.endpoints(pod_id=pod_id)
    if any(e.network == row.name for e in existing):
        raise AlreadyExists(f"pod {pod_id[:12]}: already connected to network {row.name!r}")
    networks.realize(ctx, row)
    address = ipam.allocate(ctx.store, row.name, pod_id, want=ip)
    ifname = f"eth{len(existing)}"
    host = bridge.host_ifname(ctx.instance, pod_id, row.name)
    with ctx.store.write() as c:
        c.execute("INSERT INTO endpoints VALUES (?,?,?,?,?,?)",
                  (pod_id, row.name, ifname, host, address, json.dumps(list(aliases))))
    bridge.add_veth(instance=ctx.instance, host=host, bridge=row.bridge, netns=Path(box.netns_path),
                    ifname=ifname, address=address, prefixlen=ipaddress.IPv4Network(row.subnet).prefixlen,
                    gateway=row.gateway if not existing else None)
    if sync:
        ctx.sync_firewall()
    return address


def disconnect(ctx: Context, pod_id: str, network: str, *, sync: bool = True) -> None:
    row = networks.get_row(ctx, network)
    eps = [e for e in ctx.store.endpoints(pod_id=pod_id) if e.network == row.name]
    if not eps:
        raise NotFound(f"pod {pod_id[:12]}: not connected to network {row.name!r}")
    bridge.delete_link(eps[0].host_ifname)
    with ctx.store.write() as c:
        c.execute("DELETE FROM endpoints WHERE pod_id = ? AND network = ?", (pod_id, row.name))
    ipam.release(ctx.store, row.name, pod_id)
    if sync:
        ctx.sync_firewall()


def detach(ctx: Context, pod_id: str) -> None:
    """Undo :func:`attach` completely: proxies, rules, veths, addresses, the namespace.  Idempotent."""
    ports.unpublish(ctx.store, ctx.instance, ctx.store.ports(pod_id=pod_id))
    for ep in ctx.store.endpoints(pod_id=pod_id):
        disconnect(ctx, pod_id, ep.network, sync=False)
    for lease_net in [n.name for n in ctx.store.networks()]:
        ipam.release(ctx.store, lease_net, pod_id)
    sandbox.remove(netns_path(ctx, pod_id))
    with ctx.store.write() as c:
        c.execute("DELETE FROM sandboxes WHERE pod_id = ?", (pod_id,))
    ctx.sync_firewall()
