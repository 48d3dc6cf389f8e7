"""Manifests: ``GET``/``HEAD``/``PUT``/``DELETE /v2/<name>/manifests/<tag-or-digest>``.

A manifest is stored as a blob in the content store (so the engine can read the very bytes that
were pushed) and recorded in SQLite with its media type, what it refers to, its subject and
artifact type (for the referrers API).  A PUT is checked before anything is stored: size limit,
JSON, media type, descriptors, every referenced blob or child manifest present in the repository,
and the digest in the URL if one was given.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.registry.server.context import Registry, parse_digest, registry, repo_name
from dockyard.registry.server.errors import RegistryError
from dockyard.registry.server.state import ManifestRow

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEXES = {OCI_INDEX, DOCKER_LIST}
MANIFESTS = {OCI_MANIFEST, DOCKER_MANIFEST}
_FOREIGN = re.compile(r"nondistributable|foreign")
_TAG = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")


def _resolve(reg: Registry, repo: str, ref: str) -> ManifestRow:
    digest = str(parse_digest(ref)) if ":" in ref else reg.state.resolve_tag(repo, _tag(ref))
    row = reg.state.manifest(repo, digest) if digest else None
    if row is None:
        if not reg.state.repo_exists(repo):
            raise RegistryError("NAME_UNKNOWN", detail={"name": repo})
        raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": ref})
    return row


def _tag(ref: str) -> str:
    if not _TAG.match(ref):
        raise RegistryError("MANIFEST_INVALID", f"invalid tag {ref!r}", detail={"tag": ref})
    return ref


def _negotiate(request: web.Request, row: ManifestRow) -> None:
    """Refuse only a client that lists manifest types and not this one (an old docker asking for
    Docker types only, say): it could not parse what we have.  Wildcards or no Accept take anything."""
    accepted = {part.split(";")[0].strip() for part in request.headers.getall("Accept", []) for part in part.split(",")}
    listed = {a for a in accepted if a in MANIFESTS | INDEXES}
    if listed and row.media_type not in accepted and not accepted & {"*/*", "application/*"}:
        raise RegistryError("MANIFEST_UNKNOWN", f"manifest is {row.media_type}, not one of the accepted types",
                            detail={"mediaType": row.media_type, "accepted": sorted(listed)})


async def get(request: web.Request, name: str, ref: str) -> web.Response:
    reg = registry(request)
    row = _resolve(reg, repo_name(name), ref)
    _negotiate(request, row)
    headers = {"Docker-Content-Digest": row.digest, "ETag": f'"{row.digest}"'}
    if request.method == "HEAD":
        headers["Content-Length"] = str(row.size)
        return web.Response(status=200, headers={**headers, "Content-Type": row.media_type})
    body = reg.content.read_bytes(Digest.parse(row.digest), limit=reg.manifest_limit)
    return web.Response(status=200, body=body, headers={**headers, "Content-Type": row.media_type})


async def delete(request: web.Request, name: str, ref: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    if ":" in ref:
        found = reg.state.delete_manifest(repo, str(parse_digest(ref)))
    else:
        found = reg.state.delete_tag(repo, _tag(ref))
    if not found:
        raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": ref})
    return web.Response(status=202)


async def _read_limited(request: web.Request, limit: int) -> bytes:
    too_big = RegistryError("SIZE_INVALID", f"manifest larger than {limit} bytes", status=413,
                            detail={"limit": limit})
    if (request.content_length or 0) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


async def put(request: web.Request, name: str, ref: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    tag = None if ":" in ref else _tag(ref)
    # distribution-spec 1.1: PUT by digest may name tags as ?tag= parameters, confirmed in OCI-Tag
    tags = [tag] if tag else [_tag(t) for t in request.query.getall("tag", [])]
    body = await _read_limited(request, reg.manifest_limit)
    doc = _parse(body)
    media_type = _media_type(doc, request.headers.get("Content-Type", ""))
    refs = _check_references(reg, repo, doc, media_type)
    if tag is None:
        want = parse_digest(ref)
        digest = Digest.from_bytes(body, want.algorithm)
        if digest != want:
            raise RegistryError("DIGEST_INVALID", f"manifest is {digest}, not {want}", detail={"digest": ref})
    else:
        digest = Digest.from_bytes(body)
    subject = doc.get("subject", {}).get("digest") if isinstance(doc.get("subject"), dict) else None
    reg.content.put_bytes(body, expected=digest)
    reg.state.put_manifest(ManifestRow(
        repo=repo, digest=str(digest), media_type=media_type, size=len(body),
        artifact_type=_artifact_type(doc, media_type), subject=subject,
        annotations=doc.get("annotations") or None, refs=refs), tags)
    headers = {"Location": f"/v2/{repo}/manifests/{digest}", "Docker-Content-Digest": str(digest)}
    if tags and tag is None:
        headers["OCI-Tag"] = ", ".join(tags)
    if subject:
        headers["OCI-Subject"] = subject
    return web.Response(status=201, headers=headers)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise RegistryError("MANIFEST_INVALID", f"manifest is not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
        raise RegistryError("MANIFEST_INVALID", "manifest must be a JSON object with schemaVersion 2")
    return doc


def _media_type(doc: dict[str, Any], content_type: str) -> str:
    declared = doc.get("mediaType")
    header = content_type.split(";")[0].strip()
    if header in MANIFESTS | INDEXES:
        if declared is not None and declared != header:
            raise RegistryError("MANIFEST_INVALID", f"mediaType {declared!r} differs from Content-Type {header!r}")
        return header
    if declared in MANIFESTS | INDEXES:
        return declared
    if declared is None:
        return OCI_INDEX if "manifests" in doc else OCI_MANIFEST
    raise RegistryError("MANIFEST_INVALID", f"unsupported manifest media type {declared or header!r}")


def _descriptor(d: Any, where: str) -> str:
    if not isinstance(d, dict) or not isinstance(d.get("mediaType"), str) or not isinstance(d.get("size"), int):
        raise RegistryError("MANIFEST_INVALID", f"{where}: descriptor needs mediaType, digest and size")
    try:
        return str(Digest.parse(str(d.get("digest"))))
    except InvalidArgument as e:
        raise RegistryError("MANIFEST_INVALID", f"{where}: {e}") from None


def _check_references(reg: Registry, repo: str, doc: dict[str, Any], media_type: str) -> list[str]:
    if media_type in INDEXES:
        children = doc.get("manifests")
        if not isinstance(children, list):
            raise RegistryError("MANIFEST_INVALID", "index needs a manifests list")
        refs = [_descriptor(d, "manifests") for d in children]
        missing = [d for d in refs if reg.state.manifest(repo, d) is None]
    else:
        layers = doc.get("layers")
        if not isinstance(layers, list):
            raise RegistryError("MANIFEST_INVALID", "image manifest needs a layers list")
        refs = [_descriptor(doc.get("config"), "config")] + [_descriptor(d, "layers") for d in layers]
        # Non-distributable (foreign) layers live elsewhere by definition; only the rest must be here.
        foreign = {str(Digest.parse(d["digest"])) for d in layers if _FOREIGN.search(d.get("mediaType", ""))}
        missing = [d for d in refs if d not in foreign and not reg.state.blob_linked(repo, d)]
    if "subject" in doc:
        _descriptor(doc["subject"], "subject")  # may be absent from the registry (spec 1.1)
    if missing:
        raise RegistryError("MANIFEST_BLOB_UNKNOWN", detail={"digest": missing[0]})
    return refs


def _artifact_type(doc: dict[str, Any], media_type: str) -> str | None:
    if isinstance(doc.get("artifactType"), str):
        return doc["artifactType"]
    if media_type in MANIFESTS and isinstance(doc.get("config"), dict):
        return doc["config"].get("mediaType")
    return None


async def referrers(request: web.Request, name: str, digest_text: str) -> web.Response:
    reg = registry(request)
    repo = repo_name(name)
    subject = str(parse_digest(digest_text))
    want = request.query.get("artifactType")
    rows = [r for r in reg.state.referrers(repo, subject) if want is None or r.artifact_type == want]
    entries = []
    for r in rows:
        d: dict[str, Any] = {"mediaType": r.media_type, "digest": r.digest, "size": r.size}
        if r.artifact_type:
            d["artifactType"] = r.artifact_type
        if r.annotations:
            d["annotations"] = r.annotations
        entries.append(d)
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    headers = {"OCI-Filters-Applied": "artifactType"} if want is not None else {}
    return web.Response(status=200, body=json.dumps(body).encode(), content_type=OCI_INDEX, headers=headers)
