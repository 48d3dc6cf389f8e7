"""Blob reads and deletes: ``HEAD``/``GET``/``DELETE /v2/<name>/blobs/<digest>``.

A blob is served only from repositories it was pushed or mounted into.  ``GET`` is a
``FileResponse`` on the content store's file, so ranges, ``HEAD`` and sendfile(2) come for free and
a 1 GB layer costs no memory.
"""

from __future__ import annotations

from aiohttp import web

from dockyard.registry.server.context import parse_digest, registry, repo_name
from dockyard.registry.server.errors import RegistryError


def _locate(request: web.Request, name: str, digest_text: str):
    reg = registry(request)
    repo = repo_name(name)
    digest = parse_digest(digest_text)
    if not reg.state.blob_linked(repo, str(digest)) or not reg.content.has(digest):
        raise RegistryError("BLOB_UNKNOWN", detail={"digest": str(digest)})
    return reg, repo, digest


async def get_blob(request: web.Request, name: str, digest_text: str) -> web.StreamResponse:
    reg, _, digest = _locate(request, name, digest_text)
    headers = {
        "Docker-Content-Digest": str(digest),
        "Content-Type": "application/octet-stream",
        "ETag": f'"{digest}"',
        "Cache-Control": "max-age=31536000",
    }
    return web.FileResponse(reg.content.path(digest), headers=headers, chunk_size=1 << 20)


async def delete_blob(request: web.Request, name: str, digest_text: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    digest = parse_digest(digest_text)
    if not reg.state.unlink_blob(repo, str(digest)):
        raise RegistryError("BLOB_UNKNOWN", detail={"digest": str(digest)})
    return web.Response(status=202, headers={"Docker-Content-Digest": str(digest)})
