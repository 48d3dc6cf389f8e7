"""``dockyard.toml``: the daemon's settings (data root, sockets, registry, networks, mirrors).

    [daemon]
    data-root = "/var/lib/dockyard"
    state-dir = "/run/dockyard"
    socket = "/run/dockyard/dockyard.sock"
    docker-socket = false            # also listen on /var/run/docker.sock
    group = "dockyard"               # the socket's group (created if missing, as root; rootless: none)
    tcp = "127.0.0.1:2376"           # optional; with tls-cert/tls-key/tls-ca for mutual TLS
    shutdown-grace = 5               # seconds in-flight requests get after SIGTERM

    [registry]
    listen = "127.0.0.1:5000"        # serve the embedded registry too

    [registries]
    mirrors = ["https://mirror.example"]
    insecure = ["registry.local:5000"]

    [networks]
    bridge = "dockyard0"             # the `bridge` network's interface …
    subnet = "10.88.0.0/16"          # … and subnet
    pool = "10.89.0.0/16"            # where user networks get a /24
    dns = ["192.0.2.53:53"]          # upstreams of the embedded DNS (default: the host's)
    instance = "dockyard"            # nft table / interface tag

Command-line flags win over the file; the file wins over the defaults and over the
``DOCKYARD_NET_*`` / ``DOCKYARD_REGISTRY_MIRRORS`` / ``DOCKYARD_INSECURE_REGISTRIES`` environment
that the engine and the registry client read (:meth:`DaemonConfig.environment` writes it).
Unknown sections and keys are errors: a typo must not silently leave a default in force.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base import paths
from dockyard.base.errors import InvalidArgument

DOCKER_SOCKET = Path("/var/run/docker.sock")

KEYS = {
    "daemon": {"data-root", "state-dir", "socket", "docker-socket", "group", "tcp", "tls-cert", "tls-key", "tls-ca",
               "shutdown-grace"},
    "registry": {"listen"},
    "registries": {"mirrors", "insecure"},
    "networks": {"bridge", "subnet", "pool", "dns", "instance"},
}
#: [networks] key → the variable the engine's network settings are read from (engine/network.py)
NET_ENV = {"bridge": "DOCKYARD_NET_BRIDGE", "subnet": "DOCKYARD_NET_SUBNET",
           "pool": "DOCKYARD_NET_POOL", "dns": "DOCKYARD_NET_DNS", "instance": "DOCKYARD_NET_INSTANCE"}


@dataclass
class DaemonConfig:
    data_root: Path
    state_dir: Path
    socket: Path
    docker_socket: Path | None = None
    group: str = "dockyard"
    tcp: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    registry_listen: str | None = None
    mirrors: list[str] = field(default_factory=list)
    insecure_registries: list[str] = field(default_factory=list)
    networks: dict = field(default_factory=dict)
    #: seconds requests in flight get after SIGTERM (long-lived streams are ended at once)
    shutdown_grace: float = 5.0

    def environment(self) -> dict[str, str]:
        """The variables the engine (networks) and the registry client (mirrors) read in this process."""
        env = {NET_ENV[k]: ",".join(v) if isinstance(v, list) else str(v) for k, v in self.networks.items()}
        if self.mirrors:
            env["DOCKYARD_REGISTRY_MIRRORS"] = ",".join(self.mirrors)
        if self.insecure_registries:
            env["DOCKYARD_INSECURE_REGISTRIES"] = ",".join(self.insecure_registries)
        return env


def default_socket(state_dir: Path) -> Path:
    if os.geteuid() == 0:
        return Path("/run/dockyard/dockyard.sock") if str(state_dir) == "/run/dockyard" else state_dir / "dockyard.sock"
    return state_dir / "dockyard.sock"


def default_group() -> str:
    """``dockyard`` as root; rootless, none: the per-user socket keeps the user's own group
    (a user cannot give a file to a group they are not in)."""
    return "dockyard" if os.geteuid() == 0 else ""


def load(path: Path | None = None, **overrides) -> DaemonConfig:
    doc: dict = {}
    if path is not None:
        try:
            doc = tomllib.loads(Path(path).read_text())
        except OSError as e:
            raise InvalidArgument(f"config {path}: cannot read it ({e.strerror})") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidArgument(f"config {path}: not valid TOML ({e})") from None
    daemon, registry, registries = doc.get("daemon", {}), doc.get("registry", {}), doc.get("registries", {})
    unknown = set(doc) - set(KEYS)
    if unknown:
        raise InvalidArgument(f"config {path}: unknown section [{sorted(unknown)[0]}]")
    for section, keys in KEYS.items():
        table = doc.get(section, {})
        if not isinstance(table, dict):
            raise InvalidArgument(f"config {path}: [{section}] must be a table")
        if set(table) - keys:
            raise InvalidArgument(f"config {path}: unknown key {sorted(set(table) - keys)[0]!r} in [{section}]; "
                                  f"known: {', '.join(sorted(keys))}")

    def pick(key: str, file_value):
        value = overrides.get(key)
        return value if value not in (None, False) else file_value

    data_root = paths.data_root(pick("data_root", daemon.get("data-root")))
    state_dir = paths.state_dir(pick("state_dir", daemon.get("state-dir")))
    socket = pick("socket", daemon.get("socket"))
    docker_socket = pick("docker_socket", daemon.get("docker-socket", False))
    opt = lambda key, name: pick(key, daemon.get(name))  # noqa: E731
    tcp, tls_cert = opt("tcp", "tcp"), opt("tls_cert", "tls-cert")
    if tcp and not tls_cert and not tcp.startswith(("127.", "localhost")):
        raise InvalidArgument(f"tcp {tcp}: refusing to serve the API unencrypted off loopback; "
                              "add tls-cert/tls-key/tls-ca (--tls-* flags)")
    if tls_cert and not opt("tls_key", "tls-key"):
        raise InvalidArgument(f"tls-cert {tls_cert}: needs its tls-key too")
    return DaemonConfig(
        data_root=data_root, state_dir=state_dir, socket=Path(socket) if socket else default_socket(state_dir),
        docker_socket=(DOCKER_SOCKET if docker_socket is True else Path(docker_socket)) if docker_socket else None,
        group=daemon.get("group", default_group()), tcp=tcp, tls_cert=_path(tls_cert), tls_key=_path(opt("tls_key", "tls-key")),
        tls_ca=_path(opt("tls_ca", "tls-ca")), registry_listen=pick("registry_listen", registry.get("listen")),
        mirrors=list(registries.get("mirrors", [])), insecure_registries=list(registries.get("insecure", [])),
        networks=dict(doc.get("networks", {})),
        shutdown_grace=float(pick("shutdown_grace", daemon.get("shutdown-grace", 5.0))),
    )


def _path(value) -> Path | None:
    return Path(value) if value else None
