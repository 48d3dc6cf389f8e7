"""Per-container state under ``--root`` (default /run/dockyard-runc): ``<root>/<id>/``.

Holds ``state.json`` (what ``runc state`` prints, plus what delete needs: the init's start time,
which guards against pid reuse, and the cgroup path) and ``exec.fifo``, which the init blocks on
until ``start`` reads it.  Status is derived, never stored: a live init with the fifo still present
is *created*, without it *running*, a dead (or recycled) pid *stopped*.
"""

from __future__ import annotations

import os
import time

from dockyard.runtime import jsonlite as json
from dockyard.runtime.errors import ContainerNotFound, SpecError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_ROOT = "/run/dockyard-runc"
OCI_VERSION = "1.0.2"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")
FIELDS = ("id", "pid", "bundle", "rootfs", "created", "owner", "annotations", "ociVersion", "start_time",
          "cgroup_path", "userns", "hooks")
_FIELD_SET = frozenset(FIELDS)


class State:
    """What state.json holds.  A plain class: dataclasses would import inspect on the hot path.

    ``start_time``, ``cgroup_path`` (':'-joined cgroup dirs), ``userns`` and ``hooks`` (config.json's
    poststart/poststop hooks as at create, as runc keeps its config; None in a state file written
    before this field existed) are private to this runtime and dropped from ``state`` output.
    """

    __slots__ = FIELDS

    def __init__(self, id: str, pid: int, bundle: str, rootfs: str, created: str, owner: str = "",
                 annotations: dict[str, str] | None = None, ociVersion: str = OCI_VERSION, start_time: int = 0,
                 cgroup_path: str = "", userns: bool = False, hooks: dict[str, Any] | None = None) -> None:
        self.id, self.pid, self.bundle, self.rootfs, self.created = id, pid, bundle, rootfs, created
        self.owner, self.annotations, self.ociVersion = owner, annotations or {}, ociVersion
        self.start_time, self.cgroup_path, self.userns, self.hooks = start_time, cgroup_path, userns, hooks

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS}

    def public(self, status: str) -> dict[str, Any]:
        out = {"ociVersion": self.ociVersion, "id": self.id, "pid": self.pid if status != "stopped" else 0,
               "status": status, "bundle": self.bundle, "rootfs": self.rootfs, "created": self.created,
               "owner": self.owner}
        if self.annotations:
            out["annotations"] = self.annotations
        return out


def check_id(cid: str) -> str:
    if not cid or not set(cid) <= _ID_CHARS or cid in (".", ".."):
        raise SpecError(f"container id {cid!r}: invalid; use letters, digits, '_', '+', '-', '.'")
    return cid


def container_dir(root: str, cid: str) -> str:
    return os.path.join(root, check_id(cid))


def now_rfc3339() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def save(root: str, st: State) -> None:
    d = container_dir(root, st.id)
    tmp = os.path.join(d, "state.json.tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(st.to_dict()))
    os.rename(tmp, os.path.join(d, "state.json"))


def load(root: str, cid: str) -> State:
    try:
        with open(os.path.join(container_dir(root, cid), "state.json")) as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        raise ContainerNotFound(f"container {cid!r}: does not exist") from None
    # Fields a later version added are ignored, as a runc-compatible runtime ignores unknown ones.
    return State(**{k: v for k, v in data.items() if k in _FIELD_SET})


def list_ids(root: str) -> list[str]:
    try:
        return sorted(n for n in os.listdir(root) if os.path.exists(os.path.join(root, n, "state.json")))
    except FileNotFoundError:
        return []


def proc_start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat, or 0 if the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    rest = data[data.rindex(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return 0
    return int(rest[19])


def status(root: str, st: State) -> str:
    if st.pid <= 0 or proc_start_time(st.pid) != st.start_time:
        return "stopped"
    if os.path.exists(os.path.join(container_dir(root, st.id), "exec.fifo")):
        return "created"
    return "running"
