"""The image verbs through the real ``dockyard`` console script, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from support import require_tool


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = Path(sys.executable).parent / "dockyard"
    return subprocess.run([str(exe), *args], capture_output=True, input=stdin, timeout=120, env=os.environ.copy())


def dockyard(*args: str, ok: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    raw = run(*args, stdin=stdin)
    proc = subprocess.CompletedProcess(raw.args, raw.returncode, raw.stdout.decode(), raw.stderr.decode())
    if ok:
        assert proc.returncode == 0, f"dockyard {' '.join(args)}: {proc.stderr}"
    return proc


@pytest.fixture
def rootfs_tar(tmp_path: Path) -> Path:
    tree = tmp_path / "rootfs"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "hello").write_text("#!/bin/sh\necho hello\n")
    (tree / "bin" / "hello").chmod(0o755)
    (tree / "etc").mkdir()
    (tree / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    out = tmp_path / "rootfs.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(tree, arcname=".")
    return out


def test_import_list_inspect_tag_history_rmi_prune(data_root: Path, rootfs_tar: Path) -> None:
    image_id = dockyard("image", "import", str(rootfs_tar), "hello:1", "-c", 'CMD ["/bin/hello"]',
                        "-c", "ENV GREETING=hi").stdout.strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71

    table = dockyard("images").stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert table[1].split()[:3] == ["hello", "1", image_id[7:19]]
    assert dockyard("images", "-q").stdout.split() == [image_id[7:19]]
    assert dockyard("image", "ls", "--no-trunc", "-q").stdout.split() == [image_id]
    row = json.loads(dockyard("images", "--format", "json").stdout.splitlines()[0])
    assert (row["Repository"], row["Tag"], row["ID"]) == ("hello", "1", image_id[7:19])

    doc = json.loads(dockyard("image", "inspect", "hello:1").stdout)[0]
    assert doc["Id"] == image_id and doc["RepoTags"] == ["hello:1"]
    assert doc["Config"] == {"Cmd": ["/bin/hello"], "Env": ["GREETING=hi"]}
    assert dockyard("image", "inspect", "-f", "{{.Config.Cmd}}", image_id[7:15]).stdout.strip() == "[/bin/hello]"

    dockyard("tag", "hello:1", "localhost:5000/hello:v2")
    assert dockyard("images", "localhost:5000/hello").stdout.splitlines()[1].split()[:2] == [
        "localhost:5000/hello", "v2"]
    hist = dockyard("history", "hello:1").stdout.splitlines()
    assert hist[0].split()[:2] == ["IMAGE", "CREATED"] and image_id[7:19] in hist[1]

    rmi = dockyard("rmi", image_id[7:19], ok=False)
    assert rmi.returncode != 0 and "several names" in rmi.stderr
    assert dockyard("rmi", "hello:1").stdout.strip() == "Untagged: hello:1"
    out = dockyard("image", "rm", "localhost:5000/hello:v2").stdout.splitlines()
    assert out == ["Untagged: localhost:5000/hello:v2", f"Deleted: {image_id}"]
    assert dockyard("images", "-q").stdout.strip() == ""
    assert not list((data_root / "content" / "blobs" / "sha256").iterdir())  # rmi collected its blobs
    assert "Total reclaimed space: 0B" in dockyard("image", "prune", "-f").stdout


def test_prune_removes_dangling_images(data_root: Path, rootfs_tar: Path) -> None:
    first = dockyard("image", "import", str(rootfs_tar), "app:latest").stdout.strip()
    second = dockyard("image", "import", str(rootfs_tar), "app:latest", "-m", "again").stdout.strip()
    assert first != second  # different history, so a different config
    lines = dockyard("images").stdout.splitlines()
    assert [ln.split()[:2] for ln in lines[1:]] == [["app", "latest"], ["<none>", "<none>"]]
    assert dockyard("images", "-q", "-f", "dangling=true").stdout.split() == [first[7:19]]
    assert dockyard("images", "-q", "--filter", "reference=ap*").stdout.split() == [second[7:19]]
    out = dockyard("image", "prune", "-f").stdout
    assert f"deleted: {first}" in out and "Total reclaimed space:" in out
    assert dockyard("images", "-q").stdout.split() == [second[7:19]]


def test_errors_are_one_line_with_a_hint(data_root: Path) -> None:
    proc = dockyard("image", "inspect", "nosuch", ok=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "Error: image 'nosuch': not found; list images with `dockyard images`; "
        "create one with `dockyard image bootstrap busybox`"
    )
    proc = dockyard("image", "bootstrap", "alpine", ok=False)
    assert "use busybox or debian" in proc.stderr and "Traceback" not in proc.stderr
    proc = dockyard("image", "import", "/nonexistent.tar", "x", ok=False)
    assert "no such file" in proc.stderr


@pytest.mark.e2e
def test_save_load_both_formats_and_skopeo_reads_it(data_root: Path, rootfs_tar: Path, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    dockyard("image", "import", str(rootfs_tar), "hello:1")
    digest = json.loads(dockyard("image", "inspect", "hello:1").stdout)[0]["Descriptor"]["digest"]
    layout = tmp_path / "layout"
    dockyard("image", "save", "hello:1", "-o", str(layout))
    info = subprocess.run([skopeo, "inspect", f"oci:{layout}:1"], capture_output=True, text=True, check=True)
    assert json.loads(info.stdout)["Digest"] == digest
    docker_tar = tmp_path / "hello.tar"
    dockyard("save", "--format", "docker", "-o", str(docker_tar), "hello:1")
    stream = run("save", "hello:1").stdout  # an oci-archive on stdout
    assert stream[:10] == b"oci-layout"

    dockyard("rmi", "hello:1")
    assert dockyard("load", "-i", str(docker_tar)).stdout.strip() == "Loaded image: hello:1"
    dockyard("rmi", "hello:1")
    assert dockyard("image", "load", "-i", str(layout)).stdout.strip() == "Loaded image: hello:1"
    dockyard("rmi", "hello:1")
    assert dockyard("load", stdin=stream).stdout.strip() == "Loaded image: hello:1"
    assert json.loads(dockyard("image", "inspect", "hello:1").stdout)[0]["Descriptor"]["digest"] == digest


@pytest.mark.e2e
def test_bootstrap_busybox_then_inspect_and_history(data_root: Path) -> None:
    require_tool("busybox")
    out = dockyard("image", "bootstrap", "busybox").stdout.strip()
    assert out.startswith("busybox:latest: sha256:")
    doc = json.loads(dockyard("image", "inspect", "busybox").stdout)[0]
    assert doc["Config"]["Cmd"] == ["sh"]
    assert any(e.startswith("PATH=") for e in doc["Config"]["Env"])
    assert doc["Os"] == "linux" and len(doc["RootFS"]["Layers"]) == 1
    assert "dockyard image bootstrap busybox" in dockyard("history", "--no-trunc", "busybox").stdout
    assert dockyard("images", "busybox:latest", "-q").stdout.strip() == doc["Id"][7:19]


def test_rmi_spares_blobs_the_embedded_registry_holds(data_root: Path, rootfs_tar: Path) -> None:
    from dockyard.oci.images import ImageStore
    from dockyard.registry.server.state import RegistryState

    dockyard("image", "import", str(rootfs_tar), "shared:1")
    images = ImageStore(data_root)
    manifest, _ = images.manifest_for(images.resolve("shared:1"))
    layer = manifest.layers[0].digest
    state = RegistryState(data_root / "registry.db")
    state.link_blob("team/app", str(layer))  # pushed to the embedded registry meanwhile
    state.close()

    dockyard("rmi", "shared:1")
    dockyard("image", "prune", "-f")
    assert images.content.has(layer)
    assert not images.content.has(manifest.config.digest)
    images.close()


def test_prune_drops_unpacked_layers_of_removed_images(data_root: Path, rootfs_tar: Path) -> None:
    from dockyard.oci.images import ImageStore
    from dockyard.oci.snapshot.layers import ensure_layers
    from dockyard.oci.snapshot.overlay import OverlaySnapshotter

    dockyard("image", "import", str(rootfs_tar), "unpacked:1")
    images = ImageStore(data_root)
    snaps = OverlaySnapshotter(data_root / "snapshots")
    try:
        manifest, config = images.manifest_for(images.resolve("unpacked:1"))
        top = ensure_layers(snaps, images.content, manifest, config)  # what the engine does at create
        dockyard("image", "prune", "-f")
        assert [i.key for i in snaps.walk()] == [top]  # still an image's layer
        dockyard("rmi", "unpacked:1")
        out = dockyard("image", "prune", "-f").stdout
        assert list(snaps.walk()) == [] and "Total reclaimed space: 0B" not in out
    finally:
        snaps.close()
        images.close()


def test_rmi_refuses_an_image_a_container_was_created_from(data_root: Path, rootfs_tar: Path) -> None:
    from dockyard.engine.options import RunOptions
    from dockyard.engine.store import ContainerRecord, ContainerStore

    image_id = dockyard("image", "import", str(rootfs_tar), "inuse:1").stdout.strip()
    store = ContainerStore(data_root)
    store.insert(ContainerRecord(id="c" * 64, name="web", pod="web", image="inuse:1", image_id=image_id,
                                 runtime="dockyard", options=RunOptions(image="inuse:1")))
    store.conn.close()
    proc = dockyard("rmi", "inuse:1", ok=False)
    assert proc.returncode != 0 and "in use by container 'web'" in proc.stderr
    assert dockyard("rmi", "-f", "inuse:1").stdout.splitlines()[-1] == f"Deleted: {image_id}"


def test_prune_keeps_a_dangling_image_a_container_was_created_from(data_root: Path, rootfs_tar: Path) -> None:
    from dockyard.engine.options import RunOptions
    from dockyard.engine.store import ContainerRecord, ContainerStore

    old = dockyard("image", "import", str(rootfs_tar), "app:1", "-c", "ENV V=1").stdout.strip()
    store = ContainerStore(data_root)
    store.insert(ContainerRecord(id="d" * 64, name="oldweb", pod="oldweb", image="app:1", image_id=old,
                                 runtime="dockyard", options=RunOptions(image="app:1")))
    store.conn.close()
    new = dockyard("image", "import", str(rootfs_tar), "app:1", "-c", "ENV V=2").stdout.strip()
    assert new != old  # app:1 moved on: the container's image is dangling now

    out = dockyard("image", "prune", "-f").stdout
    assert old not in out  # docker keeps it while a container uses it
    assert old in dockyard("image", "inspect", "--format", "{{.Id}}", old).stdout

    store = ContainerStore(data_root)
    store.delete("d" * 64)  # the container is gone (`dockyard rm`): now it is prunable
    store.conn.close()
    assert f"deleted: {old}" in dockyard("image", "prune", "-f").stdout
