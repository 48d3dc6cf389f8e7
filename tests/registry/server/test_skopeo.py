"""skopeo, a real distribution client, pushes to and pulls from `dockyard registry serve`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from ..helpers import require_tool, serve, tar_of, write_layout

pytestmark = pytest.mark.e2e


def skopeo(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([require_tool("skopeo"), *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)}: {proc.stderr}")
    return proc


def _layout(tmp_path: Path) -> tuple[Path, str]:
    layout = tmp_path / "layout"
    digest = write_layout(layout, "v1", [tar_of({"hello.txt": b"hello\n"}), tar_of({"big.bin": os.urandom(300_000)})])
    return layout, digest


def _round_trip(tmp_path: Path, host: str, *creds: str) -> None:
    layout, digest = _layout(tmp_path)
    dest = f"docker://{host}/team/app:v1"
    skopeo("copy", "--dest-tls-verify=false", *[f"--dest-creds={c}" for c in creds], f"oci:{layout}:v1", dest)
    skopeo("copy", "--dest-tls-verify=false", *[f"--dest-creds={c}" for c in creds], f"oci:{layout}:v1",
           f"docker://{host}/team/app:v2")
    src_creds = [f"--creds={c}" for c in creds]
    info = json.loads(skopeo("inspect", "--tls-verify=false", *src_creds, dest).stdout)
    assert info["Digest"] == digest
    assert sorted(info["RepoTags"]) == ["v1", "v2"]
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", *src_creds, f"docker://{host}/team/app").stdout)
    assert tags["Tags"] == ["v1", "v2"]
    back = tmp_path / "back"
    skopeo("copy", "--src-tls-verify=false", *[f"--src-creds={c}" for c in creds], dest, f"oci:{back}:v1")
    pulled = json.loads((back / "index.json").read_text())["manifests"][0]["digest"]
    assert pulled == digest
    for blob in (layout / "blobs" / "sha256").iterdir():
        assert (back / "blobs" / "sha256" / blob.name).read_bytes() == blob.read_bytes()


def test_push_pull_inspect_without_auth(tmp_path):
    with serve(tmp_path / "root") as reg:
        _round_trip(tmp_path, reg.host)


def _htpasswd(tmp_path: Path) -> Path:
    line = subprocess.run([require_tool("htpasswd"), "-Bbn", "alice", "s3cret"], check=True,
                          capture_output=True, text=True).stdout
    path = tmp_path / "htpasswd"
    path.write_text(line)
    return path


@pytest.mark.parametrize("mode", [[], ["--token-auth"]], ids=["basic", "token"])
def test_push_pull_with_auth(tmp_path, mode):
    with serve(tmp_path / "root", "--htpasswd", str(_htpasswd(tmp_path)), *mode) as reg:
        layout, _ = _layout(tmp_path / "refused")
        denied = skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1",
                        f"docker://{reg.host}/team/app:v1", check=False)
        assert denied.returncode != 0 and "unauthorized" in denied.stderr.lower()
        wrong = skopeo("inspect", "--tls-verify=false", "--creds=alice:wrong",
                       f"docker://{reg.host}/team/app:v1", check=False)
        assert wrong.returncode != 0
        _round_trip(tmp_path, reg.host, "alice:s3cret")


def test_anonymous_read(tmp_path):
    with serve(tmp_path / "root", "--htpasswd", str(_htpasswd(tmp_path)), "--token-auth", "--anonymous-read") as reg:
        layout, digest = _layout(tmp_path)
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds=alice:s3cret", f"oci:{layout}:v1",
               f"docker://{reg.host}/pub:v1")
        info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{reg.host}/pub:v1").stdout)
        assert info["Digest"] == digest


def test_podman_pulls_from_our_server(tmp_path, request):
    podman = require_tool("podman")
    with serve(tmp_path / "root") as reg:
        layout, _ = _layout(tmp_path)
        skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:v1", f"docker://{reg.host}/team/app:v1")
        runroot = Path("/tmp") / f"dy-pm-{uuid.uuid4().hex[:8]}"  # podman wants it short
        store = ["--root", str(tmp_path / "podman"), "--runroot", str(runroot), "--storage-driver", "vfs"]
        request.addfinalizer(lambda: shutil.rmtree(runroot, ignore_errors=True))
        proc = subprocess.run([podman, *store, "pull", "--tls-verify=false", f"{reg.host}/team/app:v1"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        listed = subprocess.run([podman, *store, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                capture_output=True, text=True, timeout=60).stdout
        assert f"{reg.host}/team/app:v1" in listed
