"""Images: names and tags in SQLite pointing at manifest or index blobs in the content store.

An *image* is a manifest or index digest; a *tag* is a fully qualified name
(``docker.io/library/busybox:latest``) pointing at one image.  Images without tags stay until
``image prune`` (docker's "dangling" ``<none>`` images).  The image ID shown to users is the
config digest of the host platform's manifest, as docker shows it.

:func:`commit_image` turns layer blobs plus an image config into a stored, tagged image; it is
what ``image bootstrap``, ``image import`` and the builder call.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from dockyard.base.clock import Clock, SystemClock, parse_rfc3339, rfc3339
from dockyard.base.db import connect, transaction
from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict, InvalidArgument, NotFound
from dockyard.base.record import Frozen
from dockyard.oci import mediatypes as mt
from dockyard.oci import names
from dockyard.oci.content import ContentStore, Lease
from dockyard.oci.manifest import Descriptor, Index, Manifest, Platform, parse, select_platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # typing costs ~2 ms on every `dockyard run`; protocols matter to type checkers only

_MIGRATIONS = (
    """
    CREATE TABLE images (
        digest TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        config_digest TEXT,
        size INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL DEFAULT 0,
        added REAL NOT NULL
    );
    CREATE TABLE tags (
        name TEXT PRIMARY KEY,
        digest TEXT NOT NULL REFERENCES images(digest) ON DELETE CASCADE
    );
    CREATE INDEX tags_digest ON tags(digest)
    """,
)


class ImageNotFound(NotFound):
    pass


class ImageRecord(Frozen):
    """A stored image: its manifest or index digest, names, config digest and sizes."""

    _fields = ("digest", "media_type", "names", "config_digest", "size", "created", "added")
    __slots__ = _fields
    digest: Digest
    media_type: str
    names: tuple[str, ...]
    config_digest: Digest | None
    size: int
    created: float
    added: float

    def __init__(self, digest: Digest, media_type: str, names: tuple[str, ...] = (),
                 config_digest: Digest | None = None, size: int = 0, created: float = 0.0,
                 added: float = 0.0) -> None:
        self._set(digest=digest, media_type=media_type, names=names, config_digest=config_digest, size=size,
                  created=created, added=added)

    @property
    def id(self) -> Digest:
        """Docker's image ID: the config digest (the manifest digest if it is unknown)."""
        return self.config_digest or self.digest

    @property
    def short_id(self) -> str:
        return self.id.short


class LayerLike(Protocol):
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str


class LayerBlob(Frozen):
    """A layer blob in the content store, with the digest of its uncompressed tar (diff ID)."""

    _fields = ("digest", "diff_id", "size", "media_type", "annotations")
    __slots__ = _fields
    _compared = ("digest", "diff_id", "size", "media_type")
    digest: Digest
    diff_id: Digest
    size: int
    media_type: str
    annotations: dict[str, str]

    def __init__(self, digest: Digest, diff_id: Digest, size: int, media_type: str = mt.OCI_LAYER_GZIP,
                 annotations: dict[str, str] | None = None) -> None:
        self._set(digest=digest, diff_id=diff_id, size=size, media_type=media_type,
                  annotations={} if annotations is None else annotations)


class ImageStore:
    def __init__(self, data_root: Path, *, clock: Clock | None = None) -> None:
        self.root = Path(data_root)
        self.content = ContentStore(self.root / "content")
        self.clock = clock or SystemClock()
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = connect(self.root / "images.db", migrations=_MIGRATIONS)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- writing --------------------------------------------------------------------------
    def add(self, digest: Digest, media_type: str) -> ImageRecord:
        """Register the manifest/index *digest* (already in the content store) as an image."""
        if not self.content.has(digest):
            raise NotFound(f"image {digest}: its manifest is not in the content store")
        config_digest, size, created = self._summarise(digest, media_type)
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO images(digest, media_type, config_digest, size, created, added)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT(digest) DO UPDATE SET media_type=excluded.media_type,"
                " config_digest=excluded.config_digest, size=excluded.size, created=excluded.created",
                (str(digest), media_type, str(config_digest) if config_digest else None, size, created,
                 self.clock.now()),
            )
        return self.get(digest)

    def tag(self, name: str, digest: Digest, media_type: str) -> None:
        canonical = names.normalize(name)
        if "@" in canonical:
            raise InvalidArgument(f"tag {name!r}: a tag cannot contain a digest")
        self.add(digest, media_type)
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO tags(name, digest) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET digest=excluded.digest",
                (canonical, str(digest)),
            )

    def untag(self, name: str) -> ImageRecord:
        """Remove one name; returns the image it pointed at (which stays, perhaps untagged)."""
        canonical = names.normalize(name)
        row = self.db.execute("SELECT digest FROM tags WHERE name=?", (canonical,)).fetchone()
        if row is None:
            raise ImageNotFound(f"image {name!r}: no such tag")
        with transaction(self.db):
            self.db.execute("DELETE FROM tags WHERE name=?", (canonical,))
        return self.get(Digest.parse(row["digest"]))

    def delete(self, record: ImageRecord, *, force: bool = False) -> None:
        """Forget an image and all its names (blobs go at the next GC)."""
        if record.names and len(record.names) > 1 and not force:
            raise Conflict(
                f"image {record.short_id}: referenced by {len(record.names)} names "
                f"({', '.join(names.familiar(n) for n in record.names)}); remove them by name or use --force"
            )
        with transaction(self.db):
            self.db.execute("DELETE FROM images WHERE digest=?", (str(record.digest),))

    # -- reading --------------------------------------------------------------------------
    def get(self, digest: Digest) -> ImageRecord:
        row = self.db.execute("SELECT * FROM images WHERE digest=?", (str(digest),)).fetchone()
        if row is None:
            raise ImageNotFound(f"image {digest}: not found")
        return self._record(row)

    def list(self) -> list[ImageRecord]:
        rows = self.db.execute("SELECT * FROM images ORDER BY added DESC, digest").fetchall()
        return [self._record(r) for r in rows]

    def resolve(self, ref: str) -> ImageRecord:
        """Find an image by name[:tag], by digest, or by (short) image ID / manifest digest."""
        ref = ref.strip()
        record = self._by_name(ref)
        if record is not None:
            return record
        text = ref.removeprefix("sha256:").lower()
        if text and all(c in "0123456789abcdef" for c in text):
            like = f"sha256:{text}%"
            rows = self.db.execute(
                "SELECT * FROM images WHERE digest LIKE ? OR config_digest LIKE ?", (like, like)
            ).fetchall()
            if len(rows) == 1:
                return self._record(rows[0])
            if len(rows) > 1:
                raise Conflict(f"image {ref!r}: ambiguous ID prefix matches {len(rows)} images; give more digits")
        raise ImageNotFound(
            f"image {ref!r}: not found",
            hint="list images with `dockyard images`; create one with `dockyard image bootstrap busybox`",
        )

    def _by_name(self, ref: str) -> ImageRecord | None:
        try:
            parsed = names.parse(ref)
        except InvalidArgument:
            return None
        if parsed.digest is not None:
            row = self.db.execute("SELECT * FROM images WHERE digest=?", (str(parsed.digest),)).fetchone()
            return self._record(row) if row else None
        row = self.db.execute(
            "SELECT images.* FROM tags JOIN images USING(digest) WHERE tags.name=?", (parsed.canonical,)
        ).fetchone()
        return self._record(row) if row else None

    def manifest_for(self, record: ImageRecord | Digest, platform: Platform | None = None,
                     media_type: str | None = None) -> tuple[Manifest, dict[str, Any]]:
        """The platform's manifest (selected from an index) and its parsed image config."""
        digest = record.digest if isinstance(record, ImageRecord) else record
        media_type = record.media_type if isinstance(record, ImageRecord) else media_type
        manifest = self._manifest_of(digest, media_type, platform)
        config = json.loads(self.content.read_bytes(manifest.config.digest))
        return manifest, config

    def _manifest_of(self, digest: Digest, media_type: str | None, platform: Platform | None) -> Manifest:
        doc = parse(self.content.read_bytes(digest), media_type)
        for _ in range(4):  # nested indexes are legal; follow a few levels
            if isinstance(doc, Manifest):
                return doc
            chosen = select_platform(doc, platform)
            doc = parse(self.content.read_bytes(chosen.digest), chosen.media_type or None)
        raise InvalidArgument(f"image {digest}: indexes nested too deeply")

    def referenced_blobs(self, digest: Digest, media_type: str | None = None) -> Iterator[Digest]:
        """Every blob reachable from a manifest/index that is present (the GC mark phase)."""
        yield digest
        if not self.content.has(digest):
            return
        doc = parse(self.content.read_bytes(digest), media_type)
        if isinstance(doc, Index):
            for d in doc.manifests:
                if self.content.has(d.digest):
                    yield from self.referenced_blobs(d.digest, d.media_type or None)
            return
        yield doc.config.digest
        yield from (layer.digest for layer in doc.layers)
        if doc.subject is not None:
            yield doc.subject.digest

    # -- helpers --------------------------------------------------------------------------
    def _summarise(self, digest: Digest, media_type: str) -> tuple[Digest | None, int, float]:
        try:
            manifest, config = self.manifest_for(digest, media_type=media_type)
        except NotFound:
            return None, self.content.size(digest), 0.0
        size = manifest.config.size + sum(layer.size for layer in manifest.layers)
        created = 0.0
        if isinstance(config.get("created"), str):
            try:
                created = parse_rfc3339(config["created"])
            except ValueError:
                pass
        return manifest.config.digest, size, created

    def _record(self, row: sqlite3.Row) -> ImageRecord:
        tags = self.db.execute("SELECT name FROM tags WHERE digest=? ORDER BY name", (row["digest"],)).fetchall()
        return ImageRecord(
            Digest.parse(row["digest"]), row["media_type"], tuple(t["name"] for t in tags),
            Digest.parse(row["config_digest"]) if row["config_digest"] else None,
            row["size"], row["created"], row["added"],
        )


def commit_image(
    store: ImageStore,
    *,
    layers: Sequence[LayerLike],
    config: dict[str, Any],
    name: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Digest:
    """Write the config and an OCI manifest for *layers*, register the image and tag it *name*."""
    with store.content.lease() as lease:  # GC must not sweep these before the tag lands
        for layer in layers:
            if not store.content.has(lease.add(layer.digest)):
                raise NotFound(f"layer {layer.digest}: not in the content store; write it before committing")
        return _commit(store, lease, layers, config, name, annotations)


def _commit(store: ImageStore, lease: Lease, layers: Sequence[LayerLike], config: dict[str, Any],
            name: str | None, annotations: dict[str, str] | None) -> Digest:
    host = Platform.host()
    config = dict(config)
    config.setdefault("created", rfc3339(store.clock.now()))
    config.setdefault("architecture", host.architecture)
    config.setdefault("os", host.os)
    config["rootfs"] = {"type": "layers", "diff_ids": [str(layer.diff_id) for layer in layers]}
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    config_digest = store.content.put_bytes(config_bytes, expected=lease.add(Digest.from_bytes(config_bytes)))
    manifest = Manifest(
        config=Descriptor(mt.OCI_CONFIG, config_digest, len(config_bytes)),
        layers=[Descriptor(layer.media_type, layer.digest, layer.size,
                           dict(getattr(layer, "annotations", None) or {})) for layer in layers],
        annotations=dict(annotations or {}),
    )
    body = manifest.serialize()
    digest = store.content.put_bytes(body, expected=lease.add(Digest.from_bytes(body)))
    if name:
        store.tag(name, digest, mt.OCI_MANIFEST)
    else:
        store.add(digest, mt.OCI_MANIFEST)
    return digest
