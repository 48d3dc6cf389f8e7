"""The iptables fallback of :mod:`dockyard.net.nat`, for hosts without the ``nft`` binary.

Same rules, same idea: chains of our own (``<TABLE>-PRE``, ``-OUT``, ``-PORTS``, ``-POST`` in
``nat``; ``-FWD`` in ``filter``) rewritten as a whole from ``net.db`` with
``iptables-restore --noflush`` (declaring a chain there flushes it, so the rewrite is atomic per
table), plus one jump from each built-in chain, added once.  Other rules in the built-in chains
are never touched.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess

from dockyard.base.errors import FailedPrecondition, Internal
from dockyard.net.store import Store

#: built-in chain → our chain, per table
HOOKS = {
    "nat": {"PREROUTING": "PRE", "OUTPUT": "OUT", "POSTROUTING": "POST"},
    "filter": {"FORWARD": "FWD"},
}


def _chain(table: str, suffix: str) -> str:
    return f"{table.upper()[:20]}-{suffix}"


def render(store: Store, table: str) -> str:
    c = lambda s: _chain(table, s)  # noqa: E731
    nets = store.networks()
    address = {e.pod_id: e.address for e in reversed(store.endpoints())}
    lines = ["*nat", *(f":{c(s)} - [0:0]" for s in ("PRE", "OUT", "PORTS", "POST")),
             f"-A {c('PRE')} -m addrtype --dst-type LOCAL -j {c('PORTS')}",
             f"-A {c('OUT')} ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j {c('PORTS')}"]
    for p in store.ports():
        pod_ip = address.get(p.pod_id)
        if pod_ip is None or ipaddress.ip_address(p.host_ip).is_loopback:
            continue
        match = "" if p.host_ip == "0.0.0.0" else f"-d {p.host_ip} "
        lines.append(f"-A {c('PORTS')} {match}-p {p.proto} --dport {int(p.host_port)} "
                     f"-j DNAT --to-destination {pod_ip}:{int(p.container_port)}")
    for n in nets:
        lines.append(f"-A {c('POST')} -o {n.bridge} -s {n.subnet} -m conntrack --ctstate DNAT -j MASQUERADE")
        if not n.internal:
            lines.append(f"-A {c('POST')} -s {n.subnet} ! -o {n.bridge} -j MASQUERADE")
    lines += ["COMMIT", "*filter", f":{c('FWD')} - [0:0]"]
    for n in nets:
        if n.internal:
            lines.append(f"-A {c('FWD')} -i {n.bridge} ! -o {n.bridge} -j DROP")
            lines.append(f"-A {c('FWD')} -o {n.bridge} ! -i {n.bridge} -j DROP")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def sync(store: Store, table: str) -> None:
    if not store.networks():
        drop(table)
        return
    _run(["iptables-restore", "--noflush"], render(store, table))
    for tbl, hooks in HOOKS.items():
        for builtin, suffix in hooks.items():
            chain = _chain(table, suffix)
            check = ["iptables", "-t", tbl, "-C", builtin, "-j", chain]
            if subprocess.run(check, capture_output=True).returncode != 0:
                _run(["iptables", "-t", tbl, "-I", builtin, "-j", chain], "")


def drop(table: str) -> None:
    for tbl, hooks in HOOKS.items():
        for builtin, suffix in hooks.items():
            chain = _chain(table, suffix)
            while subprocess.run(["iptables", "-t", tbl, "-D", builtin, "-j", chain],
                                 capture_output=True).returncode == 0:
                pass
    for tbl, suffixes in (("nat", ("PRE", "OUT", "PORTS", "POST")), ("filter", ("FWD",))):
        for suffix in suffixes:
            subprocess.run(["iptables", "-t", tbl, "-F", _chain(table, suffix)], capture_output=True)
            subprocess.run(["iptables", "-t", tbl, "-X", _chain(table, suffix)], capture_output=True)


def exists(table: str) -> bool:
    return bool(rules(table))


def rules(table: str) -> str:
    """Our chains' rules, as ``iptables-save`` prints them (empty when we have none)."""
    prefix = table.upper()[:20] + "-"
    out = []
    for tbl in HOOKS:
        saved = _run(["iptables-save", "-t", tbl], "")
        out += [line for line in saved.splitlines() if prefix in line]
    return "\n".join(out)


def _run(argv: list[str], stdin: str) -> str:
    if shutil.which(argv[0]) is None:
        raise FailedPrecondition(f"{argv[0]}: not installed; install nftables (preferred) or iptables")
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Internal(f"{' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout
