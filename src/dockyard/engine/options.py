"""What a caller asks for when creating a container (``docker run``'s flags, as data).

:class:`RunOptions` is the engine's input; the CLI, and later the Docker API and the node agent,
fill it in.  The parsers here turn user text (``512m``, ``1.5``, ``/data:/srv:ro``) into values and
reject bad input with a one-line error naming the flag.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dockyard.base.errors import InvalidArgument

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
NETWORKS = ("none", "host")  # needing no dockyard.net; bridge, NAME and container:NAME are resolved at create
USERNS_PRIVATE = ("private", "auto", "remap")  # container root is an unprivileged host uid
_NETWORK_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


@dataclass
class RunOptions:
    """One container's creation request: ``docker run``'s flags as data."""

    image: str
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    name: str | None = None
    env: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    tmpfs: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    memory: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    network: str = "none"
    ports: list[str] = field(default_factory=list)            # -p [ip:]host:container[/proto]
    publish_all: bool = False                                  # -P: the image's ExposedPorts
    network_aliases: list[str] = field(default_factory=list)
    ip: str | None = None
    dns: list[str] = field(default_factory=list)
    read_only: bool = False
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    security_opt: list[str] = field(default_factory=list)
    runtime: str | None = None
    tty: bool = False
    console_size: list[int] | None = None                      # [rows, cols] of the pty, with tty
    interactive: bool = False
    auto_remove: bool = False
    pod: str | None = None
    share_pid: bool = False
    userns: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RunOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
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
