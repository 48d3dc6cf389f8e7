"""The network state database: networks, pod sandboxes, endpoints, published ports.

Everything the kernel holds for us (bridges, veths, addresses, nft rules, netns mounts, proxy
processes) is a function of these rows, so that :mod:`dockyard.net.reconcile` can rebuild it after
a crash and sweep whatever has no row.  The file lives under the data root (``net.db``) because IP
allocations must survive a reboot: a restarted pod keeps no stale address, and no address is
handed out twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base import db

MIGRATIONS = [
    """
    CREATE TABLE networks (
        name TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        subnet TEXT NOT NULL,
        gateway TEXT NOT NULL,
        bridge TEXT NOT NULL UNIQUE,
        labels TEXT NOT NULL DEFAULT '{}',
        internal INTEGER NOT NULL DEFAULT 0,
        dns INTEGER NOT NULL DEFAULT 1,
        created REAL NOT NULL
    );
    CREATE TABLE sandboxes (
        pod_id TEXT PRIMARY KEY,
        netns_path TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL
    );
    CREATE TABLE endpoints (
        pod_id TEXT NOT NULL REFERENCES sandboxes(pod_id) ON DELETE CASCADE,
        network TEXT NOT NULL REFERENCES networks(name),
        ifname TEXT NOT NULL,
        host_ifname TEXT NOT NULL UNIQUE,
        address TEXT NOT NULL,
        aliases TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (pod_id, network),
        UNIQUE (network, address)
    );
    CREATE TABLE ports (
        pod_id TEXT NOT NULL REFERENCES sandboxes(pod_id) ON DELETE CASCADE,
        proto TEXT NOT NULL,
        host_ip TEXT NOT NULL,
        host_port INTEGER NOT NULL,
        container_port INTEGER NOT NULL,
        proxy_pid INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (proto, host_ip, host_port)
    );
    CREATE TABLE leases (
        network TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
        address TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (network, address)
    );
    CREATE TABLE dns (
        network TEXT PRIMARY KEY REFERENCES networks(name) ON DELETE CASCADE,
        pid INTEGER NOT NULL
    )
    """,
    # docker's predefined networks (bridge, host, none): a stable id each, listed before the
    # bridge's kernel side exists (it is made on first use) and kept if its row is ever rebuilt
    """
    CREATE TABLE predefined (
        name TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE
    )
    """,
]


@dataclass(frozen=True, slots=True)
class NetworkRow:
    name: str
    id: str
    subnet: str
    gateway: str
    bridge: str
    labels: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    dns: bool = True
    created: float = 0.0


@dataclass(frozen=True, slots=True)
class EndpointRow:
    pod_id: str
    network: str
    ifname: str
    host_ifname: str
    address: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PortRow:
    pod_id: str
    proto: str
    host_ip: str
    host_port: int
    container_port: int
    proxy_pid: int = 0


@dataclass(frozen=True, slots=True)
class SandboxRow:
    pod_id: str
    netns_path: str
    name: str = ""


class Store:
    """Typed access to ``net.db``; one connection per process, writers use ``BEGIN IMMEDIATE``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = db.connect(path, migrations=MIGRATIONS)
        # A crashed process loses no commit in WAL mode without fsync; only a power loss can, and it
        # also wipes what these rows describe (netns, links, rules, proxies), so reconcile rebuilds
        # from whatever survived.  An fsync per row was ~1 ms x 14 of every run + rm on a bridge.
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with db.transaction(self.conn) as conn:
            yield conn

    # networks
    def networks(self) -> list[NetworkRow]:
        return [_network(r) for r in self.conn.execute("SELECT * FROM networks ORDER BY created, name")]

    def network(self, name: str) -> NetworkRow | None:
        row = self.conn.execute("SELECT * FROM networks WHERE name = ?", (name,)).fetchone()
        return _network(row) if row else None

    def add_network(self, n: NetworkRow) -> None:
        with self.write() as c:
            c.execute(
                "INSERT INTO networks VALUES (?,?,?,?,?,?,?,?,?)",
                (n.name, n.id, n.subnet, n.gateway, n.bridge, json.dumps(n.labels),
                 int(n.internal), int(n.dns), n.created),
            )

    def delete_network(self, name: str) -> None:
        with self.write() as c:
            c.execute("DELETE FROM networks WHERE name = ?", (name,))

    def predefined(self) -> dict[str, str]:
        """Predefined network name → its stable id."""
        return {r["name"]: r["id"] for r in self.conn.execute("SELECT * FROM predefined")}

    def add_predefined(self, ids: dict[str, str]) -> None:
        """Record ids for the names that have none yet (the first writer's id wins)."""
        with self.write() as c:
            c.executemany("INSERT OR IGNORE INTO predefined VALUES (?, ?)", list(ids.items()))

    # sandboxes and endpoints
    def sandboxes(self) -> list[SandboxRow]:
        return [SandboxRow(r["pod_id"], r["netns_path"], r["name"])
                for r in self.conn.execute("SELECT * FROM sandboxes")]

    def sandbox(self, pod_id: str) -> SandboxRow | None:
        r = self.conn.execute("SELECT * FROM sandboxes WHERE pod_id = ?", (pod_id,)).fetchone()
        return SandboxRow(r["pod_id"], r["netns_path"], r["name"]) if r else None

    def endpoints(self, *, pod_id: str | None = None, network: str | None = None) -> list[EndpointRow]:
        sql, args = "SELECT * FROM endpoints WHERE 1=1", []
        if pod_id is not None:
            sql, args = sql + " AND pod_id = ?", [*args, pod_id]
        if network is not None:
            sql, args = sql + " AND network = ?", [*args, network]
        return [_endpoint(r) for r in self.conn.execute(sql + " ORDER BY rowid", args)]

    def ports(self, *, pod_id: str | None = None) -> list[PortRow]:
        if pod_id is None:
            rows = self.conn.execute("SELECT * FROM ports")
        else:
            rows = self.conn.execute("SELECT * FROM ports WHERE pod_id = ?", (pod_id,))
        return [PortRow(**dict(r)) for r in rows]

    def set_proxy_pid(self, port: PortRow, pid: int) -> None:
        with self.write() as c:
            c.execute("UPDATE ports SET proxy_pid = ? WHERE proto = ? AND host_ip = ? AND host_port = ?",
                      (pid, port.proto, port.host_ip, port.host_port))

    def dns_pid(self, network: str) -> int:
        row = self.conn.execute("SELECT pid FROM dns WHERE network = ?", (network,)).fetchone()
        return int(row["pid"]) if row else 0

    def set_dns_pid(self, network: str, pid: int) -> None:
        with self.write() as c:
            if pid:
                c.execute("INSERT OR REPLACE INTO dns VALUES (?, ?)", (network, pid))
            else:
                c.execute("DELETE FROM dns WHERE network = ?", (network,))

    def names(self, network: str) -> dict[str, list[str]]:
        """Name or alias → addresses on *network*: what the embedded DNS answers."""
        out: dict[str, list[str]] = {}
        rows = self.conn.execute(
            "SELECT s.name, s.pod_id, e.address, e.aliases FROM endpoints e "
            "JOIN sandboxes s USING (pod_id) WHERE e.network = ?", (network,))
        for r in rows:
            keys = [r["name"], r["pod_id"][:12], *json.loads(r["aliases"])]
            for key in filter(None, keys):
                out.setdefault(key.lower(), []).append(r["address"])
        return out


def _network(r: sqlite3.Row) -> NetworkRow:
    return NetworkRow(r["name"], r["id"], r["subnet"], r["gateway"], r["bridge"], json.loads(r["labels"]),
                      bool(r["internal"]), bool(r["dns"]), r["created"])


def _endpoint(r: sqlite3.Row) -> EndpointRow:
    return EndpointRow(r["pod_id"], r["network"], r["ifname"], r["host_ifname"], r["address"],
                       tuple(json.loads(r["aliases"])))
