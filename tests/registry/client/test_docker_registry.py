"""Our client pushes to and pulls from Debian's docker-registry (distribution 2.8) with htpasswd auth."""

from __future__ import annotations

import json
import subprocess

import pytest

from dockyard.base.digest import Digest
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore

from ..helpers import cli, docker_registry, htpasswd_file, make_image, require_tool

pytestmark = pytest.mark.e2e


def test_login_push_pull_against_distribution(tmp_path):
    require_tool("docker-registry")
    src, dst, cfg = tmp_path / "src", tmp_path / "dst", tmp_path / "docker"
    digest = make_image(src, "app:v1")
    with docker_registry(tmp_path / "reg", htpasswd_file(tmp_path)) as host:
        cli(src, "tag", "app:v1", f"{host}/team/app:v1")
        refused = cli(src, "push", f"{host}/team/app:v1", docker_config=cfg, check=False)
        assert refused.returncode != 0 and f"dockyard login {host}" in refused.stderr
        bad = cli(src, "login", host, "-u", "alice", "--password-stdin", input="wrong\n", docker_config=cfg,
                  check=False)
        assert bad.returncode != 0 and "incorrect username or password" in bad.stderr
        cli(src, "login", host, "-u", "alice", "--password-stdin", input="s3cret\n", docker_config=cfg)
        assert host in json.loads((cfg / "config.json").read_text())["auths"]
        out = cli(src, "push", f"{host}/team/app:v1", docker_config=cfg).stdout
        assert "Pushed" in out and digest in out
        again = cli(src, "push", f"{host}/team/app:v1", docker_config=cfg).stdout
        assert "Layer already exists" in again
        # a second repository on the same registry: blobs are mounted, not sent again
        cli(src, "tag", "app:v1", f"{host}/other/app:v1")
        mounted = cli(src, "push", f"{host}/other/app:v1", docker_config=cfg).stdout
        assert "Mounted from team/app" in mounted and "Pushed" not in mounted
        # skopeo, a third party, sees what we pushed
        info = json.loads(subprocess.run(
            [require_tool("skopeo"), "inspect", "--tls-verify=false", "--creds=alice:s3cret",
             f"docker://{host}/team/app:v1"], check=True, capture_output=True, text=True).stdout)
        assert info["Digest"] == digest
        pulled = cli(dst, "pull", f"{host}/team/app:v1", docker_config=cfg).stdout
        assert "Pull complete" in pulled and f"Digest: {digest}" in pulled
        assert "Already exists" in cli(dst, "pull", f"{host}/team/app:v1", docker_config=cfg).stdout
        cli(dst, "logout", host, docker_config=cfg)
        anon = cli(tmp_path / "anon", "pull", f"{host}/team/app:v1", docker_config=cfg, check=False)
        assert anon.returncode != 0 and "unauthorized" in anon.stderr
    images = ImageStore(dst)
    record = images.resolve(f"{host}/team/app:v1")
    assert str(record.digest) == digest
    theirs, ours = ContentStore(src / "content"), ContentStore(dst / "content")
    for d in images.referenced_blobs(Digest.parse(digest)):
        assert ours.path(d).read_bytes() == theirs.path(d).read_bytes()
    images.close()


def test_chunked_push_to_distribution(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1", sizes=(3_000_000,))
    with docker_registry(tmp_path / "reg") as host:
        cli(src, "tag", "app:v1", f"{host}/chunked:v1")
        cli(src, "push", "--chunk-size", "1000000", f"{host}/chunked:v1")
        cli(dst, "pull", "-q", f"{host}/chunked:v1")
    assert str(ImageStore(dst).resolve(f"{host}/chunked:v1").digest) == digest
