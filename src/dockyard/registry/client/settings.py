"""Client settings: insecure (plain HTTP or unverified TLS) registries, docker.io mirrors, CAs.

Read from ``<data root>/registries.json`` in the shape of docker's ``daemon.json``::

    {"insecure-registries": ["myreg:5000"], "registry-mirrors": ["https://mirror.example"]}

plus the environment (``DOCKYARD_INSECURE_REGISTRIES``, ``DOCKYARD_REGISTRY_MIRRORS``,
comma-separated) and the CLI's ``--insecure``.  As docker does, loopback registries
(``localhost``, ``127.0.0.0/8``, ``::1``) are insecure by default, and custom CAs are taken from
``/etc/dockyard/certs.d/<host>/*.crt`` and ``/etc/docker/certs.d/<host>/*.crt``.
``"loopback-insecure": false`` makes loopback registries verified like any other.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.base.errors import InvalidArgument

CERTS_DIRS = (Path("/etc/dockyard/certs.d"), Path("/etc/docker/certs.d"))


@dataclass
class ClientSettings:
    insecure_registries: set[str] = field(default_factory=set)
    mirrors: list[str] = field(default_factory=list)
    insecure: bool = False  # every registry (the CLI's --insecure)
    ca_file: Path | None = None
    certs_dirs: tuple[Path, ...] = CERTS_DIRS
    loopback_insecure: bool = True

    @classmethod
    def load(cls, data_root: Path, *, insecure: bool = False, ca_file: Path | None = None) -> ClientSettings:
        doc: dict = {}
        path = data_root / "registries.json"
        if path.exists():
            try:
                doc = json.loads(path.read_text())
            except ValueError as e:
                raise InvalidArgument(f"registry settings {path}: not valid JSON ({e})") from None
        env_insecure = [h for h in os.environ.get("DOCKYARD_INSECURE_REGISTRIES", "").split(",") if h]
        env_mirrors = [m for m in os.environ.get("DOCKYARD_REGISTRY_MIRRORS", "").split(",") if m]
        return cls(set(doc.get("insecure-registries", [])) | set(env_insecure),
                   [*env_mirrors, *doc.get("registry-mirrors", [])], insecure, ca_file,
                   loopback_insecure=bool(doc.get("loopback-insecure", True)))

    def is_insecure(self, domain: str) -> bool:
        if self.insecure or domain in self.insecure_registries:
            return True
        host = domain.rsplit(":", 1)[0] if domain.count(":") == 1 or "]" in domain else domain
        host = host.strip("[]")
        if not self.loopback_insecure:
            return False
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def ssl_context(self, domain: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if self.ca_file:
            ctx.load_verify_locations(self.ca_file)
        for base in self.certs_dirs:
            folder = base / domain
            if folder.is_dir():
                for crt in sorted(folder.glob("*.crt")):
                    ctx.load_verify_locations(crt)
        return ctx
