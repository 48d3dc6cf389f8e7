"""Registry credentials in docker's ``config.json`` (``$DOCKER_CONFIG`` or ``~/.docker``).

Docker keeps either ``auths[<server>].auth`` (base64 of ``user:password``) or delegates to a
credential helper: ``credHelpers[<server>]`` for one registry, ``credsStore`` for all; the helper is
the program ``docker-credential-<name>`` speaking JSON on stdin/stdout (``get``/``store``/``erase``).
We read and write the same file in the same way, so ``docker login`` and ``dockyard login`` share
credentials.  Docker Hub is keyed ``https://index.docker.io/v1/`` for historical reasons.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockyard.base import log
from dockyard.base.errors import FailedPrecondition, InvalidArgument
from dockyard.base.fsutil import atomic_write

DOCKER_HUB_KEY = "https://index.docker.io/v1/"


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str  # or an identity token when username is "<token>"


def config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return Path(base) / "config.json"


def server_key(domain: str) -> str:
    return DOCKER_HUB_KEY if domain in ("docker.io", "index.docker.io", "registry-1.docker.io") else domain


def _load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise InvalidArgument(f"docker config {path}: not valid JSON ({e}); fix or remove it") from None


def _helper(config: dict[str, Any], key: str) -> str | None:
    return (config.get("credHelpers") or {}).get(key) or config.get("credsStore") or None


def _run_helper(name: str, action: str, payload: str) -> str:
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise FailedPrecondition(
            f"credential helper docker-credential-{name}: not installed; install it or remove it from {config_path()}"
        )
    proc = subprocess.run([program, action], input=payload, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise FailedPrecondition(f"credential helper docker-credential-{name} {action}: {proc.stdout or proc.stderr}".strip())
    return proc.stdout


def lookup(domain: str, *, path: Path | None = None) -> Credentials | None:
    path = path or config_path()
    config = _load(path)
    key = server_key(domain)
    helper = _helper(config, key)
    if helper:
        try:
            data = json.loads(_run_helper(helper, "get", key))
        except FailedPrecondition as e:
            if "credentials not found" in str(e).lower():
                return None
            raise
        creds = Credentials(data.get("Username", ""), data.get("Secret", ""))
    else:
        entry = _find_entry(config.get("auths") or {}, key)
        if entry is None:
            return None
        creds = _decode(entry)
    if creds and creds.password:
        log.register_secret(creds.password)
    return creds


def _find_entry(auths: dict[str, Any], key: str) -> dict[str, Any] | None:
    if key in auths:
        return auths[key]
    for server, entry in auths.items():  # docker also accepts "https://host" and "host/v2/" spellings
        bare = server.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        if bare == key or (key == DOCKER_HUB_KEY and bare in ("index.docker.io", "docker.io")):
            return entry
    return None


def _decode(entry: dict[str, Any]) -> Credentials | None:
    if entry.get("identitytoken"):
        return Credentials("<token>", entry["identitytoken"])
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return Credentials(user, password)
    if entry.get("username"):
        return Credentials(entry["username"], entry.get("password", ""))
    return None


def store(domain: str, creds: Credentials, *, path: Path | None = None) -> str:
    """Save *creds*; returns where (the helper's name or the file), for the CLI to say."""
    path = path or config_path()
    config = _load(path)
    key = server_key(domain)
    helper = _helper(config, key)
    if helper:
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": creds.username,
                                                  "Secret": creds.password}))
        return f"credential helper docker-credential-{helper}"
    auth = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    config.setdefault("auths", {})[key] = {"auth": auth}
    _save(path, config)
    return str(path)


def erase(domain: str, *, path: Path | None = None) -> bool:
    path = path or config_path()
    config = _load(path)
    key = server_key(domain)
    helper = _helper(config, key)
    if helper:
        _run_helper(helper, "erase", key)
        return True
    auths = config.get("auths") or {}
    if key not in auths:
        return False
    del auths[key]
    _save(path, config)
    return True


def _save(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, (json.dumps(config, indent="\t") + "\n").encode(), mode=0o600)
