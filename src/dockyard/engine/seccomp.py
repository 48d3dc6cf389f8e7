"""Seccomp profiles: Docker's profile format in, the OCI ``linux.seccomp`` object out.

A profile (ours is ``seccomp_default.json``; ``--security-opt seccomp=<file>`` takes any file in
Docker's format) lists rules that may apply only with or without certain capabilities or on
certain architectures.  :func:`to_oci` resolves those for one container — its capability set and
this machine's architecture — so the runtime receives a flat allow-list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dockyard.base.errors import InvalidArgument

_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def default_profile() -> dict:
    # A plain read next to this module: importlib.resources (typing, tempfile, zipfile) and platform
    # would cost ~5 ms of imports on every `dockyard run`.
    with open(os.path.join(os.path.dirname(__file__), "seccomp_default.json"), "rb") as f:
        return json.loads(f.read())


def load_profile(path: str) -> dict:
    try:
        profile = json.loads(Path(path).read_text())
    except OSError as e:
        raise InvalidArgument(f"--security-opt seccomp={path}: cannot read it ({e.strerror})") from e
    except ValueError as e:
        raise InvalidArgument(f"--security-opt seccomp={path}: not valid JSON ({e})") from e
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise InvalidArgument(f"--security-opt seccomp={path}: not a seccomp profile (no defaultAction)")
    return profile


def to_oci(profile: dict, caps: set[str], *, machine: str | None = None) -> dict:
    machine = machine or os.uname().machine  # what platform.machine() reports, without importing it
    arch = _ARCH.get(machine, machine)
    out: dict = {"defaultAction": profile["defaultAction"]}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    arch_map = profile.get("archMap")
    if isinstance(arch_map, dict):
        out["architectures"] = arch_map.get(arch, [])
    elif isinstance(arch_map, list):  # Docker's format: [{"architecture": .., "subArchitectures": [..]}]
        for entry in arch_map:
            if _ARCH.get(entry.get("architecture", "").removeprefix("SCMP_ARCH_").lower()) == arch:
                out["architectures"] = [entry["architecture"], *entry.get("subArchitectures", [])]
    elif "architectures" in profile:
        out["architectures"] = profile["architectures"]
    syscalls = []
    for rule in profile.get("rules", profile.get("syscalls", [])):
        if not _applies(rule, caps, arch):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        entry = {"names": names, "action": rule["action"]}
        for key in ("args", "errnoRet"):
            if rule.get(key):
                entry[key] = rule[key]
        syscalls.append(entry)
    out["syscalls"] = syscalls
    return out


def _applies(rule: dict, caps: set[str], arch: str) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        return False
    if inc.get("arches") and not {_ARCH.get(a, a) for a in inc["arches"]} & {arch}:
        return False
    if exc.get("caps") and set(exc["caps"]) & caps:
        return False
    return not (exc.get("arches") and arch in {_ARCH.get(a, a) for a in exc["arches"]})
