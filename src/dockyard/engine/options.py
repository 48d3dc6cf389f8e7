"""What a caller asks for when creating a container (``docker run``'s flags, as data).

:class:`RunOptions` is the engine's input; the CLI, and later the Docker API and the node agent,
fill it in.  The parsers here turn user text (``512m``, ``1.5``, ``/data:/srv:ro``) into values and
reject bad input with a one-line error naming the flag.
"""

from __future__ import annotations

import re
from pathlib import Path

from dockyard.base.errors import InvalidArgument
from dockyard.base.record import Mutable

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
NETWORKS = ("none", "host")  # needing no dockyard.net; bridge, NAME and container:NAME are resolved at create
USERNS_PRIVATE = ("private", "auto", "remap")  # container root is an unprivileged host uid
_NETWORK_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


class RunOptions(Mutable):
    """One container's creation request: ``docker run``'s flags as data.

    A :class:`~dockyard.base.record.Mutable` rather than a dataclass: the run path then never
    imports ``dataclasses`` (and its ``inspect``).  List and dict fields left out (or None) start
    empty and are never shared between two options, as ``field(default_factory=…)`` made them."""

    _fields = ("image", "command", "entrypoint", "name", "env", "volumes", "tmpfs", "workdir", "user",
               "hostname", "memory", "cpus", "pids_limit", "network", "ports", "publish_all",
               "network_aliases", "ip", "dns", "read_only", "cap_add", "cap_drop", "security_opt", "runtime",
               "tty", "console_size", "interactive", "auto_remove", "pod", "share_pid", "userns", "labels")
    __slots__ = _fields

    def __init__(
        self, image: str,
        command: list[str] | None = None,
        entrypoint: list[str] | None = None,
        name: str | None = None,
        env: list[str] | None = None,
        volumes: list[str] | None = None,
        tmpfs: list[str] | None = None,
        workdir: str | None = None,
        user: str | None = None,
        hostname: str | None = None,
        memory: int | None = None,
        cpus: float | None = None,
        pids_limit: int | None = None,
        network: str = "none",
        ports: list[str] | None = None,
        publish_all: bool = False,
        network_aliases: list[str] | None = None,
        ip: str | None = None,
        dns: list[str] | None = None,
        read_only: bool = False,
        cap_add: list[str] | None = None,
        cap_drop: list[str] | None = None,
        security_opt: list[str] | None = None,
        runtime: str | None = None,
        tty: bool = False,
        console_size: list[int] | None = None,
        interactive: bool = False,
        auto_remove: bool = False,
        pod: str | None = None,
        share_pid: bool = False,
        userns: str | None = None,
        labels: dict[str, str] | None = None,
    ) -> None:
        self.image = image
        self.command = command
        self.entrypoint = entrypoint
        self.name = name
        self.env = [] if env is None else env
        self.volumes = [] if volumes is None else volumes
        self.tmpfs = [] if tmpfs is None else tmpfs
        self.workdir = workdir
        self.user = user
        self.hostname = hostname
        self.memory = memory
        self.cpus = cpus
        self.pids_limit = pids_limit
        self.network = network
        self.ports = [] if ports is None else ports
        self.publish_all = publish_all
        self.network_aliases = [] if network_aliases is None else network_aliases
        self.ip = ip
        self.dns = [] if dns is None else dns
        self.read_only = read_only
        self.cap_add = [] if cap_add is None else cap_add
        self.cap_drop = [] if cap_drop is None else cap_drop
        self.security_opt = [] if security_opt is None else security_opt
        self.runtime = runtime
        self.tty = tty
        self.console_size = console_size
        self.interactive = interactive
        self.auto_remove = auto_remove
        self.pod = pod
        self.share_pid = share_pid
        self.userns = userns
        self.labels = {} if labels is None else labels

    def to_json(self) -> dict:
        # copies, as dataclasses.asdict made: the caller may change the result freely
        return {f: _copied(getattr(self, f)) for f in self._fields}

    @classmethod
    def from_json(cls, data: dict) -> RunOptions:
        known = {k: v for k, v in data.items() if k in cls._fields}
        return cls(**known)

    def validate(self) -> None:
        if self.network not in NETWORKS and not self.network.startswith("container:") \
                and not _NETWORK_NAME.match(self.network):
            raise InvalidArgument(f"--network {self.network!r}: unknown; use bridge, none, host, "
                                  "container:NAME or a network name")
        if self.userns not in (None, "", "host", *USERNS_PRIVATE):
            raise InvalidArgument(f"--userns {self.userns!r}: unknown; use host, or private (alias auto, "
                                  "remap) for a fresh range of 65536 subordinate ids")
        if self.pod and self.userns in USERNS_PRIVATE:
            raise InvalidArgument(f"--userns {self.userns} with --pod {self.pod}: a pod's namespaces belong to "
                                  "the host's user namespace; drop --userns for pod members")
        if self.pids_limit is not None and self.pids_limit == 0:
            raise InvalidArgument("--pids-limit 0: must be positive, or -1 for unlimited")
        if self.cpus is not None and self.cpus <= 0:
            raise InvalidArgument(f"--cpus {self.cpus}: must be greater than 0")
        if self.memory is not None and self.memory < 6 << 20:
            raise InvalidArgument(f"--memory {self.memory}: the minimum is 6m")
        for v in self.volumes:
            parse_volume(v)
        for env in self.env:
            if not env or env.startswith("="):
                raise InvalidArgument(f"-e {env!r}: expected KEY=VALUE")


def _copied(value):
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def parse_size(text: str, *, flag: str = "--memory") -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise InvalidArgument(f"{flag} {text!r}: not a size; use a number with an optional unit (b, k, m, g)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def parse_cpus(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgument(f"--cpus {text!r}: not a number; use e.g. 0.5 or 2") from None
    if value <= 0:
        raise InvalidArgument(f"--cpus {text!r}: must be greater than 0")
    return value


def parse_volume(spec: str) -> tuple[str, str, bool]:
    """``host:container[:ro|rw]`` → (absolute host path, container path, read-only)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise InvalidArgument(f"-v {spec!r}: expected HOST-PATH:CONTAINER-PATH[:ro]")
    host, ctr = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise InvalidArgument(f"-v {spec!r}: unknown mode {mode!r}; use ro or rw")
    if not host.startswith("/"):
        raise InvalidArgument(f"-v {spec!r}: the host path must be absolute (named volumes are not supported)")
    if not ctr.startswith("/"):
        raise InvalidArgument(f"-v {spec!r}: the container path must be absolute")
    return str(Path(host)), ctr, mode == "ro"


def read_env_file(path: str) -> list[str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as e:
        raise InvalidArgument(f"--env-file {path}: cannot read it ({e.strerror})") from e
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def merge_env(base: list[str], extra: list[str]) -> list[str]:
    """Later entries win by key, keeping first-seen order; ``KEY`` alone takes the caller's value."""
    import os

    merged: dict[str, str] = {}
    for item in [*base, *extra]:
        key, sep, value = item.partition("=")
        if not sep:
            if key not in os.environ:
                continue
            value = os.environ[key]
        merged[key] = value
    return [f"{k}={v}" for k, v in merged.items()]
