"""The OCI image layout (a directory) and the oci-archive (the same files in a tar): export and import.

A layout is ``oci-layout``, ``index.json`` and ``blobs/<alg>/<hex>``.  Our content store already
keeps blobs under that very name, so exporting to a directory hard-links blobs when it can and
copies them (streamed) when it cannot; exporting to a tar streams each blob into the archive.
Nothing is held whole in memory except the small JSON documents.

Names travel as annotations on the ``index.json`` entries: ``org.opencontainers.image.ref.name``
holds the tag (what ``skopeo inspect oci:DIR:TAG`` looks up) and ``io.containerd.image.name``
the full name (what containerd and docker write), so a save/load round trip keeps names.

Reading goes through :class:`ArchiveFiles`, one view over a directory or a streamed tar, used by
this module and by :mod:`dockyard.oci.dockerarchive`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from dockyard.base.digest import Digest, is_digest
from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.base.fsutil import atomic_write
from dockyard.oci import mediatypes as mt
from dockyard.oci import names
from dockyard.oci.content import ContentStore, Lease
from dockyard.oci.images import ImageRecord, ImageStore
from dockyard.oci.manifest import Descriptor, Index, Manifest, loads, parse, select_platform

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
LAYOUT_FILE = "oci-layout"
LAYOUT_DOC = b'{"imageLayoutVersion":"1.0.0"}'
_SMALL = 4 << 20  # JSON documents read whole; anything bigger in an archive is a blob


@dataclass(frozen=True, slots=True)
class Exported:
    """One image to write: its record and the full name to give it (None for untagged)."""

    record: ImageRecord
    name: str | None


@dataclass(frozen=True, slots=True)
class Loaded:
    digest: Digest
    media_type: str
    name: str | None
    image_id: Digest | None = None


# -- writing ------------------------------------------------------------------------------------

class Sink(Protocol):
    def add_bytes(self, name: str, data: bytes) -> None: ...
    def add_blob(self, content: ContentStore, digest: Digest) -> None: ...
    def close(self) -> None: ...


class DirSink:
    """Writes into a directory, merging with a layout already there (blobs are immutable)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add_bytes(self, name: str, data: bytes) -> None:
        atomic_write(self.root / name, data)

    def add_blob(self, content: ContentStore, digest: Digest) -> None:
        target = self.root / "blobs" / digest.algorithm / digest.encoded
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{digest.encoded}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        try:
            os.link(content.path(digest), tmp)  # same file system: no copy at all
        except OSError:
            with content.open(digest) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
        os.replace(tmp, target)

    def existing_index(self) -> Index | None:
        path = self.root / "index.json"
        return parse_index_file(path.read_bytes()) if path.is_file() else None

    def close(self) -> None:
        pass


class TarSink:
    """Streams an archive: entries are written in order, blobs copied straight from the store."""

    def __init__(self, out: BinaryIO) -> None:
        self._tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._dirs: set[str] = set()
        self._blobs: set[Digest] = set()

    def _mkdirs(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self._dirs:
                self._dirs.add(d)
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                self._tar.addfile(info)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._mkdirs(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        self._tar.addfile(info, io.BytesIO(data))

    def add_blob(self, content: ContentStore, digest: Digest) -> None:
        if digest in self._blobs:
            return
        self._blobs.add(digest)
        name = f"blobs/{digest.algorithm}/{digest.encoded}"
        self._mkdirs(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode = content.size(digest), 0o644
        with content.open(digest) as f:
            self._tar.addfile(info, f)

    def existing_index(self) -> Index | None:
        return None

    def close(self) -> None:
        self._tar.close()


def export_descriptor(images: ImageStore, exp: Exported, lease: Lease) -> Descriptor:
    """The index.json entry for one image: the whole index if all its manifests are present,
    else the host platform's manifest (an index with missing children would not load elsewhere)."""
    rec, content = exp.record, images.content
    digest, media_type = rec.digest, rec.media_type
    if mt.is_index(media_type):
        idx = parse(content.read_bytes(digest), media_type)
        assert isinstance(idx, Index)
        if not all(content.has(d.digest) for d in idx.manifests):
            chosen = select_platform(idx)
            digest, media_type = chosen.digest, chosen.media_type or mt.OCI_MANIFEST
    digest, media_type = oci_equivalent(content, lease, digest, media_type)
    annotations: dict[str, str] = {}
    if exp.name:
        annotations[CONTAINERD_NAME] = exp.name
        annotations[REF_NAME] = names.split_tag(exp.name)[1]
    return Descriptor(media_type, digest, content.size(digest), annotations)


def oci_equivalent(content: ContentStore, lease: Lease, digest: Digest, media_type: str) -> tuple[Digest, str]:
    """An OCI-typed manifest/index for a Docker-typed one (OCI types pass through unchanged).

    A layout's index.json must name OCI types (skopeo skips other entries), so a Docker schema-2
    image gets new manifest bytes on export.  Config and layer blobs are the same, so the image ID
    (config digest) stays; only the manifest digest changes, as it does when skopeo converts.
    """
    if media_type == mt.DOCKER_MANIFEST:
        m = parse(content.read_bytes(digest), media_type)
        assert isinstance(m, Manifest)
        doc: Manifest | Index = Manifest(
            m.config.replace(media_type=mt.OCI_CONFIG),
            [la.replace(media_type=mt.to_oci(la.media_type)) for la in m.layers],
            mt.OCI_MANIFEST, m.annotations, m.subject,
        )
    elif media_type == mt.DOCKER_MANIFEST_LIST:
        idx = parse(content.read_bytes(digest), media_type)
        assert isinstance(idx, Index)
        children = []
        for d in idx.manifests:
            child, child_type = oci_equivalent(content, lease, d.digest, d.media_type) if content.has(
                d.digest) else (d.digest, mt.to_oci(d.media_type))
            children.append(d.replace(digest=child, media_type=child_type, size=_size(content, child, d)))
        doc = Index(children, mt.OCI_INDEX, idx.annotations)
    else:
        return digest, media_type
    body = doc.serialize()
    return content.put_bytes(body, expected=lease.add(Digest.from_bytes(body))), doc.media_type


def _size(content: ContentStore, digest: Digest, d: Descriptor) -> int:
    return content.size(digest) if content.has(digest) else d.size


def write_layout(images: ImageStore, items: Iterable[Exported], sink: Sink) -> list[Descriptor]:
    """Write every blob the images need, then ``index.json`` (last, so a reader never sees an
    index naming blobs that are not there yet)."""
    with images.content.lease() as lease:  # converted manifests are referenced by nothing yet
        entries = [export_descriptor(images, item, lease) for item in items]
        sink.add_bytes(LAYOUT_FILE, LAYOUT_DOC)
        for entry in entries:
            for blob in dict.fromkeys(images.referenced_blobs(entry.digest, entry.media_type)):
                if images.content.has(blob):
                    sink.add_blob(images.content, blob)
        old = sink.existing_index() if isinstance(sink, DirSink) else None
        kept = [d for d in (old.manifests if old else []) if not _replaced(d, entries)]
        sink.add_bytes("index.json", Index(kept + entries).serialize())
        return entries


def _replaced(old: Descriptor, new: list[Descriptor]) -> bool:
    key = old.annotations.get(CONTAINERD_NAME) or old.annotations.get(REF_NAME)
    return any(key and key in (n.annotations.get(CONTAINERD_NAME), n.annotations.get(REF_NAME)) for n in new)


# -- reading ------------------------------------------------------------------------------------

class ArchiveFiles:
    """The files of a layout or archive: small documents in memory, blobs in the content store."""

    def __init__(self, content: ContentStore, lease: Lease) -> None:
        self.content = content
        self.lease = lease
        self.docs: dict[str, bytes] = {}
        self._blobs: dict[str, Digest] = {}
        self._links: dict[str, str] = {}
        self._dir: Path | None = None

    @classmethod
    def from_dir(cls, root: Path, content: ContentStore, lease: Lease) -> ArchiveFiles:
        files = cls(content, lease)
        files._dir = root
        for name in ("oci-layout", "index.json", "manifest.json", "repositories"):
            if (root / name).is_file():
                files.docs[name] = (root / name).read_bytes()
        return files

    @classmethod
    def from_tar(cls, stream: BinaryIO, content: ContentStore, lease: Lease) -> ArchiveFiles:
        files = cls(content, lease)
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    files._take(tar, member)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise InvalidArgument(f"image archive: unreadable tar ({e})") from e
        return files

    def _take(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        name = os.path.normpath(member.name).lstrip("/")
        if name.startswith("..") or name == ".":
            return
        if member.issym() or member.islnk():
            base = os.path.dirname(name) if member.issym() else ""
            self._links[name] = os.path.normpath(os.path.join(base, member.linkname))
            return
        if not member.isfile():
            return
        f = tar.extractfile(member)
        assert f is not None
        expected = _blob_digest(name)
        if (expected is None and name.endswith(".json") and member.size <= _SMALL) or name == "repositories":
            self.docs[name] = f.read()
        else:
            self._blobs[name] = self._ingest(f, expected, member.size)

    def _ingest(self, f: BinaryIO, expected: Digest | None, size: int) -> Digest:
        if expected is not None:
            self.lease.add(expected)
        digest = self.content.ingest(f, expected=expected, size=size)
        return self.lease.add(digest)

    def _local(self, name: str) -> Path | None:
        """The file *name* inside the layout directory; refuses names and symlinks leading out
        of it (a hostile manifest.json must not make us import the host's /etc/shadow)."""
        if self._dir is None:
            return None
        if os.path.isabs(name) or name.split("/")[0] == "..":
            raise InvalidArgument(f"image archive: path {name!r} leaves the archive; refused")
        path = (self._dir / name).resolve()
        if not path.is_relative_to(self._dir.resolve()):
            raise InvalidArgument(f"image archive: {name!r} resolves outside the archive; refused")
        return path if path.is_file() else None

    def doc(self, name: str) -> bytes:
        name = os.path.normpath(self._links.get(name, name))
        if name in self.docs:
            return self.docs[name]
        if (path := self._local(name)) is not None:
            return path.read_bytes()
        digest = self._blobs.get(name) or _blob_digest(name)
        if digest is not None and self.content.has(digest):
            return self.content.read_bytes(digest)
        raise NotFound(f"image archive: {name} is missing")

    def blob(self, name: str) -> Digest:
        """Digest of the file *name*, ingesting it into the content store if it is not there yet."""
        name = os.path.normpath(self._links.get(name, name))
        if name in self._blobs:
            return self._blobs[name]
        if name in self.docs:  # a small JSON file (a classic docker archive's config)
            data = self.docs[name]
            return self.content.put_bytes(data, expected=self.lease.add(Digest.from_bytes(data)))
        expected = _blob_digest(name)
        if expected is not None and self.content.has(expected):
            return self.lease.add(expected)
        path = self._local(name)
        if path is None:
            raise NotFound(f"image archive: blob {name} is missing")
        with open(path, "rb") as f:
            self._blobs[name] = self._ingest(f, expected, path.stat().st_size)
        return self._blobs[name]

    def descriptor_blob(self, d: Descriptor) -> Digest:
        got = self.blob(f"blobs/{d.digest.algorithm}/{d.digest.encoded}")
        if self.content.size(got) != d.size:
            raise InvalidArgument(f"image archive: blob {d.digest} is {self.content.size(got)} bytes, "
                                  f"its descriptor says {d.size}")
        return got


def _blob_digest(name: str) -> Digest | None:
    parts = name.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and is_digest(f"{parts[1]}:{parts[2]}"):
        return Digest(parts[1], parts[2])
    return None


def parse_index_file(data: bytes) -> Index:
    idx = parse(data, mt.OCI_INDEX)
    assert isinstance(idx, Index)
    return idx


def fetch_tree(files: ArchiveFiles, d: Descriptor) -> None:
    """Bring a manifest or index and everything below it into the content store, verified."""
    files.descriptor_blob(d)
    doc = parse(files.content.read_bytes(d.digest), d.media_type or None)
    if isinstance(doc, Index):
        for child in doc.manifests:
            fetch_tree(files, child)
        return
    for blob in (doc.config, *doc.layers):
        files.descriptor_blob(blob)


def load_oci(images: ImageStore, files: ArchiveFiles, *, repository: str | None = None,
             extra_names: dict[Digest, list[str]] | None = None) -> list[Loaded]:
    """Register every image named in ``index.json``; blobs are verified as they are ingested."""
    if LAYOUT_FILE in files.docs:
        version = json.loads(files.docs[LAYOUT_FILE]).get("imageLayoutVersion")
        if version != "1.0.0":
            raise InvalidArgument(f"OCI layout: unsupported imageLayoutVersion {version!r}")
    index = parse_index_file(files.doc("index.json"))
    loaded: list[Loaded] = []
    for d in index.manifests:
        fetch_tree(files, d)
        media_type = d.media_type or loads(files.content.read_bytes(d.digest)).get("mediaType") or mt.OCI_MANIFEST
        wanted = _names_for(d, repository)
        rec = images.add(d.digest, media_type)
        wanted += (extra_names or {}).get(rec.id, [])
        for name in dict.fromkeys(wanted):
            images.tag(name, d.digest, media_type)
        loaded.append(Loaded(d.digest, media_type, wanted[0] if wanted else None, rec.id))
    return loaded


def _names_for(d: Descriptor, repository: str | None) -> list[str]:
    if full := d.annotations.get(CONTAINERD_NAME):
        return [names.normalize(full)]
    ref = d.annotations.get(REF_NAME)
    if not ref:
        return [names.normalize(repository)] if repository else []
    if "/" in ref or ":" in ref:  # a full reference rather than a bare tag
        with contextlib.suppress(InvalidArgument):
            return [names.normalize(ref)]
    if repository:
        return [names.normalize(f"{names.parse(repository).repository}:{ref}")]
    return []
