"""Our client against our own server: the bearer-token flow, resumed pulls, and the errors a user sees."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re

import pytest

from dockyard.base.digest import Digest
from dockyard.base.errors import InvalidArgument, NotFound, Unavailable
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore
from dockyard.oci.manifest import Platform
from dockyard.oci.names import parse
from dockyard.registry.client.progress import PlainProgress, Progress
from dockyard.registry.client.pull import pull
from dockyard.registry.client.push import push
from dockyard.registry.client.settings import ClientSettings

from ..helpers import OCI_MANIFEST, cli, free_port, htpasswd_file, make_image, serve, sha256

pytestmark = pytest.mark.e2e


def _pull(root, ref, **kw):
    images = ImageStore(root)
    try:
        return asyncio.run(pull(parse(ref), images=images, settings=ClientSettings.load(root), credentials=None,
                                progress=kw.pop("progress", Progress()), **kw))
    finally:
        images.close()


def _push(root, ref):
    images = ImageStore(root)
    try:
        return asyncio.run(push(parse(ref), images=images, settings=ClientSettings.load(root), credentials=None,
                                progress=Progress()))
    finally:
        images.close()


def test_token_auth_login_push_pull(tmp_path):
    src, dst, cfg = tmp_path / "src", tmp_path / "dst", tmp_path / "docker"
    digest = make_image(src, "app:v1")
    with serve(tmp_path / "reg", "--htpasswd", str(htpasswd_file(tmp_path)), "--token-auth") as reg:
        cli(src, "tag", "app:v1", f"{reg.host}/app:v1")
        cli(src, "login", reg.host, "-u", "alice", "-p", "s3cret", docker_config=cfg)
        cli(src, "push", f"{reg.host}/app:v1", docker_config=cfg)
        cli(dst, "pull", f"{reg.host}/app:v1", docker_config=cfg)
    assert str(ImageStore(dst).resolve(f"{reg.host}/app:v1").digest) == digest


def test_interrupted_pull_resumes_with_a_range_request(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1", sizes=(4_000_000,))
    images = ImageStore(src)
    layer = images.manifest_for(Digest.parse(digest))[0].layers[0]
    images.close()
    blob = ContentStore(src / "content").path(layer.digest).read_bytes()
    # an earlier pull died half-way through the layer: its partial ingest is on disk
    with ContentStore(dst / "content").writer(f"pull-{layer.digest}", expected=layer.digest, size=layer.size) as w:
        w.write(blob[: len(blob) // 2])
    with serve(tmp_path / "reg") as reg:
        cli(src, "tag", "app:v1", f"{reg.host}/app:v1")
        _push(src, f"{reg.host}/app:v1")
        out = io.StringIO()
        _pull(dst, f"{reg.host}/app:v1", progress=PlainProgress(out))
    assert ContentStore(dst / "content").path(layer.digest).read_bytes() == blob
    assert "Pull complete" in out.getvalue()


def test_tampered_blob_is_refused_and_not_stored(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1")
    with serve(tmp_path / "reg") as reg:
        cli(src, "tag", "app:v1", f"{reg.host}/app:v1")
        _push(src, f"{reg.host}/app:v1")
        images = ImageStore(src)
        layer = images.manifest_for(Digest.parse(digest))[0].layers[0]
        images.close()
        served = ContentStore(reg.root / "content").path(layer.digest)
        data = bytearray(served.read_bytes())
        data[100] ^= 0xFF
        os.chmod(served, 0o644)
        served.write_bytes(bytes(data))  # bit rot on the registry's disk
        with pytest.raises(InvalidArgument, match="does not match its digest"):
            _pull(dst, f"{reg.host}/app:v1")
    assert not ContentStore(dst / "content").has(layer.digest)
    with pytest.raises(NotFound):
        ImageStore(dst).resolve(f"{reg.host}/app:v1")


def test_no_matching_platform_lists_the_platforms_there_are(tmp_path):
    src = tmp_path / "src"
    digest = make_image(src, "app:v1")
    with serve(tmp_path / "reg") as reg:
        cli(src, "tag", "app:v1", f"{reg.host}/app:v1")
        _push(src, f"{reg.host}/app:v1")
        body = ContentStore(src / "content").path(Digest.parse(digest)).read_bytes()
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": [{"mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body),
                                           "platform": {"os": "linux", "architecture": "s390x"}}]}).encode()
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(
            f"{reg.url}/v2/app/manifests/multi", data=index, method="PUT",
            headers={"Content-Type": "application/vnd.oci.image.index.v1+json"}))
        with pytest.raises(NotFound, match="linux/s390x"):
            _pull(tmp_path / "dst", f"{reg.host}/app:multi", platform=Platform("linux", "riscv64"))
        result = _pull(tmp_path / "dst", f"{reg.host}/app:multi", platform=Platform("linux", "s390x"))
        assert str(result.digest) == digest


def test_unknown_image_and_offline_registry(tmp_path):
    with serve(tmp_path / "reg") as reg, pytest.raises(NotFound, match="not found"):
        _pull(tmp_path / "dst", f"{reg.host}/nothing:here")
    with pytest.raises(Unavailable, match="cannot connect"):
        _pull(tmp_path / "dst", f"127.0.0.1:{free_port()}/app:v1")


def test_docker_io_pulls_go_to_a_configured_mirror(tmp_path, monkeypatch):
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1")
    with serve(tmp_path / "mirror") as reg:
        cli(src, "tag", "app:v1", f"{reg.host}/library/app:v1")
        _push(src, f"{reg.host}/library/app:v1")
        # the mirror answers for docker.io, so "app:v1" never leaves this machine
        monkeypatch.setenv("DOCKYARD_REGISTRY_MIRRORS", reg.url)
        result = _pull(dst, "app:v1")
    assert str(result.digest) == digest
    assert str(ImageStore(dst).resolve("docker.io/library/app:v1").digest) == digest


@pytest.mark.parametrize("direction", ["up", "down"], ids=["push", "pull"])
def test_transfer_cut_mid_blob_resumes(tmp_path, direction):
    """A connection dropped half-way through a 4 MB layer: the push continues from the upload's
    offset, the pull from its partial ingest with a Range request; both end byte-identical."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    digest = make_image(src, "app:v1", sizes=(4_000_000,))
    with serve(tmp_path / "reg") as reg:
        port = int(reg.host.rsplit(":", 1)[1])
        if direction == "down":  # put the image there first, directly
            cli(src, "tag", "app:v1", f"{reg.host}/app:v1")
            _push(src, f"{reg.host}/app:v1")

        out = io.StringIO()

        async def through_proxy() -> int:
            from ..helpers import CuttingProxy

            async with CuttingProxy(port, cut_after=1_500_000, direction=direction) as proxy:
                host = f"127.0.0.1:{proxy.port}"
                if direction == "up":
                    images = ImageStore(src)
                    images.tag(f"{host}/app:v1", Digest.parse(digest), OCI_MANIFEST)
                    await push(parse(f"{host}/app:v1"), images=images, settings=ClientSettings.load(src),
                               credentials=None, progress=PlainProgress(out))
                    images.close()
                else:
                    images = ImageStore(dst)
                    await pull(parse(f"{host}/app:v1"), images=images, settings=ClientSettings.load(dst),
                               credentials=None, progress=PlainProgress(out))
                    images.close()
                return proxy.cuts

        assert asyncio.run(through_proxy()) == 1
        assert re.search(r"Resuming at [1-9]", out.getvalue()), out.getvalue()  # continued, not restarted
        if direction == "up":
            _pull(dst, f"{reg.host}/app:v1")
    images = ImageStore(dst)
    manifest, _ = images.manifest_for(Digest.parse(digest))
    for d in (manifest.config.digest, *(layer.digest for layer in manifest.layers)):
        assert ContentStore(dst / "content").path(d).read_bytes() == ContentStore(src / "content").path(d).read_bytes()
    images.close()
