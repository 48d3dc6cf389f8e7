"""Save and load: OCI layout directory, oci-archive tar and docker archive, names and digests kept."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.oci import archive
from dockyard.oci.content import DigestMismatch
from dockyard.oci.images import ImageStore, commit_image
from dockyard.oci.layer import write_layer_blob


def build_image(root: Path, tmp: Path, name: str = "demo:1.0") -> ImageStore:
    images = ImageStore(root)
    src = tmp / "tree"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "hello").write_text("#!/bin/sh\necho hello\n")
    (src / "etc").mkdir()
    (src / "etc" / "motd").write_text("welcome\n")
    layer = write_layer_blob(images.content, src)
    commit_image(images, layers=[layer], config={"config": {"Cmd": ["/bin/hello"]}}, name=name)
    return images


@pytest.mark.parametrize("dest", ["layout", "image.tar"])
@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_save_load_round_trip_keeps_digest_and_name(data_root: Path, tmp_path: Path, dest: str, fmt: str) -> None:
    src = build_image(data_root, tmp_path)
    rec = src.resolve("demo:1.0")
    out = tmp_path / dest
    archive.save(src, ["demo:1.0"], out, fmt=fmt)  # type: ignore[arg-type]
    if out.is_dir():
        assert json.loads((out / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
        index = json.loads((out / "index.json").read_text())
        assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "1.0"

    other = ImageStore(tmp_path / "other")
    loaded = archive.load(other, out)
    assert [(x.digest, x.name) for x in loaded] == [(rec.digest, "docker.io/library/demo:1.0")]
    assert other.resolve("demo:1.0").id == rec.id
    manifest, config = other.manifest_for(other.resolve("demo:1.0"))
    assert config["config"]["Cmd"] == ["/bin/hello"]
    assert all(other.content.has(layer.digest) for layer in manifest.layers)


def test_save_into_existing_layout_merges_entries(data_root: Path, tmp_path: Path) -> None:
    images = build_image(data_root, tmp_path)
    images.tag("demo:2.0", images.resolve("demo:1.0").digest, images.resolve("demo:1.0").media_type)
    out = tmp_path / "layout"
    archive.save(images, ["demo:1.0"], out)
    archive.save(images, ["demo:2.0"], out)
    archive.save(images, ["demo:1.0"], out)  # idempotent: replaces its own entry
    index = json.loads((out / "index.json").read_text())
    assert sorted(m["annotations"]["io.containerd.image.name"] for m in index["manifests"]) == [
        "docker.io/library/demo:1.0", "docker.io/library/demo:2.0"]


def test_load_from_stream_and_refuse_corrupt_blob(data_root: Path, tmp_path: Path) -> None:
    images = build_image(data_root, tmp_path)
    buf = io.BytesIO()
    archive.save(images, ["demo:1.0"], buf)
    other = ImageStore(tmp_path / "other")
    assert archive.load(other, io.BytesIO(buf.getvalue()))[0].name == "docker.io/library/demo:1.0"

    layout = tmp_path / "layout"
    archive.save(images, ["demo:1.0"], layout)
    manifest, _ = images.manifest_for(images.resolve("demo:1.0"))
    blob = layout / "blobs" / "sha256" / manifest.layers[0].digest.encoded
    blob.unlink()  # it was hard-linked from the store: replace, never write through
    blob.write_bytes(b"x" * manifest.layers[0].size)
    third = ImageStore(tmp_path / "third")
    with pytest.raises(DigestMismatch, match=manifest.layers[0].digest.encoded):
        archive.load(third, layout)
    assert third.list() == []


def test_classic_docker_archive_loads(data_root: Path, tmp_path: Path) -> None:
    """The pre-25 ``docker save`` shape: <id>.json config, <dir>/layer.tar, names in RepoTags."""
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w") as t:
        info = tarfile.TarInfo("hello.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"hi\n"))
    from dockyard.base.digest import Digest

    diff_id = Digest.from_bytes(layer_tar.getvalue())
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [str(diff_id)]}}).encode()
    config_id = Digest.from_bytes(config)
    files = {
        f"{config_id.encoded}.json": config,
        "abc/layer.tar": layer_tar.getvalue(),
        "manifest.json": json.dumps([{"Config": f"{config_id.encoded}.json", "RepoTags": ["old:v1"],
                                      "Layers": ["abc/layer.tar"]}]).encode(),
    }
    out = tmp_path / "classic.tar"
    with tarfile.open(out, "w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    images = ImageStore(data_root)
    loaded = archive.load(images, out)
    assert loaded[0].name == "docker.io/library/old:v1" and loaded[0].image_id == config_id
    manifest, cfg = images.manifest_for(images.resolve("old:v1"))
    assert manifest.layers[0].digest == diff_id and cfg["config"]["Cmd"] == ["sh"]


def test_load_refuses_paths_leaving_the_layout(data_root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret\n")
    layout = tmp_path / "evil"
    layout.mkdir()
    (layout / "link.tar").symlink_to(secret)
    (layout / "c.json").write_text(json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}))
    for layers in (["../secret"], [str(secret)], ["link.tar"]):
        (layout / "manifest.json").write_text(json.dumps([{"Config": "c.json", "Layers": layers}]))
        images = ImageStore(data_root)
        with pytest.raises(InvalidArgument, match="refused"):
            archive.load(images, layout)
    from dockyard.base.digest import Digest

    assert not images.content.has(Digest.from_bytes(secret.read_bytes()))


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_import_rootfs_any_compression_gives_one_gzip_layer(data_root: Path, compression: str) -> None:
    import gzip

    import zstandard

    from dockyard.base.digest import Digest
    from dockyard.oci import mediatypes as mt

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 5
        t.addfile(info, io.BytesIO(b"host\n"))
    tar_bytes = raw.getvalue()
    data = {"none": tar_bytes, "gzip": gzip.compress(tar_bytes),
            "zstd": zstandard.ZstdCompressor().compress(tar_bytes)}[compression]
    images = ImageStore(data_root)
    digest = archive.import_rootfs(images, io.BytesIO(data), name="imported:1")
    manifest, config = images.manifest_for(images.get(digest))
    assert [la.media_type for la in manifest.layers] == [mt.OCI_LAYER_GZIP]
    assert config["rootfs"]["diff_ids"] == [str(Digest.from_bytes(tar_bytes))]
    assert config["history"][0]["comment"] == "Imported from tarball"
    with pytest.raises(InvalidArgument, match="not a tar archive"):
        archive.import_rootfs(images, io.BytesIO(b"just some text, not a tar" * 40), name="bad")
