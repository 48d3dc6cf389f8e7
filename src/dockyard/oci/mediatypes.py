"""Media types of the OCI image spec and of Docker's schema 2, and how they relate.

Both families are understood everywhere: a Docker manifest list is read like an OCI index, a
Docker ``rootfs.diff.tar.gzip`` layer like an OCI ``tar+gzip`` layer.  dockyard writes OCI types.
"""

from __future__ import annotations

# OCI image spec v1
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"

# Docker image manifest v2, schema 2
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_ZSTD = "application/vnd.docker.image.rootfs.diff.tar.zstd"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
CONFIGS = frozenset({OCI_CONFIG, DOCKER_CONFIG})

_COMPRESSION = {
    OCI_LAYER: "none",
    OCI_LAYER_NONDIST: "none",
    DOCKER_LAYER: "none",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_NONDIST_GZIP: "gzip",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_LAYER_FOREIGN: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    OCI_LAYER_NONDIST_ZSTD: "zstd",
    DOCKER_LAYER_ZSTD: "zstd",
}
LAYERS = frozenset(_COMPRESSION)

_OCI_LAYER_FOR = {"none": OCI_LAYER, "gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD}
_DOCKER_LAYER_FOR = {"none": DOCKER_LAYER, "gzip": DOCKER_LAYER_GZIP, "zstd": DOCKER_LAYER_ZSTD}


def is_manifest(media_type: str) -> bool:
    return media_type in MANIFESTS


def is_index(media_type: str) -> bool:
    return media_type in INDEXES


def is_layer(media_type: str) -> bool:
    return media_type in LAYERS


def layer_compression(media_type: str) -> str:
    """``"none"``, ``"gzip"`` or ``"zstd"``; unknown layer types are taken as gzip (docker's default)."""
    return _COMPRESSION.get(media_type, "gzip")


def layer_type(compression: str, *, docker: bool = False) -> str:
    table = _DOCKER_LAYER_FOR if docker else _OCI_LAYER_FOR
    try:
        return table[compression]
    except KeyError:
        raise ValueError(f"compression {compression!r}: use none, gzip or zstd") from None


def to_oci(media_type: str) -> str:
    """The OCI equivalent of a Docker media type (OCI and unknown types pass through)."""
    if media_type == DOCKER_MANIFEST:
        return OCI_MANIFEST
    if media_type == DOCKER_MANIFEST_LIST:
        return OCI_INDEX
    if media_type == DOCKER_CONFIG:
        return OCI_CONFIG
    if media_type in (DOCKER_LAYER, DOCKER_LAYER_GZIP, DOCKER_LAYER_ZSTD):
        return _OCI_LAYER_FOR[_COMPRESSION[media_type]]
    if media_type == DOCKER_LAYER_FOREIGN:
        return OCI_LAYER_NONDIST_GZIP
    return media_type
