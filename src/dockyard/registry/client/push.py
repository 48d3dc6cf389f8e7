"""``dockyard push``: image store → registry.

For each manifest (an index's children first, then the index): every blob is checked with
``HEAD`` and skipped if the registry has it; otherwise it is mounted from another repository of the
same registry that the image is also named in (``POST ?mount=&from=``), or uploaded — in one
``PUT`` (``POST`` then ``PUT ?digest=`` with the body) or, given a chunk size, in ``PATCH`` chunks
with ``Content-Range``.  A transfer cut off half-way asks the upload's status and continues from
the registry's offset.  The manifest is ``PUT`` last, so the tag appears only once everything it
names is there.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from dockyard.base.digest import Digest
from dockyard.base.errors import FailedPrecondition, InvalidArgument, Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore
from dockyard.oci.manifest import Descriptor, parse_index, parse_manifest
from dockyard.oci.names import Reference
from dockyard.oci.names import parse as parse_reference
from dockyard.registry.client.auth import repo_scope
from dockyard.registry.client.blobio import file_slice
from dockyard.registry.client.credentials import Credentials
from dockyard.registry.client.progress import Progress
from dockyard.registry.client.settings import ClientSettings
from dockyard.registry.client.transport import RegistrySession, error_for

RETRIES = 3


@dataclass(frozen=True, slots=True)
class PushResult:
    name: str
    digest: Digest
    size: int
    uploaded: int  # blobs sent (the rest existed or were mounted)


class Pusher:
    def __init__(self, reg: RegistrySession, ref: Reference, content: ContentStore, progress: Progress, *,
                 mount_from: list[str], chunk_size: int | None, concurrency: int = 3) -> None:
        self.reg, self.ref, self.content, self.progress = reg, ref, content, progress
        self.mount_from = mount_from
        self.chunk_size = chunk_size
        self.scopes = (repo_scope(ref.path, "pull", "push"), *(repo_scope(m, "pull") for m in mount_from))
        self.limit = asyncio.Semaphore(concurrency)
        self.what = f'image "{ref.familiar()}"'
        self.uploaded = 0

    def _blob_url(self, digest: Digest) -> str:
        return f"/v2/{self.ref.path}/blobs/{digest}"

    async def blob(self, desc: Descriptor) -> None:
        key = desc.digest.encoded[:12]
        async with self.limit:
            async with self.reg.request("HEAD", self._blob_url(desc.digest), scopes=self.scopes) as resp:
                if resp.status == 200:
                    self.progress.done(key, "Layer already exists")
                    return
            location = await self._start(desc, key)
            if location is None:
                return
            self.progress.start(key, "Pushing", desc.size)
            await self._upload(desc, key, location)
            self.uploaded += 1
            self.progress.done(key, "Pushed")

    async def _start(self, desc: Descriptor, key: str) -> str | None:
        """POST an upload (trying mounts first); None when a mount made the upload unnecessary."""
        for source in self.mount_from:
            query = f"?mount={desc.digest}&from={quote(source)}"
            async with self.reg.request("POST", f"/v2/{self.ref.path}/blobs/uploads/{query}",
                                        scopes=self.scopes) as resp:
                if resp.status == 201:
                    self.progress.done(key, f"Mounted from {source}")
                    return None
                if resp.status == 202 and resp.headers.get("Location"):
                    return resp.headers["Location"]
        async with self.reg.request("POST", f"/v2/{self.ref.path}/blobs/uploads/", scopes=self.scopes) as resp:
            if resp.status != 202 or "Location" not in resp.headers:
                raise await error_for(resp, f"{self.what}: starting upload of {desc.digest}", domain=self.ref.domain)
            return resp.headers["Location"]

    async def _upload(self, desc: Descriptor, key: str, location: str) -> None:
        offset = 0
        for attempt in range(RETRIES):
            try:
                await self._send(desc, key, location, offset)
                return
            except (Unavailable, aiohttp.ClientError, OSError, TimeoutError) as e:
                if attempt == RETRIES - 1:
                    raise Unavailable(f"{self.what}: upload of {desc.digest} failed ({e})",
                                      hint="run the push again") from e
                location, offset = await self._status(location)
                self.progress.start(key, f"Resuming at {offset}", desc.size)

    async def _status(self, location: str) -> tuple[str, int]:
        async with self.reg.request("GET", location, scopes=self.scopes) as resp:
            if resp.status != 204:
                raise await error_for(resp, f"{self.what}: upload status", domain=self.ref.domain)
            last = int(resp.headers.get("Range", "0-0").split("-")[-1])
            return resp.headers.get("Location", location), last + 1 if last else 0

    async def _send(self, desc: Descriptor, key: str, location: str, offset: int) -> None:
        path = self.content.path(desc.digest)
        advance = lambda n: self.progress.advance(key, n)  # noqa: E731
        step = self.chunk_size or desc.size
        while offset < desc.size and (self.chunk_size or offset):
            # chunked mode, or resuming after a cut: PATCH the rest with its Content-Range
            n = min(step if self.chunk_size else desc.size - offset, desc.size - offset)
            headers = {"Content-Type": "application/octet-stream", "Content-Length": str(n),
                       "Content-Range": f"{offset}-{offset + n - 1}"}
            async with self.reg.request("PATCH", location, scopes=self.scopes, replayable=False,
                                        data=file_slice(path, offset, n, advance), headers=headers) as resp:
                if resp.status != 202:
                    raise await error_for(resp, f"{self.what}: uploading {desc.digest}", domain=self.ref.domain)
                location = resp.headers.get("Location", location)
            offset += n
        rest = desc.size - offset
        url = location + ("&" if "?" in location else "?") + f"digest={desc.digest}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(rest)}
        body = file_slice(path, offset, rest, advance) if rest else b""
        async with self.reg.request("PUT", url, scopes=self.scopes, replayable=not rest, data=body,
                                    headers=headers) as resp:
            if resp.status != 201:
                raise await error_for(resp, f"{self.what}: committing {desc.digest}", domain=self.ref.domain)

    async def manifest(self, body: bytes, media_type: str, reference: str) -> None:
        async with self.reg.request("PUT", f"/v2/{self.ref.path}/manifests/{reference}", scopes=self.scopes,
                                    data=body, headers={"Content-Type": media_type}) as resp:
            if resp.status != 201:
                raise await error_for(resp, f"{self.what}: manifest", domain=self.ref.domain)

    async def tree(self, digest: Digest, media_type: str, reference: str) -> None:
        body = self.content.read_bytes(digest)
        if media_type in mt.INDEXES:
            for child in parse_index(body).manifests:
                if not self.content.has(child.digest):
                    raise FailedPrecondition(
                        f"{self.what}: index lists {child.digest} ({child.platform}) which is not stored locally; "
                        "pull it for all platforms or push the platform image")
                await self.tree(child.digest, child.media_type or mt.OCI_MANIFEST, str(child.digest))
        else:
            manifest = parse_manifest(body)
            for d in [*manifest.layers, manifest.config]:
                if not self.content.has(d.digest):
                    raise FailedPrecondition(f"{self.what}: blob {d.digest} is not in the content store")
            await asyncio.gather(*(self.blob(d) for d in [*manifest.layers, manifest.config]))
        await self.manifest(body, media_type, reference)


def mount_sources(names: tuple[str, ...], ref: Reference) -> list[str]:
    """Other repositories of the same registry that hold this image: candidates for a mount."""
    out = []
    for name in names:
        try:
            other = parse_reference(name)
        except InvalidArgument:  # a stored name we cannot parse is just not a candidate
            continue
        if other.domain == ref.domain and other.path != ref.path and other.path not in out:
            out.append(other.path)
    return out


async def push(ref: Reference, *, images: ImageStore, settings: ClientSettings, credentials: Credentials | None,
               progress: Progress, source: str | None = None, chunk_size: int | None = None) -> PushResult:
    record = images.resolve(source or str(ref))
    async with RegistrySession(ref.domain, settings=settings, credentials=credentials) as reg:
        pusher = Pusher(reg, ref, images.content, progress, mount_from=mount_sources(record.names, ref),
                        chunk_size=chunk_size)
        progress.message(f"The push refers to repository [{ref.name}]")
        await pusher.tree(record.digest, record.media_type, ref.reference)
    size = images.content.size(record.digest)
    progress.message(f"{ref.reference}: digest: {record.digest} size: {size}")
    return PushResult(ref.familiar(), record.digest, size, pusher.uploaded)
