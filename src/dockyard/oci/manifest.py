"""Typed OCI documents: descriptors, platforms, image manifests, indexes, and image-config helpers.

Parsing accepts both OCI and Docker schema-2 media types; fields we do not model are kept in
``extra`` and written back unchanged, so a manifest read and re-serialised by us keeps its meaning
(its bytes -- and so its digest -- are never re-created: we store and serve the original blob).
"""

from __future__ import annotations

import json
import os

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.base.record import Frozen, Mutable
from dockyard.oci import mediatypes as mt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
         "armv6l": "arm", "i386": "386", "i686": "386", "ppc64le": "ppc64le", "s390x": "s390x",
         "riscv64": "riscv64"}
_OSES = frozenset({"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos",
                   "aix", "plan9", "js", "wasip1", "android", "ios"})


class Platform(Frozen):
    """An image platform (os, architecture, variant), as in an index entry."""

    _fields = ("os", "architecture", "variant", "extra")
    __slots__ = _fields
    _compared = ("os", "architecture", "variant")
    os: str
    architecture: str
    variant: str | None
    extra: dict[str, Any]

    def __init__(self, os: str, architecture: str, variant: str | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        self._set(os=os, architecture=architecture, variant=variant, extra={} if extra is None else extra)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/arm64/v8`` → Platform; without an os (``arm64``, ``arm64/v8``) it means linux."""
        parts = text.strip().split("/")
        if parts[0] not in _OSES:  # "arm64" or "arm64/v8": the os is linux
            parts = ["linux", *parts]
        if len(parts) > 3 or not all(parts):
            raise InvalidArgument(f"platform {text!r}: expected os/arch[/variant], e.g. linux/amd64")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def host(cls) -> Platform:
        machine = os.uname().machine  # what platform.machine() reads, without its import
        arch = _ARCH.get(machine, machine)
        variant = {"armv7l": "v7", "armv6l": "v6"}.get(machine)
        return cls("linux", arch, variant)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Platform:
        extra = {k: v for k, v in d.items() if k not in ("os", "architecture", "variant")}
        return cls(d.get("os", ""), d.get("architecture", ""), d.get("variant") or None, extra)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return {**out, **self.extra}

    def _norm_variant(self) -> str | None:
        # arm64 images usually omit "v8"; treat the two spellings as one.
        if self.architecture == "arm64" and self.variant in (None, "v8"):
            return "v8"
        return self.variant

    def matches(self, want: Platform) -> bool:
        if (self.os, self.architecture) != (want.os, want.architecture):
            return False
        return want.variant is None or self._norm_variant() == want._norm_variant()

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


class Descriptor(Frozen):
    """An OCI descriptor: media type, digest and size of a blob, with annotations."""

    _fields = ("media_type", "digest", "size", "annotations", "platform", "extra")
    __slots__ = _fields
    _compared = ("media_type", "digest", "size", "platform")
    media_type: str
    digest: Digest
    size: int
    annotations: dict[str, str]
    platform: Platform | None
    extra: dict[str, Any]

    def __init__(self, media_type: str, digest: Digest, size: int, annotations: dict[str, str] | None = None,
                 platform: Platform | None = None, extra: dict[str, Any] | None = None) -> None:
        self._set(media_type=media_type, digest=digest, size=size,
                  annotations={} if annotations is None else annotations, platform=platform,
                  extra={} if extra is None else extra)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Descriptor:
        try:
            digest = Digest.parse(d["digest"])
            size = int(d["size"])
            media_type = d.get("mediaType", "")
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidArgument(f"descriptor {d!r}: needs digest and size") from e
        plat = Platform.from_json(d["platform"]) if isinstance(d.get("platform"), dict) else None
        known = ("mediaType", "digest", "size", "annotations", "platform")
        return cls(media_type, digest, size, dict(d.get("annotations") or {}), plat,
                   {k: v for k, v in d.items() if k not in known})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": str(self.digest), "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        return {**out, **self.extra}


class Manifest(Mutable):
    """An image manifest: the config descriptor and the layer descriptors, bottom first."""

    _fields = ("config", "layers", "media_type", "annotations", "subject", "extra")
    __slots__ = _fields

    def __init__(self, config: Descriptor, layers: list[Descriptor], media_type: str = mt.OCI_MANIFEST,
                 annotations: dict[str, str] | None = None, subject: Descriptor | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        self.config = config
        self.layers = layers
        self.media_type = media_type
        self.annotations = {} if annotations is None else annotations
        self.subject = subject
        self.extra = {} if extra is None else extra

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type,
                               "config": self.config.to_json(),
                               "layers": [layer.to_json() for layer in self.layers]}
        if self.subject is not None:
            out["subject"] = self.subject.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return {**out, **self.extra}

    def serialize(self) -> bytes:
        return dumps(self.to_json())


class Index(Mutable):
    """An image index (manifest list): one manifest descriptor per platform."""

    _fields = ("manifests", "media_type", "annotations", "extra")
    __slots__ = _fields

    def __init__(self, manifests: list[Descriptor], media_type: str = mt.OCI_INDEX,
                 annotations: dict[str, str] | None = None, extra: dict[str, Any] | None = None) -> None:
        self.manifests = manifests
        self.media_type = media_type
        self.annotations = {} if annotations is None else annotations
        self.extra = {} if extra is None else extra

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": 2, "mediaType": self.media_type,
                               "manifests": [m.to_json() for m in self.manifests]}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return {**out, **self.extra}

    def serialize(self) -> bytes:
        return dumps(self.to_json())


def dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes, what: str = "document") -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidArgument(f"{what}: not valid JSON ({e})") from e
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{what}: expected a JSON object")
    return doc


def detect_media_type(doc: dict[str, Any]) -> str:
    """The media type a document declares, or the one its shape implies (OCI allows omitting it)."""
    if doc.get("mediaType"):
        return str(doc["mediaType"])
    if "manifests" in doc:
        return mt.OCI_INDEX
    if "config" in doc and "layers" in doc:
        return mt.OCI_MANIFEST
    raise InvalidArgument("document: neither an image manifest nor an index (no mediaType)")


def parse(data: bytes, media_type: str | None = None) -> Manifest | Index:
    doc = loads(data)
    media_type = media_type or detect_media_type(doc)
    if mt.is_index(media_type):
        return parse_index(data)
    if mt.is_manifest(media_type):
        return parse_manifest(data)
    raise InvalidArgument(f"document of type {media_type!r}: not an image manifest or index")


def parse_manifest(data: bytes) -> Manifest:
    doc = loads(data, "image manifest")
    if doc.get("schemaVersion") != 2:
        raise InvalidArgument("image manifest: only schemaVersion 2 is supported")
    try:
        config = Descriptor.from_json(doc["config"])
        layers = [Descriptor.from_json(d) for d in doc.get("layers") or []]
    except (KeyError, TypeError) as e:
        raise InvalidArgument("image manifest: needs config and layers") from e
    subject = Descriptor.from_json(doc["subject"]) if doc.get("subject") else None
    known = ("schemaVersion", "mediaType", "config", "layers", "annotations", "subject")
    return Manifest(config, layers, doc.get("mediaType") or mt.OCI_MANIFEST, dict(doc.get("annotations") or {}),
                    subject, {k: v for k, v in doc.items() if k not in known})


def parse_index(data: bytes) -> Index:
    doc = loads(data, "image index")
    if doc.get("schemaVersion") != 2:
        raise InvalidArgument("image index: only schemaVersion 2 is supported")
    manifests = [Descriptor.from_json(d) for d in doc.get("manifests") or []]
    known = ("schemaVersion", "mediaType", "manifests", "annotations")
    return Index(manifests, doc.get("mediaType") or mt.OCI_INDEX, dict(doc.get("annotations") or {}),
                 {k: v for k, v in doc.items() if k not in known})


def select_platform(index: Index, want: Platform | None = None) -> Descriptor:
    """The manifest of *index* for platform *want* (the host's by default).

    An exact variant match wins over an entry without a variant; entries with no platform at all
    are taken only when nothing else matches (single-platform indexes written by some tools).
    """
    want = want or Platform.host()
    candidates = [d for d in index.manifests if mt.is_manifest(d.media_type) or not d.media_type]
    exact = [d for d in candidates if d.platform and d.platform.matches(want)]
    if exact:
        with_variant = [d for d in exact if d.platform and d.platform.variant == want.variant]
        return (with_variant or exact)[0]
    loose = [d for d in candidates if d.platform is None]
    if loose:
        return loose[0]
    have = ", ".join(sorted({str(d.platform) for d in candidates if d.platform})) or "none"
    raise NotFound(f"image index: no manifest for platform {want}; it has {have}")


# -- image config (kept as a dict: it is the runtime's input and has many optional fields) ------

def config_diff_ids(config: dict[str, Any]) -> list[Digest]:
    rootfs = config.get("rootfs") or {}
    return [Digest.parse(d) for d in rootfs.get("diff_ids") or []]


def config_history(config: dict[str, Any]) -> list[dict[str, Any]]:
    return list(config.get("history") or [])


def runtime_config(config: dict[str, Any]) -> dict[str, Any]:
    """The ``config`` object (Cmd, Env, Entrypoint, WorkingDir, User, ...), empty if absent."""
    return dict(config.get("config") or {})


def config_platform(config: dict[str, Any]) -> Platform:
    return Platform(config.get("os", "linux"), config.get("architecture", ""), config.get("variant"))
