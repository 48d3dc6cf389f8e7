"""Lifecycle of the per-network DNS process (:mod:`dockyard.net.dns`): start, check, stop.

The sockets are bound here, on the bridge's gateway address, and inherited by the process, so a
failure to bind is seen by the caller.  A network whose DNS cannot bind (port 53 held by a host
resolver on the wildcard address) still works; its pods then get the host's resolvers.
"""

from __future__ import annotations

from dockyard.base import log
from dockyard.net import dns, procs
from dockyard.net.config import Context
from dockyard.net.store import NetworkRow

_log = log.get("dockyard.net")


def running(ctx: Context, network: str) -> bool:
    return procs.is_ours(ctx.store.dns_pid(network), "dns", ctx.instance)


def ensure(ctx: Context, row: NetworkRow) -> bool:
    """Start the network's DNS unless it runs; False if it could not bind."""
    if not row.dns:
        return False
    if running(ctx, row.name):
        return True
    try:
        udp, tcp = dns.bind(row.gateway, ctx.config.dns_port)
    except OSError as e:
        _log.warning("network %r: embedded DNS not started on %s:%d: %s", row.name, row.gateway,
                     ctx.config.dns_port, e)
        return False
    args = ["--instance", ctx.instance, "--network", row.name, "--db", str(ctx.config.db_path)]
    for upstream in ctx.config.dns_upstreams:
        args += ["--upstream", upstream]
    try:
        pid = procs.spawn("dns", args, [udp, tcp])
    finally:
        udp.close()
        tcp.close()
    ctx.store.set_dns_pid(row.name, pid)
    return True


def stop(ctx: Context, network: str) -> None:
    procs.stop(ctx.store.dns_pid(network), "dns", ctx.instance)
    ctx.store.set_dns_pid(network, 0)


def resolv_conf(ctx: Context, row: NetworkRow | None) -> str:
    """resolv.conf for a pod whose first network is *row* (None: the host's resolvers)."""
    if row is not None and running(ctx, row.name):
        return f"nameserver {row.gateway}\noptions ndots:0\n"
    servers = [h for h, _ in dns.host_resolvers() if not h.startswith("127.")]
    return "".join(f"nameserver {s}\n" for s in servers) or "nameserver 8.8.8.8\n"
