"""Blob uploads: ``POST``/``PATCH``/``PUT``/``GET``/``DELETE /v2/<name>/blobs/uploads/…``.

An upload session is a content-store ingest whose ref is ``registry-upload-<uuid>``: the bytes a
client sends land in the content store's ingest area, hashed as they arrive, and ``PUT ?digest=``
commits them as the blob the engine will run from — there is no second copy.  Sessions are listed
in SQLite and the ingest survives a server restart, so a client that lost its connection asks
``GET`` for the offset (``Range: 0-<last>``) and continues with ``PATCH`` from there.
"""

from __future__ import annotations

import asyncio
import re
import uuid as uuidlib

from aiohttp import web

from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict
from dockyard.oci.content import ContentWriter, DigestMismatch
from dockyard.registry.server.context import WRITE_CHUNK, Registry, parse_digest, registry, repo_name
from dockyard.registry.server.errors import RegistryError

_UUID = re.compile(r"^[a-f0-9]{32}$")
_CONTENT_RANGE = re.compile(r"^(?:bytes[ =])?(\d+)-(\d+)(?:/(?:\d+|\*))?$")


def _ref(uuid: str) -> str:
    return f"registry-upload-{uuid}"


def _upload_headers(repo: str, uuid: str, offset: int) -> dict[str, str]:
    return {
        "Location": f"/v2/{repo}/blobs/uploads/{uuid}",
        "Docker-Upload-UUID": uuid,
        "Range": f"0-{max(offset - 1, 0)}",
    }


def _blob_created(repo: str, digest: Digest) -> web.Response:
    return web.Response(status=201, headers={
        "Location": f"/v2/{repo}/blobs/{digest}", "Docker-Content-Digest": str(digest)})


async def pump(request: web.Request, writer: ContentWriter) -> None:
    """Stream the request body into *writer*; bytes received before a disconnect are kept."""
    buf = bytearray()
    try:
        async for chunk in request.content.iter_any():
            buf += chunk
            if len(buf) >= WRITE_CHUNK:
                data, buf = bytes(buf), bytearray()
                await asyncio.to_thread(writer.write, data)
    finally:
        if buf:
            writer.write(bytes(buf))


def _writer(reg: Registry, uuid: str) -> ContentWriter:
    w = reg.writers.get(uuid)
    if w is None:
        try:
            w = reg.writers[uuid] = reg.content.writer(_ref(uuid))
        except Conflict as e:
            raise RegistryError("BLOB_UPLOAD_INVALID", str(e)) from None
    return w


def _session(request: web.Request, name: str, uuid: str) -> tuple[Registry, str]:
    reg = registry(request)
    repo = repo_name(name)
    if not _UUID.match(uuid) or reg.state.upload_repo(uuid) != repo:
        raise RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"uuid": uuid})
    return reg, repo


def _lock(reg: Registry, uuid: str) -> asyncio.Lock:
    return reg.locks.setdefault(uuid, asyncio.Lock())


async def _finish(reg: Registry, repo: str, uuid: str, writer: ContentWriter, digest: Digest) -> Digest:
    """Commit the session's ingest as *digest* (verified), link it into *repo*, end the session."""
    reg.writers.pop(uuid, None)
    reg.locks.pop(uuid, None)
    reg.state.end_upload(uuid)
    try:
        if writer.expected is None and digest.algorithm != "sha256":
            await asyncio.to_thread(_commit_other_algorithm, reg, writer, digest)
        else:
            await asyncio.to_thread(writer.commit, digest)
    except DigestMismatch as e:
        raise RegistryError("DIGEST_INVALID", str(e), detail={"digest": str(digest)}) from None
    reg.state.link_blob(repo, str(digest))
    return digest


def _commit_other_algorithm(reg: Registry, writer: ContentWriter, digest: Digest) -> None:
    # The session hashed with sha256 (the digest was unknown until now); verify the sha512 claim by
    # re-reading the committed file, keep it under that name and drop the sha256-named copy.
    interim = writer.digest()
    had = reg.content.has(interim)
    writer.commit()
    try:
        with reg.content.open(interim) as f:
            reg.content.ingest(f, expected=digest)
    finally:
        if not had:
            reg.content.delete(interim)


async def start(request: web.Request, name: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    q = request.query
    if "mount" in q:
        mounted = _mount(reg, repo, q["mount"], q.get("from", ""))
        if mounted is not None:
            return _blob_created(repo, mounted)
    uuid = uuidlib.uuid4().hex
    reg.state.start_upload(uuid, repo)
    if "digest" not in q:
        return web.Response(status=202, headers=_upload_headers(repo, uuid, 0))
    digest = parse_digest(q["digest"])
    try:
        writer = reg.content.writer(_ref(uuid), expected=digest)
    except Conflict as e:
        raise RegistryError("BLOB_UPLOAD_INVALID", str(e)) from None
    try:
        await pump(request, writer)
    except BaseException:
        writer.abort()
        reg.state.end_upload(uuid)
        raise
    return _blob_created(repo, await _finish(reg, repo, uuid, writer, digest))


def _mount(reg: Registry, repo: str, digest_text: str, source: str) -> Digest | None:
    """Link a blob already in *source* into *repo*; None means fall back to a plain upload."""
    digest = parse_digest(digest_text)
    if not source or not reg.state.blob_linked(source, str(digest)) or not reg.content.has(digest):
        return None
    reg.state.link_blob(repo, str(digest))
    return digest


async def patch(request: web.Request, name: str, uuid: str) -> web.Response:
    reg, repo = _session(request, name, uuid)
    async with _lock(reg, uuid):
        writer = _writer(reg, uuid)
        _check_range(request, writer, repo, uuid)
        await pump(request, writer)
        return web.Response(status=202, headers=_upload_headers(repo, uuid, writer.offset))


def _check_range(request: web.Request, writer: ContentWriter, repo: str, uuid: str) -> None:
    """A chunk must start where the session stands; anything else is 416 and changes nothing."""
    crange = request.headers.get("Content-Range")
    if not crange:
        return
    m = _CONTENT_RANGE.match(crange.strip())
    if m is None or int(m.group(1)) != writer.offset or int(m.group(2)) < int(m.group(1)):
        raise RegistryError("RANGE_INVALID", status=416, detail={"offset": writer.offset},
                            headers=_upload_headers(repo, uuid, writer.offset))


async def put(request: web.Request, name: str, uuid: str) -> web.Response:
    reg, repo = _session(request, name, uuid)
    if "digest" not in request.query:
        raise RegistryError("DIGEST_INVALID", "digest query parameter missing")
    digest = parse_digest(request.query["digest"])
    async with _lock(reg, uuid):
        writer = _writer(reg, uuid)
        _check_range(request, writer, repo, uuid)
        await pump(request, writer)
        return _blob_created(repo, await _finish(reg, repo, uuid, writer, digest))


async def status(request: web.Request, name: str, uuid: str) -> web.Response:
    reg, repo = _session(request, name, uuid)
    async with _lock(reg, uuid):
        offset = _writer(reg, uuid).offset
    return web.Response(status=204, headers=_upload_headers(repo, uuid, offset))


async def cancel(request: web.Request, name: str, uuid: str) -> web.Response:
    reg, _ = _session(request, name, uuid)
    async with _lock(reg, uuid):
        _writer(reg, uuid).abort()
        reg.writers.pop(uuid, None)
        reg.state.end_upload(uuid)
    reg.locks.pop(uuid, None)
    return web.Response(status=204)
