"""The engine's side of networking: ``RunOptions`` network flags → a :class:`dockyard.net.Net` attachment.

``--network bridge|NAME`` gives the container (its pod, really) a namespace made by ``dockyard.net``
before the bundle is written: config.json joins ``attachment.netns_path`` and the container's
/etc/hosts and /etc/resolv.conf come from the attachment.  ``container:NAME`` joins another
container's namespace and copies its files; ``none`` and ``host`` never touch ``dockyard.net`` (nor
import it: pyroute2's netlink client costs ~65 ms on every ``dockyard run``).

Which ``dockyard.net`` instance the engine talks to comes from the environment, so that tests and
a second engine on one host keep their bridges, tables and subnets apart::

    DOCKYARD_NET_INSTANCE   nft table / interface tag      (default: dockyard)
    DOCKYARD_NET_BRIDGE     the ``bridge`` network's bridge (default: dockyard0)
    DOCKYARD_NET_SUBNET     the ``bridge`` network's subnet (default: 10.88.0.0/16)
    DOCKYARD_NET_POOL       where user networks get a /24   (default: 10.89.0.0/16)
    DOCKYARD_NET_DNS        upstream resolvers, ip:port[,…] (default: the host's)
"""

from __future__ import annotations

import os
from pathlib import Path

from dockyard.base import log
from dockyard.base.errors import DockyardError, FailedPrecondition, InvalidArgument

_log = log.get("engine")

_SETTINGS = {"DOCKYARD_NET_INSTANCE": "instance", "DOCKYARD_NET_BRIDGE": "default_bridge",
             "DOCKYARD_NET_SUBNET": "default_subnet", "DOCKYARD_NET_POOL": "pool"}


def default_network() -> str:
    """``--network`` when none is given: ``$DOCKYARD_NETWORK``, else ``bridge`` as root (docker's
    default) and ``none`` rootless — a bridge needs a user-mode network stack there (docker and podman
    use slirp4netns/pasta), which we do not have; see docs/net.md."""
    return os.environ.get("DOCKYARD_NETWORK") or ("bridge" if os.geteuid() == 0 else "none")


def uses_net(opts) -> bool:
    """True when the container owns a sandbox in ``dockyard.net`` (bridge or a user network)."""
    return (opts.pod is None and opts.network not in ("none", "host")
            and not opts.network.startswith("container:"))


def config(engine):
    from dockyard.net import NetConfig

    kw: dict[str, object] = {k: os.environ[e] for e, k in _SETTINGS.items() if os.environ.get(e)}
    if os.environ.get("DOCKYARD_NET_DNS"):
        kw["dns_upstreams"] = tuple(s for s in os.environ["DOCKYARD_NET_DNS"].split(",") if s)
    return NetConfig(data_root=engine.data_root, state_dir=engine.state_dir, **kw)  # type: ignore[arg-type]


def net(engine):
    """The engine's ``Net`` (opened once per engine)."""
    existing = getattr(engine, "_net", None)
    if existing is None:
        from dockyard.net import Net

        existing = Net(config(engine))
        engine._net = existing
    return existing


def store(engine):
    """``net.db`` alone, for reads on hot paths (``ps``, ``sweep``): no pyroute2 import (~65 ms)."""
    if getattr(engine, "_net", None) is not None:
        return engine._net.ctx.store
    existing = getattr(engine, "_net_store", None)
    if existing is None:
        from dockyard.net.store import Store

        existing = engine._net_store = Store(config(engine).db_path)
    return existing


def _in_use(engine) -> bool:
    """Has this data root ever networked?  Spares ``ps``/``rm`` of plain containers opening ``net.db``."""
    return getattr(engine, "_net", None) is not None or config_db(engine).exists()


def config_db(engine) -> Path:
    instance = os.environ.get("DOCKYARD_NET_INSTANCE") or "dockyard"
    return engine.data_root / ("net.db" if instance == "dockyard" else f"net-{instance}.db")


# ---- create / remove ------------------------------------------------------------------------------

def setup(engine, rec, image_config: dict) -> dict[str, str]:
    """Namespaces to join for *rec*'s ``--network``: attach it (bridge, NAME) or find its peer's."""
    opts = rec.options
    check(opts)
    if opts.network.startswith("container:"):
        return {"network": str(_peer_netns(engine, opts.network.partition(":")[2]))}
    if not uses_net(opts):
        return {}
    n = net(engine)
    if opts.network != "bridge":
        n.inspect_network(opts.network)  # unknown → NotFound before anything is made
    exposed = sorted((image_config.get("config") or {}).get("ExposedPorts") or {}) if opts.publish_all else []
    att = n.attach(rec.id, network=opts.network, name=rec.name, aliases=opts.network_aliases,
                   ports=opts.ports, publish_all=exposed, ip=opts.ip)
    return {"network": str(att.netns_path)}


def _peer_netns(engine, ref: str) -> Path:
    peer = engine.get(ref)
    st = engine.status(peer)
    if not st.running:
        raise FailedPrecondition(f'--network container:{ref}: container "{peer.name}" is {st.status}; start it first')
    if uses_net(peer.options):
        return net(engine).netns_path(peer.id)
    sandbox = engine.store.get(peer.pod) if peer.pod != peer.id else peer
    if sandbox.id != peer.id and uses_net(sandbox.options):
        return net(engine).netns_path(sandbox.id)
    return Path(f"/proc/{st.pid}/ns/net")


def release(engine, rec) -> None:
    """Undo :func:`setup` (idempotent): proxies, rules, veths, the address, the namespace."""
    if uses_net(rec.options) and _in_use(engine):
        try:
            if store(engine).sandbox(rec.id) is not None:  # else nothing was made: touch no kernel state
                net(engine).detach(rec.id)
        except (DockyardError, OSError) as e:  # the row stays; the next sweep's reconcile retries
            _log.warning("container %s: network not released: %s", rec.name, e)


def etc_files(engine, rec, hostname: str) -> dict[str, str]:
    """/etc/hosts and /etc/resolv.conf contents that networking decides (empty: the engine's own)."""
    opts = rec.options
    out: dict[str, str] = {}
    if opts.network.startswith("container:"):
        peer = engine.get(opts.network.partition(":")[2])
        for fname in ("hosts", "resolv.conf"):
            try:
                out[fname] = (engine.bundle(peer.id) / fname).read_text()
            except OSError:
                pass
    elif uses_net(opts):
        att = net(engine).attachment(rec.id)
        out["hosts"] = (f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                        f"{att.ip}\t{hostname}\n")
        out["resolv.conf"] = att.resolv_conf
    if opts.dns and opts.network != "host":
        out["resolv.conf"] = "".join(f"nameserver {d}\n" for d in opts.dns)
    return out


def refresh_resolv_conf(engine, rec, pod_id: str) -> None:
    """After ``network connect``/``disconnect``: point *rec*'s resolv.conf at the DNS of the first
    network its pod is still on (left its first one: that server no longer answers for it).

    The file is rewritten in place, not replaced: it is bind-mounted, so the container sees only
    the inode it was started with.  ``--dns`` servers are the user's and stay.
    """
    if rec.options.dns or not uses_net(rec.options):
        return
    path = engine.bundle(rec.id) / "resolv.conf"
    text = net(engine).attachment(pod_id).resolv_conf
    try:
        if path.read_text() != text:
            with open(path, "r+") as f:  # same inode: truncate and write, never rename
                f.truncate(0)
                f.write(text)
    except FileNotFoundError:  # not created yet: written at start from the attachment anyway
        pass


def check(opts) -> None:
    """Bad ``-p`` and flag combinations docker refuses, as one-line errors."""
    if opts.ports:  # dockyard.net.ports (sqlite, ipaddress, dataclasses) only when there are ports
        from dockyard.net.ports import parse

        for spec in opts.ports:
            parse(spec)
    # docker drops ports on the host network (with a warning); elsewhere they cannot work
    if (opts.ports or opts.publish_all) and not uses_net(opts) and opts.network != "host":
        raise InvalidArgument(f"-p/-P: ports cannot be published with --network {opts.network}; "
                                  "use bridge or a user network")
    if (opts.network_aliases or opts.ip) and not uses_net(opts):
        raise InvalidArgument(f"--network-alias/--ip: not valid with --network {opts.network}")


# ---- views ----------------------------------------------------------------------------------------

def port_text(rows) -> str:
    """docker ps's PORTS: ``127.0.0.1:8080->80/tcp, 0.0.0.0:32768->443/tcp``."""
    return ", ".join(f"{p.host_ip}:{p.host_port}->{p.container_port}/{p.proto}"
                     for p in sorted(rows, key=lambda p: (p.container_port, p.proto, p.host_ip)))


def ports_by_container(engine, recs) -> dict[str, str]:
    wanted = [r for r in recs if uses_net(r.options)]
    if not wanted or not _in_use(engine):
        return {}
    db = store(engine)
    return {r.id: port_text(db.ports(pod_id=r.id)) for r in wanted}


def settings(engine, rec) -> dict:
    """docker inspect's ``NetworkSettings``."""
    doc: dict = {"Bridge": "", "SandboxID": rec.pod, "SandboxKey": "", "Ports": {}, "IPAddress": "",
                 "IPPrefixLen": 0, "Gateway": "", "MacAddress": "", "Networks": {}}
    if not uses_net(rec.options) or not _in_use(engine):
        if rec.options.network in ("host", "none"):
            doc["Networks"][rec.options.network] = _endpoint("", "", 0, "", [])
        return doc
    db = store(engine)
    box = db.sandbox(rec.id)
    if box is None:
        return doc
    doc["SandboxKey"] = box.netns_path
    for p in db.ports(pod_id=rec.id):
        doc["Ports"].setdefault(f"{p.container_port}/{p.proto}", []).append(
            {"HostIp": p.host_ip, "HostPort": str(p.host_port)})
    for i, ep in enumerate(db.endpoints(pod_id=rec.id)):
        row = db.network(ep.network)
        if row is None:
            continue
        prefix = int(row.subnet.rpartition("/")[2])
        if i == 0:  # the first network is the container's primary address, as docker's bridge
            doc.update({"IPAddress": ep.address, "IPPrefixLen": prefix, "Gateway": row.gateway})
        doc["Networks"][ep.network] = _endpoint(row.id, ep.address, prefix, row.gateway,
                                                [rec.name, *ep.aliases])
    return doc


def _endpoint(net_id: str, ip: str, prefix: int, gateway: str, aliases: list[str]) -> dict:
    return {"IPAMConfig": None, "Links": None, "Aliases": aliases or None, "NetworkID": net_id,
            "EndpointID": "", "Gateway": gateway, "IPAddress": ip, "IPPrefixLen": prefix,
            "MacAddress": "", "DriverOpts": None}


# ---- recovery -------------------------------------------------------------------------------------

def reconcile(engine, *, force: bool = False) -> None:
    """Make ``dockyard.net`` match the containers that exist: tear down sandboxes with no container,
    re-make namespaces, veths and proxies lost to a reboot or a crash.

    Without *force* (the engine's ``sweep``, run by every ``ps``) it first checks cheaply whether
    anything is off, so a healthy host pays one query and a read of mountinfo.
    """
    if not _in_use(engine):
        return
    if not force:
        boxes = store(engine).sandboxes()
        if not boxes or _healthy(engine, boxes):
            return
    n = net(engine)
    # Under the net lock no attach is half-way, and a container's record is written before its
    # sandbox row and deleted after it: a row without a record is a leftover.
    with n.ctx.locked():
        boxes = n.ctx.store.sandboxes()
        recs = {r.id: r for r in engine.store.list(include_sandboxes=True)}  # after boxes: see above
        if not force and _healthy(engine, boxes):
            return
        live: dict[str, int] = {}  # pod id → a pid in it (0: stopped), to re-pin a lost netns
        for cid, rec in recs.items():
            if uses_net(rec.options):
                try:
                    st = engine.status(rec)
                    live[cid] = st.pid if st.running else 0
                except DockyardError:
                    live[cid] = 0
        report = n.reconcile(live=live)
    if report.removed or report.restored:
        _log.info("network reconcile: removed %s; restored %s", report.removed, report.restored)


def _healthy(engine, boxes) -> bool:
    """Every sandbox belongs to a container and its namespace is still pinned."""
    ids = {r.id for r in engine.store.list(include_sandboxes=True)}
    return all(b.pod_id in ids for b in boxes) and _all_pinned(b.netns_path for b in boxes)


def _all_pinned(paths) -> bool:
    with open("/proc/self/mountinfo") as f:
        mounted = {line.split()[4] for line in f if " nsfs " in line}
    return all(os.path.realpath(p) in mounted for p in paths)
