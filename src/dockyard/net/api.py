"""``Net``: the one object the engine, the CLI and the Docker API hold to do networking.

    net = Net.open()                                  # or Net(NetConfig(...)) in tests
    a = net.attach(pod_id, network="bridge", name="web", ports=["127.0.0.1:8080:80"])
    # runtime config.json: linux.namespaces += {"type": "network", "path": str(a.netns_path)}
    # write a.resolv_conf to the pod's /etc/resolv.conf
    net.detach(pod_id)                                # on rm (idempotent)
    net.reconcile(live={...})                         # at daemon start

It only composes the modules below; each operation opens no long-lived resources besides the
SQLite connection, so several processes (daemon, daemonless CLI) may hold a ``Net`` at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from dockyard.net import networks, pods, ports, reconcile
from dockyard.net.config import Context, NetConfig
from dockyard.net.networks import Network
from dockyard.net.pods import Attachment
from dockyard.net.ports import PortSpec

T = TypeVar("T")


def _locked(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(self: Net, *args: Any, **kw: Any) -> T:
        with self.ctx.locked():
            return fn(self, *args, **kw)

    return wrapper


class Net:
    def __init__(self, config: NetConfig) -> None:
        self.config = config
        self.ctx = Context.open(config)

    @classmethod
    def open(cls, **settings: object) -> Net:
        """Settings from the environment's data root/state dir (``DOCKYARD_ROOT``/``STATE``)."""
        return cls(NetConfig.default(**settings))

    def close(self) -> None:
        self.ctx.store.close()

    # pods
    @_locked
    def attach(self, pod_id: str, *, network: str = "bridge", name: str = "",
               aliases: Iterable[str] = (), ports: Iterable[str | PortSpec] = (),
               publish_all: Iterable[str] = (), ip: str | None = None) -> Attachment:
        """Create the pod's netns on *network*; ``ports`` as ``-p``, ``publish_all`` as ``-P``'s exposed list."""
        specs = [p if isinstance(p, PortSpec) else _parse(p) for p in ports]
        # -P skips an exposed port that -p already publishes, as docker does
        taken = {(s.container_port, s.proto) for s in specs}
        specs += [s for s in _publish_all(list(publish_all)) if (s.container_port, s.proto) not in taken]
        return pods.attach(self.ctx, pod_id, network=network, name=name, aliases=tuple(aliases),
                           port_specs=specs, ip=ip)

    @_locked
    def detach(self, pod_id: str) -> None:
        pods.detach(self.ctx, pod_id)

    def attachment(self, pod_id: str) -> Attachment:
        return pods.attachment(self.ctx, pod_id)

    def netns_path(self, pod_id: str) -> Path:
        """For ``--network container:NAME``: the namespace of the pod that owns it."""
        return self.attachment(pod_id).netns_path or Path("/proc/1/ns/net")

    @_locked
    def connect(self, network: str, pod_id: str, *, aliases: Iterable[str] = (), ip: str | None = None) -> str:
        return pods.connect(self.ctx, pod_id, network, aliases=tuple(aliases), ip=ip)

    @_locked
    def disconnect(self, network: str, pod_id: str) -> None:
        pods.disconnect(self.ctx, pod_id, network)

    # networks
    @_locked
    def create_network(self, name: str, **kw: object) -> Network:
        return networks.create(self.ctx, name, **kw)  # type: ignore[arg-type]

    def networks(self) -> list[Network]:
        return networks.ls(self.ctx)

    @_locked
    def inspect_network(self, name_or_id: str, *, make: bool = True) -> Network:
        """Without *make*, an unused ``bridge`` is described, not made (``network inspect``)."""
        return networks.inspect(self.ctx, name_or_id, make=make)

    @_locked
    def remove_network(self, name_or_id: str) -> None:
        networks.remove(self.ctx, name_or_id)

    # recovery
    @_locked
    def reconcile(self, live: set[str] | dict[str, int] | None = None) -> reconcile.Report:
        """At start: *live* = running pod ids (or id → a pid inside the pod); the rest is torn down."""
        return reconcile.reconcile(self.ctx, live)

    @_locked
    def purge(self) -> None:
        reconcile.purge(self.ctx)


def _parse(spec: str) -> PortSpec:
    return ports.parse(spec)


def _publish_all(exposed: list[str]) -> list[PortSpec]:
    return ports.publish_all(exposed) if exposed else []
