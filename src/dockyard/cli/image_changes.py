"""``image import --change``: the few Dockerfile instructions docker accepts there, applied to a config.

CMD and ENTRYPOINT take the JSON (exec) form or a shell form that becomes ``/bin/sh -c``; ENV and
LABEL take ``k=v`` pairs (or ``k v``); WORKDIR, USER and EXPOSE take one value.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from typing import Any

from dockyard.base.errors import InvalidArgument


def _command(arg: str) -> list[str]:
    if arg.startswith("["):
        try:
            value = json.loads(arg)
        except json.JSONDecodeError as e:
            raise InvalidArgument(f"--change {arg!r}: invalid JSON array ({e})") from e
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidArgument(f"--change {arg!r}: expected a JSON array of strings")
        return value
    return ["/bin/sh", "-c", arg]


def _pairs(arg: str) -> dict[str, str]:
    words = shlex.split(arg)
    if len(words) >= 2 and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    out: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            raise InvalidArgument(f"--change {arg!r}: expected KEY=VALUE")
        out[key] = value
    return out


def apply_changes(config: dict[str, Any], changes: Iterable[str]) -> dict[str, Any]:
    """Return a copy of the runtime *config* (Cmd, Env, …) with each instruction applied."""
    config = dict(config)
    for change in changes:
        keyword, _, arg = change.strip().partition(" ")
        keyword, arg = keyword.upper(), arg.strip()
        if keyword == "CMD":
            config["Cmd"] = _command(arg)
        elif keyword == "ENTRYPOINT":
            config["Entrypoint"] = _command(arg)
        elif keyword == "ENV":
            env = {e.partition("=")[0]: e.partition("=")[2] for e in config.get("Env", [])}
            env.update(_pairs(arg))
            config["Env"] = [f"{k}={v}" for k, v in env.items()]
        elif keyword == "LABEL":
            config["Labels"] = {**config.get("Labels", {}), **_pairs(arg)}
        elif keyword == "WORKDIR":
            config["WorkingDir"] = arg
        elif keyword == "USER":
            config["User"] = arg
        elif keyword == "EXPOSE":
            port = arg if "/" in arg else f"{arg}/tcp"
            config["ExposedPorts"] = {**config.get("ExposedPorts", {}), port: {}}
        else:
            raise InvalidArgument(
                f"--change {change!r}: unsupported instruction; use CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER or EXPOSE"
            )
    return config
