"""What every request handler shares: the content store, the registry's SQLite state, settings,
and the upload sessions open in this process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.oci.content import ContentStore, ContentWriter
from dockyard.oci.names import check_repository
from dockyard.registry.server.errors import RegistryError
from dockyard.registry.server.state import RegistryState

#: Manifests above this size are refused, as distribution does (maxManifestBodySize).
MANIFEST_LIMIT = 4 << 20
#: Bytes gathered from the socket before one write+hash in a worker thread (keeps hashing off the
#: event loop and the thread hops rare).
WRITE_CHUNK = 1 << 20

KEY: web.AppKey[Registry] = web.AppKey("registry")


@dataclass
class Registry:
    data_root: Path
    content: ContentStore
    state: RegistryState
    manifest_limit: int = MANIFEST_LIMIT
    writers: dict[str, ContentWriter] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @classmethod
    def open(cls, data_root: Path) -> Registry:
        return cls(data_root, ContentStore(data_root / "content"), RegistryState(data_root / "registry.db"))

    def close(self) -> None:
        for w in self.writers.values():
            w.close()  # keeps partial data: the client may resume against the next server
        self.writers.clear()
        self.state.close()


def registry(request: web.Request) -> Registry:
    return request.app[KEY]


def repo_name(name: str) -> str:
    try:
        return check_repository(name)
    except InvalidArgument as e:
        raise RegistryError("NAME_INVALID", detail={"name": name, "reason": str(e)}) from None


def parse_digest(text: str, *, code: str = "DIGEST_INVALID") -> Digest:
    try:
        return Digest.parse(text)
    except InvalidArgument as e:
        raise RegistryError(code, str(e), detail={"digest": text}) from None
