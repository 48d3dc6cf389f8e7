"""Outbound NAT, port DNAT and internal-network isolation as one nftables table of our own.

The table (``ip <instance>``, ``ip dockyard`` for the daemon) is a pure function of ``net.db``:
:func:`sync` renders it from the rows and replaces it in one ``nft -f -`` transaction (add, delete,
re-add: atomic, so packets never see a half-built table).  That makes every change — a pod added, a
port published, a crash recovered — the same idempotent operation, and makes "nothing stray"
simple: no rows, no table.  We never touch any other table.

Chains, with why:
* ``prerouting``/``output`` (nat): traffic to a *local* address jumps to ``ports``; loopback
  destinations are excluded because DNAT to a bridge address from 127.0.0.1 would need
  ``route_localnet`` — the userland proxy (:mod:`dockyard.net.proxy`) serves loopback instead.
* ``ports``: one ``dnat`` per published port.
* ``postrouting`` (nat): masquerade a bridge subnet leaving through any other interface, and
  hairpin traffic (a pod reaching a sibling through a published port) so replies come back via us.
* ``forward`` (filter): internal networks may not leave their bridge.

Where only iptables exists, :mod:`dockyard.net.iptables` renders the same rules into chains of
our own; ``firewall`` ("auto", "nft", "iptables") picks the backend.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shutil
import subprocess
from pathlib import Path

from dockyard.base.errors import FailedPrecondition, Internal, InvalidArgument
from dockyard.net import iptables
from dockyard.net.store import Store


def backend(firewall: str = "auto") -> str:
    if firewall == "auto":
        return "nft" if shutil.which("nft") else "iptables"
    if firewall not in ("nft", "iptables"):
        raise InvalidArgument(f"firewall {firewall!r}: use auto, nft or iptables")
    return firewall


def nft_binary() -> str:
    path = shutil.which("nft")
    if path is None:
        raise FailedPrecondition("nft: not installed; install the nftables package (apt-get install nftables)")
    return path


def render(store: Store, table: str) -> str:
    nets = store.networks()
    eps = store.endpoints()
    address = {(e.pod_id): e.address for e in reversed(eps)}  # first endpoint wins
    lines = [
        f"table ip {table} {{",
        "  chain prerouting { type nat hook prerouting priority -100; policy accept;",
        "    fib daddr type local jump ports",
        "  }",
        "  chain output { type nat hook output priority -100; policy accept;",
        "    ip daddr != 127.0.0.0/8 fib daddr type local jump ports",
        "  }",
        "  chain ports {",
    ]
    for p in store.ports():
        pod_ip = address.get(p.pod_id)
        if pod_ip is None or ipaddress.ip_address(p.host_ip).is_loopback:
            continue
        match = "" if p.host_ip == "0.0.0.0" else f"ip daddr {p.host_ip} "
        lines.append(f"    {match}{p.proto} dport {int(p.host_port)} dnat to {pod_ip}:{int(p.container_port)}")
    lines += ["  }", "  chain postrouting { type nat hook postrouting priority 100; policy accept;"]
    for n in nets:
        lines.append(f'    oifname "{n.bridge}" ip saddr {n.subnet} ct status dnat masquerade')
        if not n.internal:
            lines.append(f'    ip saddr {n.subnet} oifname != "{n.bridge}" masquerade')
    lines += ["  }", "  chain forward { type filter hook forward priority 0; policy accept;"]
    for n in nets:
        if n.internal:
            lines.append(f'    iifname "{n.bridge}" oifname != "{n.bridge}" drop')
            lines.append(f'    oifname "{n.bridge}" iifname != "{n.bridge}" drop')
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def sync(store: Store, table: str, firewall: str = "auto", *, stamp: Path | None = None,
         force: bool = False) -> None:
    """Replace our table with the one the database describes (or drop it when there is nothing).

    With *stamp* (a file under the state dir), a table identical to the one this boot last applied
    is not applied again: most pod changes (no published port) leave the rules as they were, and
    each ``nft`` run costs ~15 ms of every ``run`` and ``rm``.  A table changed behind our back
    (``nft flush ruleset``) is put back by a sync with *force*: the reconcile at daemon start.
    """
    kind = backend(firewall)
    key = _key(store, table, kind) if stamp is not None else ""
    if stamp is not None and not force and _read(stamp) == key:
        return
    _forget(stamp)  # while applying, nothing is known to be in place
    if kind == "iptables":
        iptables.sync(store, table)
    else:
        script = f"add table ip {table}\ndelete table ip {table}\n"
        if store.networks():
            script += render(store, table)
        _run(["-f", "-"], script)
    if stamp is not None:
        stamp.parent.mkdir(parents=True, exist_ok=True, mode=0o711)
        stamp.write_text(key)


def drop(table: str, firewall: str = "auto", *, stamp: Path | None = None) -> None:
    _forget(stamp)
    if backend(firewall) == "iptables":
        iptables.drop(table)
        return
    _run(["-f", "-"], f"add table ip {table}\ndelete table ip {table}\n")


def _key(store: Store, table: str, kind: str) -> str:
    """What was applied, and in which boot (a reboot empties the kernel's tables, not our files)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    text = f"{boot}\n{kind}\n{render(store, table)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _read(stamp: Path) -> str:
    try:
        return stamp.read_text()
    except OSError:
        return ""


def _forget(stamp: Path | None) -> None:
    if stamp is not None:
        stamp.unlink(missing_ok=True)


def exists(table: str, firewall: str = "auto") -> bool:
    if backend(firewall) == "iptables":
        return iptables.exists(table)
    out = _run(["-j", "list", "tables", "ip"], "")
    return any(item.get("table", {}).get("name") == table for item in json.loads(out).get("nftables", []))


def rules(table: str, firewall: str = "auto") -> str:
    """The live table as text, for inspection and tests."""
    if backend(firewall) == "iptables":
        return iptables.rules(table)
    return _run(["list", "table", "ip", table], "") if exists(table) else ""


def _run(args: list[str], stdin: str) -> str:
    proc = subprocess.run([nft_binary(), *args], input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        raise Internal(f"nft {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout
