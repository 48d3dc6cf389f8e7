"""Bridges and veth pairs, through netlink (pyroute2's client, imported on first use: :mod:`.netlink`).

Every interface we create carries an ``ifalias`` of the form ``dockyard:<instance>:<what>``; the
alias is how the reconciler tells our interfaces from everybody else's, so it never touches an
interface it did not create.  ``instance`` separates independent users of one kernel (the daemon
uses ``dockyard``; each test uses its own), so they never sweep each other's links.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard.base.errors import Conflict, Internal
from dockyard.net import netlink, sandbox

if TYPE_CHECKING:
    from pyroute2.iproute.linux import IPRoute

FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def alias(instance: str, what: str) -> str:
    return f"dockyard:{instance}:{what}"


def host_ifname(instance: str, pod_id: str, network: str) -> str:
    """The host end's name: 15 characters at most (IFNAMSIZ), stable for (pod, network)."""
    digest = hashlib.sha256(f"{instance}/{pod_id}/{network}".encode()).hexdigest()
    return f"dyv{digest[:12]}"


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return found[0] if found else None


def ensure_bridge(name: str, gateway: str, prefixlen: int, *, instance: str) -> None:
    """Create (or repair) bridge *name* with *gateway*/*prefixlen*, up.  Idempotent."""
    with netlink.iproute() as ipr:
        idx = _index(ipr, name)
        if idx is None:
            ipr.link("add", ifname=name, kind="bridge")
            idx = _index(ipr, name)
            ipr.link("set", index=idx, ifalias=alias(instance, f"bridge:{name}"))
        else:
            link = ipr.get_links(idx)[0]
            if not (link.get("ifalias") or "").startswith(f"dockyard:{instance}:"):
                raise Conflict(f"bridge {name!r}: an interface of that name exists and is not ours; "
                               "choose another bridge name")
        have = {a.get("address") for a in ipr.get_addr(index=idx, family=2)}
        if gateway not in have:
            ipr.addr("add", index=idx, address=gateway, prefixlen=prefixlen)
        ipr.link("set", index=idx, state="up")


def enable_forwarding() -> None:
    """Routing between the bridge and the rest of the host; only called once a bridge exists."""
    if FORWARD.read_text().strip() != "1":
        FORWARD.write_text("1\n")


def delete_link(name: str) -> None:
    with netlink.iproute() as ipr:
        idx = _index(ipr, name)
        if idx is not None:
            try:
                ipr.link("del", index=idx)
            except netlink.netlink_error() as e:
                if e.code != 19:  # ENODEV: went away meanwhile
                    raise


def link_exists(name: str) -> bool:
    with netlink.iproute() as ipr:
        return _index(ipr, name) is not None


def owned_links(instance: str) -> dict[str, str]:
    """ifname → alias for every host interface this *instance* created."""
    prefix = f"dockyard:{instance}:"
    with netlink.iproute() as ipr:
        return {
            link.get("ifname"): link.get("ifalias")
            for link in ipr.get_links()
            if (link.get("ifalias") or "").startswith(prefix)
        }


def add_veth(*, instance: str, host: str, bridge: str, netns: Path, ifname: str, address: str,
             prefixlen: int, gateway: str | None) -> None:
    """A veth pair: *host* enslaved to *bridge*, its peer inside *netns* as *ifname* with *address*.

    *gateway* (when given) becomes the pod's default route.  On failure nothing is left behind.
    """
    with netlink.iproute() as ipr:
        br = _index(ipr, bridge)
        if br is None:
            raise Internal(f"bridge {bridge!r}: missing; run reconcile or recreate the network")
        if _index(ipr, host) is not None:
            ipr.link("del", ifname=host)
        ipr.link("add", ifname=host, kind="veth", peer={"ifname": ifname, "net_ns_fd": str(netns)})
        try:
            idx = _index(ipr, host)
            ipr.link("set", index=idx, ifalias=alias(instance, f"veth:{netns.name}"))
            ipr.link("set", index=idx, master=br, state="up")
            _configure_peer(netns, ifname, address, prefixlen, gateway)
        except BaseException:
            ipr.link("del", ifname=host)
            raise


def _configure_peer(netns: Path, ifname: str, address: str, prefixlen: int, gateway: str | None) -> None:
    def configure(ns: IPRoute) -> None:
        idx = _index(ns, ifname)
        ns.addr("add", index=idx, address=address, prefixlen=prefixlen)
        ns.link("set", index=idx, state="up")
        if gateway:
            ns.route("replace", dst="0.0.0.0/0", gateway=gateway)

    sandbox.netlink(netns, configure)


def peer_ok(netns: Path, ifname: str, address: str) -> bool:
    """True if *ifname* in *netns* holds *address* (the reconciler's liveness check)."""

    def check(ns: IPRoute) -> bool:
        idx = _index(ns, ifname)
        return idx is not None and address in {a.get("address") for a in ns.get_addr(index=idx, family=2)}

    try:
        return sandbox.netlink(netns, check)
    except Exception:
        return False
