"""``dockyard pull``: registry → content store → image store.

Steps: resolve the reference to a manifest (``Accept`` lists OCI and Docker schema-2 manifests and
indexes); for an index pick the platform's manifest (an error lists the platforms there are);
download the config and layers in parallel, skipping blobs already in the content store; each
download is a content-store ingest keyed ``pull-<digest>`` that resumes with an HTTP ``Range``
request after a dropped connection (or an interrupted earlier pull), and commits only when size
and digest match.  The manifest goes into the content store last and the name is tagged in the
image store, so a half-done pull never leaves a name pointing at missing layers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp

from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict, InvalidArgument, Unavailable
from dockyard.oci import mediatypes as mt
from dockyard.oci.content import ContentStore, DigestMismatch
from dockyard.oci.images import ImageStore
from dockyard.oci.manifest import Descriptor, Platform, parse_index, parse_manifest, select_platform
from dockyard.oci.names import Reference
from dockyard.registry.client.auth import repo_scope
from dockyard.registry.client.blobio import body_into
from dockyard.registry.client.credentials import Credentials
from dockyard.registry.client.progress import Progress
from dockyard.registry.client.settings import ClientSettings
from dockyard.registry.client.transport import RegistrySession, error_for

ACCEPT = ", ".join([mt.OCI_INDEX, mt.DOCKER_MANIFEST_LIST, mt.OCI_MANIFEST, mt.DOCKER_MANIFEST])
MANIFEST_LIMIT = 4 << 20
RETRIES = 5


@dataclass(frozen=True, slots=True)
class PullResult:
    name: str  # the familiar name tagged, e.g. "busybox:latest"
    digest: Digest  # the manifest that was tagged
    media_type: str
    top_digest: Digest  # what the reference resolved to (an index, or the same manifest)
    downloaded: int  # blobs fetched (the rest were already present)


class Puller:
    def __init__(self, reg: RegistrySession, ref: Reference, content: ContentStore, progress: Progress,
                 *, concurrency: int = 3) -> None:
        self.reg, self.ref, self.content, self.progress = reg, ref, content, progress
        self.scopes = (repo_scope(ref.path, "pull"),)
        self.limit = asyncio.Semaphore(concurrency)
        self.what = f'image "{ref.familiar()}"'

    async def manifest(self, reference: str) -> tuple[bytes, str, Digest]:
        path = f"/v2/{self.ref.path}/manifests/{reference}"
        async with self.reg.request("GET", path, scopes=self.scopes, headers={"Accept": ACCEPT}) as resp:
            if resp.status != 200:
                raise await error_for(resp, self.what, domain=self.ref.domain)
            body = await resp.content.read(MANIFEST_LIMIT + 1)
            media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
            header = resp.headers.get("Docker-Content-Digest")
        if len(body) > MANIFEST_LIMIT:
            raise InvalidArgument(f"{self.what}: manifest larger than {MANIFEST_LIMIT} bytes; refused")
        want = Digest.parse(reference) if ":" in reference else (Digest.parse(header) if header else None)
        digest = Digest.from_bytes(body, want.algorithm if want else "sha256")
        if want is not None and digest != want:
            raise DigestMismatch(f"{self.what}: manifest is {digest}, registry said {want}; refused")
        if media_type not in mt.MANIFESTS | mt.INDEXES:
            from dockyard.oci.manifest import detect_media_type, loads

            media_type = detect_media_type(loads(body, "manifest"))
        return body, media_type, digest

    async def blob(self, desc: Descriptor) -> bool:
        """Fetch one blob into the content store; False if it was already there."""
        key = desc.digest.encoded[:12]
        if self.content.has(desc.digest):
            self.progress.done(key, "Already exists")
            return False
        async with self.limit:
            self.progress.start(key, "Downloading", desc.size)
            failures = 0
            while True:
                try:
                    if await self._attempt(desc, key):
                        break
                except Conflict:  # another pull is fetching the same blob: let it finish
                    await asyncio.sleep(0.2)
                    if self.content.has(desc.digest):
                        break
                except (TimeoutError, Unavailable, aiohttp.ClientError, OSError) as e:
                    failures += 1
                    if failures == RETRIES:
                        raise Unavailable(f"{self.what}: blob {desc.digest} failed after {RETRIES} tries ({e})",
                                          hint="run the pull again; it resumes where it stopped") from e
                    await asyncio.sleep(0.5 * 2 ** failures)
            self.progress.done(key, "Pull complete")
        return True

    async def _attempt(self, desc: Descriptor, key: str) -> bool:
        path = f"/v2/{self.ref.path}/blobs/{desc.digest}"
        with self.content.writer(f"pull-{desc.digest}", expected=desc.digest, size=desc.size) as w:
            offset = w.offset
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            if offset:
                self.progress.start(key, f"Resuming at {offset}", desc.size)
                self.progress.advance(key, offset)
            async with self.reg.request("GET", path, scopes=self.scopes, headers=headers) as resp:
                if resp.status == 200 and offset:
                    w.abort()  # the registry ignored our range: start again from byte 0
                    return False
                if resp.status not in (200, 206):
                    raise await error_for(resp, f"{self.what}: blob {desc.digest}", domain=self.ref.domain)
                await body_into(resp, w, lambda n: self.progress.advance(key, n))
            self.progress.start(key, "Verifying Checksum")
            try:
                await asyncio.to_thread(w.commit)
            except DigestMismatch as e:
                raise DigestMismatch(f"{self.what}: blob {desc.digest} does not match its digest ({e}); "
                                     "nothing was stored") from None
        return True


async def pull(ref: Reference, *, images: ImageStore, settings: ClientSettings, credentials: Credentials | None,
               progress: Progress, platform: Platform | None = None, concurrency: int = 3) -> PullResult:
    async with RegistrySession(ref.domain, settings=settings, credentials=credentials, use_mirrors=True) as reg:
        puller = Puller(reg, ref, images.content, progress, concurrency=concurrency)
        body, media_type, top = await puller.manifest(ref.reference)
        digest = top
        if media_type in mt.INDEXES:
            images.content.put_bytes(body, expected=top)
            chosen = select_platform(parse_index(body), platform)
            body, media_type, digest = await puller.manifest(str(chosen.digest))
        if media_type not in mt.MANIFESTS:
            raise InvalidArgument(f"{puller.what}: unsupported manifest type {media_type!r}")
        manifest = parse_manifest(body)
        if ref.tag:
            progress.message(f"{ref.tag}: Pulling from {ref.familiar().rsplit(':', 1)[0].split('@')[0]}")
        results = await asyncio.gather(*(puller.blob(d) for d in [*manifest.layers, manifest.config]))
        images.content.put_bytes(body, expected=digest)
    name = ref.familiar() if ref.tag else None
    if name:
        images.tag(str(ref.with_tag(ref.tag or "latest")), digest, media_type)
    else:
        images.add(digest, media_type)
    progress.message(f"Digest: {top}")
    progress.message(f"Status: Downloaded newer image for {ref.familiar()}" if any(results)
                     else f"Status: Image is up to date for {ref.familiar()}")
    return PullResult(ref.familiar(), digest, media_type, top, sum(results))
