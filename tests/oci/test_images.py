"""Image names, manifests, indexes with platform selection, and the SQLite image store."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument, NotFound
from dockyard.oci import mediatypes as mt
from dockyard.oci import names
from dockyard.oci.images import ImageNotFound, ImageStore, LayerBlob, commit_image
from dockyard.oci.manifest import Descriptor, Index, Platform, parse, parse_manifest, select_platform


def make_layer(store: ImageStore, files: dict[str, bytes]) -> LayerBlob:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    blob = gzip.compress(tar_bytes, mtime=0)
    digest = store.content.put_bytes(blob)
    return LayerBlob(digest, Digest.from_bytes(tar_bytes), len(blob), mt.OCI_LAYER_GZIP)


@pytest.fixture
def images(data_root: Path) -> ImageStore:
    store = ImageStore(data_root)
    yield store
    store.close()


@pytest.mark.parametrize(
    ("ref", "canonical", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("me/app", "docker.io/me/app:latest", "me/app:latest"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("quay.io/a/b/c", "quay.io/a/b/c:latest", "quay.io/a/b/c:latest"),
    ],
)
def test_names_normalize(ref: str, canonical: str, familiar: str) -> None:
    assert names.normalize(ref) == canonical
    assert names.familiar(canonical) == familiar


def test_names_refuse_bad_references() -> None:
    with pytest.raises(InvalidArgument, match="Busybox"):
        names.normalize("Busybox")
    with pytest.raises(InvalidArgument, match="tag"):
        names.normalize("busybox:bad tag")


def test_commit_tag_resolve_list_untag(images: ImageStore) -> None:
    layer = make_layer(images, {"hello.txt": b"hi\n"})
    digest = commit_image(images, layers=[layer], config={"config": {"Cmd": ["sh"]}}, name="hello")
    rec = images.resolve("hello")
    assert rec.digest == digest and rec.names == ("docker.io/library/hello:latest",)
    manifest, config = images.manifest_for(rec)
    assert manifest.layers[0].digest == layer.digest
    assert config["rootfs"]["diff_ids"] == [str(layer.diff_id)]
    assert config["config"]["Cmd"] == ["sh"]
    assert rec.id == manifest.config.digest
    # by short id, by full id, by manifest digest, by name@digest
    assert images.resolve(rec.short_id).digest == digest
    assert images.resolve(str(rec.id)).digest == digest
    assert images.resolve(f"hello@{digest}").digest == digest

    images.tag("docker.io/library/hello:v2", digest, mt.OCI_MANIFEST)
    assert images.resolve("hello:v2").names == ("docker.io/library/hello:latest", "docker.io/library/hello:v2")
    assert [r.digest for r in images.list()] == [digest]
    images.untag("hello:latest")
    images.untag("hello:v2")
    assert images.list()[0].names == ()  # dangling, like docker's <none>
    with pytest.raises(ImageNotFound, match="dockyard image bootstrap busybox"):
        images.resolve("hello")
    images.delete(images.get(digest))
    assert images.list() == []


def _manifest_for_platform(images: ImageStore, arch: str) -> Descriptor:
    layer = make_layer(images, {"arch": arch.encode()})
    digest = commit_image(images, layers=[layer], config={"architecture": arch, "os": "linux"})
    return Descriptor(mt.OCI_MANIFEST, digest, images.content.size(digest),
                      platform=Platform("linux", arch, "v8" if arch == "arm64" else None))


def test_index_selects_platform_by_the_same_code(images: ImageStore) -> None:
    amd64 = _manifest_for_platform(images, "amd64")
    arm64 = _manifest_for_platform(images, "arm64")
    index = Index([arm64, amd64])
    body = index.serialize()
    digest = images.content.put_bytes(body)
    images.tag("multi", digest, mt.OCI_INDEX)

    assert select_platform(index, Platform.parse("linux/amd64")).digest == amd64.digest
    assert select_platform(index, Platform.parse("linux/arm64")).digest == arm64.digest
    assert select_platform(index, Platform.parse("arm64/v8")).digest == arm64.digest
    with pytest.raises(NotFound, match="linux/amd64, linux/arm64/v8"):
        select_platform(index, Platform.parse("linux/s390x"))

    rec = images.resolve("multi")
    _, cfg = images.manifest_for(rec, Platform.parse("linux/arm64"))
    assert cfg["architecture"] == "arm64"
    _, cfg = images.manifest_for(rec, Platform.parse("linux/amd64"))
    assert cfg["architecture"] == "amd64"
    assert set(images.referenced_blobs(rec.digest, rec.media_type)) >= {digest, amd64.digest, arm64.digest}


def test_docker_schema2_manifest_and_list_are_understood() -> None:
    d = "sha256:" + "a" * 64
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": {"mediaType": mt.DOCKER_CONFIG, "size": 7, "digest": d},
        "layers": [{"mediaType": mt.DOCKER_LAYER_GZIP, "size": 9, "digest": d}],
        "x-unknown": {"kept": True},
    }
    m = parse(json.dumps(doc).encode())
    assert m.media_type == mt.DOCKER_MANIFEST and mt.layer_compression(m.layers[0].media_type) == "gzip"
    assert m.to_json()["x-unknown"] == {"kept": True}  # unknown fields survive a round trip
    assert parse_manifest(m.serialize()).to_json() == m.to_json()
    lst = {"schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST_LIST, "manifests": [
        {"mediaType": mt.DOCKER_MANIFEST, "size": 1, "digest": d,
         "platform": {"architecture": "amd64", "os": "linux"}}]}
    idx = parse(json.dumps(lst).encode())
    assert isinstance(idx, Index)
    assert select_platform(idx, Platform("linux", "amd64")).digest == Digest.parse(d)
    assert mt.to_oci(mt.DOCKER_LAYER_GZIP) == mt.OCI_LAYER_GZIP

_component = st.from_regex(r"[a-z0-9]{1,8}([._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)


@given(st.lists(_component, min_size=1, max_size=3), _tag,
       st.sampled_from(["", "localhost:5000/", "quay.io/", "docker.io/"]))
def test_names_round_trip(path: list[str], tag: str, domain: str) -> None:
    # without a registry, a first component with a dot *is* a registry (docker's rule too)
    assume(domain or len(path) == 1 or "." not in path[0])
    ref = f"{domain}{'/'.join(path)}:{tag}"
    canonical = names.normalize(ref)
    assert names.normalize(canonical) == canonical  # idempotent
    assert names.normalize(names.familiar(canonical)) == canonical  # familiar form means the same
    assert names.split_tag(canonical)[1] == tag


@given(st.dictionaries(st.from_regex(r"x-[a-z]{1,6}", fullmatch=True), st.integers() | st.text(max_size=5),
                       max_size=3),
       st.lists(st.integers(min_value=0, max_value=1 << 40), max_size=4))
def test_manifest_round_trip_keeps_unknown_fields(extra: dict, sizes: list[int]) -> None:
    d = "sha256:" + "b" * 64
    doc = {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
           "config": {"mediaType": mt.OCI_CONFIG, "digest": d, "size": 1, "x-desc": True},
           "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": d, "size": s} for s in sizes], **extra}
    m = parse_manifest(json.dumps(doc).encode())
    assert json.loads(m.serialize()) == doc
