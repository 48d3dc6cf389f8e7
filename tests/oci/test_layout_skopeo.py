"""Round trips with skopeo: it reads what we write, we read what it writes, digests unchanged."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dockyard.oci import archive
from dockyard.oci.images import ImageStore, commit_image
from dockyard.oci.layer import write_layer_blob
from support import require_tool

pytestmark = pytest.mark.e2e


def skopeo(*args: str) -> str:
    tool = require_tool("skopeo")
    proc = subprocess.run([tool, "--insecure-policy", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def images(data_root: Path, tmp_path: Path) -> ImageStore:
    store = ImageStore(data_root)
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "os-release").write_text("NAME=dockyard-test\n")
    (tree / "data").mkdir()
    (tree / "data" / "blob.bin").write_bytes(bytes(range(256)) * 64)
    first = write_layer_blob(store.content, tree)
    (tree / "data" / "second").write_text("two\n")
    second = write_layer_blob(store.content, tree, compression="zstd")
    commit_image(store, layers=[first, second], config={"config": {"Cmd": ["sh"]}}, name="skotest:v1")
    return store


def test_skopeo_reads_and_copies_our_layout(images: ImageStore, tmp_path: Path) -> None:
    rec = images.resolve("skotest:v1")
    manifest, _ = images.manifest_for(rec)
    ours = tmp_path / "ours"
    archive.save(images, ["skotest:v1"], ours)

    info = json.loads(skopeo("inspect", f"oci:{ours}:v1"))
    assert info["Digest"] == str(rec.digest)
    assert info["Layers"] == [str(layer.digest) for layer in manifest.layers]

    theirs = tmp_path / "theirs"
    skopeo("copy", f"oci:{ours}:v1", f"oci:{theirs}:v1")
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{theirs}:v1"))
    assert [x["digest"] for x in raw["layers"]] == [str(layer.digest) for layer in manifest.layers]

    fresh = ImageStore(tmp_path / "fresh")
    loaded = archive.load(fresh, theirs, repository="copied")
    assert loaded[0].digest == rec.digest  # skopeo kept the manifest byte for byte
    assert loaded[0].name == "docker.io/library/copied:v1"
    assert fresh.resolve("copied:v1").id == rec.id


def test_skopeo_reads_our_archives(images: ImageStore, tmp_path: Path) -> None:
    rec = images.resolve("skotest:v1")
    oci_tar = tmp_path / "image.tar"
    archive.save(images, ["skotest:v1"], oci_tar)
    assert json.loads(skopeo("inspect", f"oci-archive:{oci_tar}:v1"))["Digest"] == str(rec.digest)

    docker_tar = tmp_path / "docker.tar"
    archive.save(images, ["skotest:v1"], docker_tar, fmt="docker")
    cfg = json.loads(skopeo("inspect", "--config", f"docker-archive:{docker_tar}"))
    assert cfg["config"]["Cmd"] == ["sh"]
    assert cfg["rootfs"]["diff_ids"] == images.manifest_for(rec)[1]["rootfs"]["diff_ids"]


def test_we_load_skopeo_docker_archive_with_same_image_id(images: ImageStore, tmp_path: Path) -> None:
    # docker archives cannot carry zstd layers, so this image is gzip only
    layer = write_layer_blob(images.content, tmp_path / "tree")
    commit_image(images, layers=[layer], config={"config": {"Cmd": ["sh"]}}, name="skotest:v1")
    rec = images.resolve("skotest:v1")
    ours = tmp_path / "ours"
    archive.save(images, ["skotest:v1"], ours)
    out = tmp_path / "from-skopeo.tar"
    skopeo("copy", f"oci:{ours}:v1", f"docker-archive:{out}:skotest:v2")

    fresh = ImageStore(tmp_path / "fresh")
    loaded = archive.load(fresh, out)
    assert loaded[0].name == "docker.io/library/skotest:v2"
    got = fresh.resolve("skotest:v2")
    _, config = fresh.manifest_for(got)
    assert config["rootfs"]["diff_ids"] == images.manifest_for(rec)[1]["rootfs"]["diff_ids"]
    assert got.id == rec.id  # same config blob, so the same image ID
    # and back out: a Docker-typed image is exported with OCI types skopeo accepts, same image ID
    again = tmp_path / "again"
    archive.save(fresh, ["skotest:v2"], again)
    copied = tmp_path / "copied"
    skopeo("copy", f"oci:{again}:v2", f"oci:{copied}:v2")
    cfg = json.loads(skopeo("inspect", "--config", f"oci:{copied}:v2"))
    assert cfg["rootfs"]["diff_ids"] == config["rootfs"]["diff_ids"]
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{copied}:v2"))
    assert raw["config"]["digest"] == str(rec.id)


def test_multi_platform_index_round_trips_through_skopeo(images: ImageStore, tmp_path: Path) -> None:
    from dockyard.oci import mediatypes as mt
    from dockyard.oci.manifest import Descriptor, Index, Platform

    entries = []
    for arch in ("amd64", "arm64"):
        layer = write_layer_blob(images.content, tmp_path / "tree")
        digest = commit_image(images, layers=[layer], config={"architecture": arch, "os": "linux"})
        entries.append(Descriptor(mt.OCI_MANIFEST, digest, images.content.size(digest),
                                  platform=Platform("linux", arch)))
    index = images.content.put_bytes(Index(entries).serialize())
    images.tag("multi:v1", index, mt.OCI_INDEX)
    ours = tmp_path / "ours"
    archive.save(images, ["multi:v1"], ours)
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{ours}:v1"))
    assert raw["mediaType"] == mt.OCI_INDEX and len(raw["manifests"]) == 2
    theirs = tmp_path / "theirs"
    skopeo("copy", "--all", f"oci:{ours}:v1", f"oci:{theirs}:v1")
    fresh = ImageStore(tmp_path / "fresh")
    loaded = archive.load(fresh, theirs, repository="multi")
    assert loaded[0].digest == index
    rec = fresh.resolve("multi:v1")
    assert fresh.manifest_for(rec, Platform.parse("linux/arm64"))[1]["architecture"] == "arm64"
    assert fresh.manifest_for(rec, Platform.parse("linux/amd64"))[1]["architecture"] == "amd64"
