"""Make the kernel match ``net.db``: restore what live pods miss, sweep what has no row.

Run at daemon start (and by tests after a simulated crash).  ``live`` is the set of pod ids the
engine knows to be running; pods with a sandbox row but not in ``live`` are torn down.  Passing
``None`` means "assume every recorded pod lives" (repair only).  ``live`` may map pod id → the pid
of a process in the pod: a pod whose netns file was lost is then re-pinned from that process, so
its running containers keep their network; without a pid a fresh namespace is made.

Only objects tagged with our instance are ever removed: links whose ``ifalias`` says
``dockyard:<instance>:``, files in our netns dir, helpers whose command line says
``--instance <instance>``, and our own nft table.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base import log
from dockyard.net import bridge, networks, pods, procs, sandbox
from dockyard.net.config import Context
from dockyard.net.ports import PortSpec, start_proxy

_log = log.get("dockyard.net")


@dataclass
class Report:
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


def reconcile(ctx: Context, live: set[str] | dict[str, int] | None = None) -> Report:
    report = Report()
    for box in ctx.store.sandboxes():
        if live is not None and box.pod_id not in live:
            pods.detach(ctx, box.pod_id)
            report.removed.append(f"pod {box.pod_id[:12]}")
    for row in ctx.store.networks():
        networks.realize(ctx, row)
    _restore_pods(ctx, live if isinstance(live, dict) else {}, report)
    _sweep(ctx, report)
    ctx.sync_firewall(force=True)  # also puts back a table flushed behind our back
    return report


def _restore_pods(ctx: Context, pids: dict[str, int], report: Report) -> None:
    for box in ctx.store.sandboxes():
        path = Path(box.netns_path)
        if not sandbox.is_mounted(path):
            sandbox.remove(path)
            if pids.get(box.pod_id):
                sandbox.pin(path, pids[box.pod_id])
            else:
                sandbox.create(path)
            report.restored.append(f"netns {path}")
        for i, ep in enumerate(ctx.store.endpoints(pod_id=box.pod_id)):
            if bridge.link_exists(ep.host_ifname) and bridge.peer_ok(path, ep.ifname, ep.address):
                continue
            row = ctx.store.network(ep.network)
            assert row is not None
            bridge.add_veth(instance=ctx.instance, host=ep.host_ifname, bridge=row.bridge, netns=path,
                            ifname=ep.ifname, address=ep.address,
                            prefixlen=ipaddress.IPv4Network(row.subnet).prefixlen,
                            gateway=row.gateway if i == 0 else None)
            report.restored.append(f"veth {ep.host_ifname}")
        _restore_proxies(ctx, box.pod_id, report)


def _restore_proxies(ctx: Context, pod_id: str, report: Report) -> None:
    eps = ctx.store.endpoints(pod_id=pod_id)
    for port in ctx.store.ports(pod_id=pod_id):
        if procs.is_ours(port.proxy_pid, "proxy", ctx.instance) or not eps:
            continue
        spec = PortSpec(port.container_port, port.proto, port.host_ip, port.host_port)
        try:
            _, pid = start_proxy(ctx.instance, pod_id, spec, eps[0].address)
        except Exception as e:  # someone took the port meanwhile: DNAT still works, say so
            _log.warning("pod %s: proxy for %s not restored: %s", pod_id[:12], spec, e)
            continue
        ctx.store.set_proxy_pid(port, pid)
        report.restored.append(f"proxy {spec}")


def _sweep(ctx: Context, report: Report) -> None:
    keep = {n.bridge for n in ctx.store.networks()} | {e.host_ifname for e in ctx.store.endpoints()}
    for name in bridge.owned_links(ctx.instance):
        if name not in keep:
            bridge.delete_link(name)
            report.removed.append(f"link {name}")
    boxes = {Path(b.netns_path) for b in ctx.store.sandboxes()}
    if ctx.config.netns_dir.is_dir():
        for path in ctx.config.netns_dir.iterdir():
            if path not in boxes:
                sandbox.remove(path)
                report.removed.append(f"netns {path}")
    proxies = {p.proxy_pid for p in ctx.store.ports()}
    for pid in procs.find("proxy", ctx.instance):
        if pid not in proxies:
            procs.stop(pid, "proxy", ctx.instance)
            report.removed.append(f"proxy pid {pid}")
    resolvers = {ctx.store.dns_pid(n.name) for n in ctx.store.networks()}
    for pid in procs.find("dns", ctx.instance):
        if pid not in resolvers:
            procs.stop(pid, "dns", ctx.instance)
            report.removed.append(f"dns pid {pid}")
    with ctx.store.write() as c:
        gone = c.execute("DELETE FROM leases WHERE owner NOT IN (SELECT pod_id FROM endpoints)").rowcount
    if gone:
        report.removed.append(f"{gone} stale address lease(s)")


def purge(ctx: Context) -> None:
    """Remove every pod and network of this instance, then sweep (tests, ``system reset``)."""
    for box in ctx.store.sandboxes():
        pods.detach(ctx, box.pod_id)
    for row in ctx.store.networks():
        networks.remove(ctx, row.name, force=True)
    _sweep(ctx, Report())
    ctx.drop_firewall()
