"""`dockyard build` as a user runs it: progress lines, CACHED, --iidfile, -o, errors with line numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .helpers import bootstrap_busybox, write_tree

pytestmark = [pytest.mark.privileged]


def dockyard(*args: str, root: Path, state: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockyard.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "DOCKYARD_ROOT": str(root), "DOCKYARD_STATE": str(state),
                               **(env or {})})


def test_build_progress_cache_iidfile_and_oci_output(data_root: Path, state_dir: Path, tmp_path: Path) -> None:
    bootstrap_busybox(data_root)
    ctx = write_tree(tmp_path / "ctx", {
        "Dockerfile": "FROM busybox AS base\nARG GREETING=hi\nRUN echo $GREETING > /g\n"
                      "FROM base AS final\nCOPY app.txt /app/\nCMD [\"cat\", \"/g\"]\n",
        "app.txt": "app\n"})
    iid = tmp_path / "iid"
    oci = tmp_path / "image.tar"
    first = dockyard("build", "-t", "app:1", "--progress", "plain", "--build-arg", "GREETING=hello",
                     "--iidfile", str(iid), "-o", f"type=oci,dest={oci}", str(ctx), root=data_root, state=state_dir)
    assert first.returncode == 0, first.stderr
    assert "#2 [base 2/3] ARG GREETING=hi" in first.stderr
    assert "[base 3/3] RUN echo $GREETING > /g" in first.stderr and "DONE" in first.stderr
    assert iid.read_text().startswith("sha256:")
    with tarfile.open(oci) as tar:
        index = json.load(tar.extractfile("index.json"))  # type: ignore[arg-type]
    assert index["manifests"][0]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"

    again = dockyard("build", "-t", "app:2", "--progress", "plain", "--build-arg", "GREETING=hello",
                     "--target", "final", str(ctx), root=data_root, state=state_dir)
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("CACHED") == 2
    assert iid.read_text().removeprefix("sha256:")[:12] in again.stdout

    listed = dockyard("images", root=data_root, state=state_dir).stdout
    assert "app" in listed and "1" in listed and "2" in listed


def test_build_error_names_the_line(data_root: Path, state_dir: Path, tmp_path: Path) -> None:
    bootstrap_busybox(data_root)
    ctx = write_tree(tmp_path / "ctx", {"app.Dockerfile": "FROM busybox\nCOPPY a b\n"})
    out = dockyard("build", "-t", "bad", "-f", str(ctx / "app.Dockerfile"), str(ctx), root=data_root,
                   state=state_dir)
    assert out.returncode != 0
    assert "app.Dockerfile:2: unknown instruction: COPPY" in out.stderr
    assert "bad" not in dockyard("images", root=data_root, state=state_dir).stdout


@pytest.fixture
def registry(tmp_path: Path):
    """Debian's docker-registry on loopback; yields host:port."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "registry.yml"
    config.write_text("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                      f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'registry'}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.e2e
def test_push_then_build_from_the_pushed_image_elsewhere(registry: str, data_root: Path, state_dir: Path,
                                                         tmp_path: Path) -> None:
    bootstrap_busybox(data_root)
    ctx = write_tree(tmp_path / "ctx", {"Dockerfile": "FROM busybox\nRUN echo pushed > /p\n"})
    pushed = dockyard("build", "-t", f"{registry}/app:1", "--push", str(ctx), root=data_root, state=state_dir)
    assert pushed.returncode == 0, pushed.stderr
    other = tmp_path / "other-root"  # a machine that has never seen the image: FROM pulls it
    ctx2 = write_tree(tmp_path / "ctx2", {"Dockerfile": f"FROM {registry}/app:1\nRUN cat /p > /q\n"})
    built = dockyard("build", "-t", "child", "-o", f"type=local,dest={tmp_path / 'fs'}", str(ctx2),
                     root=other, state=state_dir)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "fs" / "q").read_text() == "pushed\n"
