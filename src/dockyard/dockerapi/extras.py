"""What Docker shows about a container that the engine does not keep: NetworkMode, PortBindings …

A small JSON file per container under ``<data root>/dockerapi/containers/``, written at create and
dropped at remove, so ``inspect`` shows what the client asked for after a daemon restart too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _path(data_root: Path, cid: str) -> Path:
    return data_root / "dockerapi" / "containers" / f"{cid}.json"


def save(data_root: Path, cid: str, doc: dict[str, Any]) -> None:
    path = _path(data_root, cid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, path)


def load(data_root: Path, cid: str) -> dict[str, Any]:
    try:
        return json.loads(_path(data_root, cid).read_text())
    except (OSError, ValueError):
        return {}


def drop(data_root: Path, cid: str) -> None:
    _path(data_root, cid).unlink(missing_ok=True)
