"""Settings and the per-process context every networking operation runs in.

``instance`` names everything we create on the host — the nft table (``ip <instance>``), the
``ifalias`` tag on our interfaces, the ``--instance`` flag of our helper processes — so that two
users of one kernel (the daemon and a test, or two tests) never see or sweep each other's objects.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base import paths
from dockyard.base.errors import InvalidArgument
from dockyard.net.store import Store

DEFAULT_NETWORK = "bridge"
DEFAULT_SUBNET = "10.88.0.0/16"
#: Where the ``bridge`` network goes when :data:`DEFAULT_SUBNET` is taken by a host route — Podman's
#: default network is 10.88.0.0/16 too.  Docker's default pools, minus docker0's own 172.17.0.0/16.
#: An explicitly configured subnet never moves.
DEFAULT_SUBNET_FALLBACKS = tuple(f"172.{i}.0.0/16" for i in range(18, 32))
_INSTANCE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@dataclass(frozen=True, slots=True)
class NetConfig:
    data_root: Path
    state_dir: Path
    instance: str = "dockyard"
    #: the ``bridge`` network, created on first use (Docker's ``docker0`` is 172.17.0.0/16).
    default_subnet: str = DEFAULT_SUBNET
    default_bridge: str = "dockyard0"
    #: pool that user networks without ``--subnet`` get a /24 from.
    pool: str = "10.89.0.0/16"
    #: upstream resolvers (``ip:port``) for the embedded DNS; empty → the host's resolv.conf.
    dns_upstreams: tuple[str, ...] = field(default_factory=tuple)
    dns_port: int = 53
    #: "auto" (nftables when the ``nft`` binary exists, else iptables), "nft" or "iptables".
    firewall: str = "auto"

    def __post_init__(self) -> None:
        if not _INSTANCE.match(self.instance):
            raise InvalidArgument(f"net instance {self.instance!r}: use lowercase letters, digits and '_'")

    @classmethod
    def default(cls, **kw: object) -> NetConfig:
        return cls(data_root=paths.data_root(), state_dir=paths.state_dir(), **kw)  # type: ignore[arg-type]

    @property
    def db_path(self) -> Path:
        return self.data_root / "net.db" if self.instance == "dockyard" else self.data_root / f"net-{self.instance}.db"

    @property
    def netns_dir(self) -> Path:
        return self.state_dir / "netns"

    @property
    def firewall_stamp(self) -> Path:
        """What this boot last put in our nft table (see :func:`dockyard.net.nat.sync`)."""
        return self.state_dir / f"net-{self.instance}.firewall"


@dataclass(slots=True)
class Context:
    """Config + store, and the lock that serialises changes across processes.

    SQLite keeps IP leases unique on its own, but the kernel side (the nft table rendered from a
    snapshot of the rows, a veth named after its pod) must not be changed by two processes at
    once — the daemon and a daemonless CLI, say — so every mutating operation holds an ``flock``
    on ``<db>.lock``.  Re-entrant within one process.
    """

    config: NetConfig
    store: Store
    _rlock: threading.RLock = field(default_factory=threading.RLock)
    _depth: int = 0
    _fd: int = -1

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._rlock:
            if self._depth == 0:
                self._fd = os.open(self.config.db_path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    os.close(self._fd)  # closing releases the flock
                    self._fd = -1

    @classmethod
    def open(cls, config: NetConfig) -> Context:
        return cls(config, Store(config.db_path))

    @property
    def instance(self) -> str:
        return self.config.instance

    def sync_firewall(self, *, force: bool = False) -> None:
        """Our nft table from the rows; skipped when it would not change, unless *force* (reconcile)."""
        from dockyard.net import nat

        nat.sync(self.store, self.instance, self.config.firewall, stamp=self.config.firewall_stamp, force=force)

    def drop_firewall(self) -> None:
        from dockyard.net import nat

        nat.drop(self.instance, self.config.firewall, stamp=self.config.firewall_stamp)
