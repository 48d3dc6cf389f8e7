"""Where dockyard keeps things.

* data root: state that must survive a reboot (content store, SQLite databases):
  ``/var/lib/dockyard`` as root, ``$XDG_DATA_HOME/dockyard`` (``~/.local/share/dockyard``) otherwise.
* state dir: runtime state that dies with the machine (sockets, shim and runtime state):
  ``/run/dockyard`` as root, ``$XDG_RUNTIME_DIR/dockyard`` otherwise.

``DOCKYARD_ROOT`` and ``DOCKYARD_STATE`` override both; every test sets them to its own temp dirs.
"""

from __future__ import annotations

import os
from pathlib import Path


def is_root() -> bool:
    return os.geteuid() == 0


def data_root(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    if env := os.environ.get("DOCKYARD_ROOT"):
        return Path(env)
    if is_root():
        return Path("/var/lib/dockyard")
    xdg = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(xdg) / "dockyard"


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override)
    if env := os.environ.get("DOCKYARD_STATE"):
        return Path(env)
    if is_root():
        return Path("/run/dockyard")
    xdg = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/dockyard-{os.getuid()}"
    return Path(xdg) / "dockyard"


def ensure_dir(path: Path, mode: int = 0o711) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path
