"""The ``docker save`` archive: ``manifest.json`` naming each image's config, layers and RepoTags.

We write the format docker itself writes since version 25: an OCI layout (``oci-layout``,
``index.json``, ``blobs/``) plus ``manifest.json`` and ``repositories`` whose paths point into
``blobs/``.  Older docker releases load it too (their loader detects layer compression), and
skopeo's ``docker-archive:`` transport reads it.  Layers are stored as they are in the content
store (usually gzip) rather than decompressed, so saving is a copy, not a recompression.

Reading also accepts the classic layout (``<id>.json`` configs and ``<id>/layer.tar`` layers,
possibly symlinked); such an image becomes a Docker schema-2 manifest whose layer digests are the
tar digests, so its layers keep the identity docker gave them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument
from dockyard.oci import mediatypes as mt
from dockyard.oci import names
from dockyard.oci.images import ImageStore
from dockyard.oci.layout import ArchiveFiles, Exported, Loaded, Sink, write_layout
from dockyard.oci.manifest import Descriptor, Manifest, config_diff_ids, loads

_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def write_docker_archive(images: ImageStore, items: Iterable[Exported], sink: Sink) -> None:
    items = list(items)
    write_layout(images, items, sink)
    entries: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    for item in items:
        manifest, _ = images.manifest_for(item.record)
        tags = [names.familiar(item.name)] if item.name else []
        entries.append({
            "Config": _blob_path(manifest.config.digest),
            "RepoTags": tags,
            "Layers": [_blob_path(layer.digest) for layer in manifest.layers],
        })
        for tag in tags:
            repo, t = names.split_tag(tag)
            repositories.setdefault(repo, {})[t] = manifest.config.digest.encoded
    sink.add_bytes("manifest.json", json.dumps(entries, separators=(",", ":")).encode())
    if repositories:
        sink.add_bytes("repositories", json.dumps(repositories, separators=(",", ":")).encode())


def repo_tags(files: ArchiveFiles) -> dict[Digest, list[str]]:
    """Config digest → normalised RepoTags, from ``manifest.json`` (empty if there is none)."""
    out: dict[Digest, list[str]] = {}
    for entry in _entries(files):
        config = files.blob(entry["Config"])
        out[config] = [names.normalize(t) for t in entry.get("RepoTags") or []]
    return out


def load_docker(images: ImageStore, files: ArchiveFiles, *, repository: str | None = None) -> list[Loaded]:
    loaded: list[Loaded] = []
    for entry in _entries(files):
        config_digest = files.blob(entry["Config"])
        config = loads(images.content.read_bytes(config_digest), f"image config {entry['Config']}")
        layer_paths = list(entry.get("Layers") or [])
        diff_ids = config_diff_ids(config)
        if len(diff_ids) != len(layer_paths):
            raise InvalidArgument(
                f"docker archive: image config {entry['Config']} lists {len(diff_ids)} layers, "
                f"manifest.json {len(layer_paths)}"
            )
        layers = [_layer_descriptor(images, files.blob(p), diff_id)
                  for p, diff_id in zip(layer_paths, diff_ids, strict=True)]
        manifest = Manifest(
            Descriptor(mt.DOCKER_CONFIG, config_digest, images.content.size(config_digest)),
            layers, mt.DOCKER_MANIFEST,
        )
        digest = images.content.put_bytes(manifest.serialize())
        files.lease.add(digest)
        tags = [names.normalize(t) for t in entry.get("RepoTags") or []]
        if not tags and repository:
            tags = [names.normalize(repository)]
        rec = images.add(digest, mt.DOCKER_MANIFEST)
        for tag in tags:
            images.tag(tag, digest, mt.DOCKER_MANIFEST)
        loaded.append(Loaded(digest, mt.DOCKER_MANIFEST, tags[0] if tags else None, rec.id))
    return loaded


def _layer_descriptor(images: ImageStore, digest: Digest, diff_id: Digest) -> Descriptor:
    with images.content.open(digest) as f:
        head = f.read(4)
    compression = next((c for m, c in _MAGIC.items() if head.startswith(m)), "none")
    if compression == "none" and digest != diff_id:
        raise InvalidArgument(f"docker archive: layer {digest} does not match its diff ID {diff_id}")
    return Descriptor(mt.layer_type(compression, docker=True), digest, images.content.size(digest))


def _entries(files: ArchiveFiles) -> list[dict[str, Any]]:
    if "manifest.json" not in files.docs:
        return []
    try:
        entries = json.loads(files.docs["manifest.json"])
    except ValueError as e:
        raise InvalidArgument(f"docker archive: manifest.json is not JSON ({e})") from e
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "Config" in e for e in entries):
        raise InvalidArgument("docker archive: manifest.json must be a list of {Config, RepoTags, Layers}")
    return entries


def _blob_path(digest: Digest) -> str:
    return f"blobs/{digest.algorithm}/{digest.encoded}"
