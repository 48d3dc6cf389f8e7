"""Manifests, tags, catalog and referrers against the in-process server."""

from __future__ import annotations

import json

from dockyard.oci.content import ContentStore

from ..helpers import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, sha256

OCI_INDEX = "application/vnd.oci.image.index.v1+json"


async def _code(resp) -> str:
    return (await resp.json())["errors"][0]["code"]


async def push_image(api, repo: str, tag: str | None = None, *, extra: dict | None = None,
                     layer: bytes = b"layer") -> tuple[str, bytes]:
    config = b'{"architecture":"amd64","os":"linux"}'
    for data in (config, layer):
        await api.post(f"/v2/{repo}/blobs/uploads/?digest={sha256(data)}", data=data)
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
           "layers": [{"mediaType": OCI_LAYER, "digest": sha256(layer), "size": len(layer)}], **(extra or {})}
    body = json.dumps(doc).encode()
    resp = await api.put(f"/v2/{repo}/manifests/{tag or sha256(body)}", data=body,
                         headers={"Content-Type": OCI_MANIFEST})
    assert resp.status == 201, await resp.text()
    return sha256(body), body


async def test_put_get_head_delete_by_tag_and_digest(api):
    digest, body = await push_image(api, "app", "v1")
    for ref in ("v1", digest):
        resp = await api.get(f"/v2/app/manifests/{ref}", headers={"Accept": OCI_MANIFEST})
        assert resp.status == 200 and await resp.read() == body
        assert resp.headers["Content-Type"] == OCI_MANIFEST
        assert resp.headers["Docker-Content-Digest"] == digest
    head = await api.head("/v2/app/manifests/v1")
    assert head.headers["Content-Length"] == str(len(body))
    assert (await api.delete("/v2/app/manifests/v1")).status == 202  # a tag delete keeps the manifest
    assert (await api.get("/v2/app/manifests/v1")).status == 404
    assert (await api.get(f"/v2/app/manifests/{digest}")).status == 200
    assert (await api.delete(f"/v2/app/manifests/{digest}")).status == 202
    resp = await api.get(f"/v2/app/manifests/{digest}")
    assert resp.status == 404 and await _code(resp) == "MANIFEST_UNKNOWN"


async def test_unknown_repository_and_manifest(api):
    resp = await api.get("/v2/nothing/manifests/latest")
    assert await _code(resp) == "NAME_UNKNOWN"
    resp = await api.get("/v2/nothing/tags/list")
    assert resp.status == 404 and await _code(resp) == "NAME_UNKNOWN"


async def _assert_nothing_stored(api, data_root, before: int) -> None:
    assert len(list(ContentStore(data_root / "content").list())) == before
    assert (await api.get("/v2/app/tags/list")).status in (200, 404)
    resp = await api.get("/v2/app/manifests/bad")
    assert resp.status == 404


async def test_malformed_manifests_are_refused_and_nothing_stored(api, data_root):
    await push_image(api, "app", "good")
    before = len(list(ContentStore(data_root / "content").list()))
    cases = [
        (b"not json", "MANIFEST_INVALID"),
        (b"[1, 2]", "MANIFEST_INVALID"),
        (b'{"schemaVersion": 1}', "MANIFEST_INVALID"),
        (b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "config": {}, "layers": []}',
         "MANIFEST_INVALID"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                     "config": {"mediaType": OCI_CONFIG, "digest": sha256(b"absent"), "size": 6},
                     "layers": []}).encode(), "MANIFEST_BLOB_UNKNOWN"),
        (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha256(b"x"), "size": 1}]}).encode(), "MANIFEST_BLOB_UNKNOWN"),
    ]
    for body, code in cases:
        resp = await api.put("/v2/app/manifests/bad", data=body, headers={"Content-Type": OCI_MANIFEST
                                                                           if b"index" not in body else OCI_INDEX})
        assert resp.status == 400, body
        assert await _code(resp) == code, body
    await _assert_nothing_stored(api, data_root, before)
    tags = await (await api.get("/v2/app/tags/list")).json()
    assert tags["tags"] == ["good"]


async def test_oversized_manifest_and_digest_mismatch(api, data_root):
    resp = await api.put("/v2/app/manifests/big", data=b" " * ((4 << 20) + 1),
                         headers={"Content-Type": OCI_MANIFEST})
    assert resp.status == 413 and await _code(resp) == "SIZE_INVALID"
    _digest, body = await push_image(api, "app", "v1")
    resp = await api.put(f"/v2/app/manifests/{sha256(b'other')}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert resp.status == 400 and await _code(resp) == "DIGEST_INVALID"
    assert (await api.get("/v2/app/manifests/big")).status == 404


async def test_index_needs_its_children_and_docker_types_round_trip(api):
    digest, body = await push_image(api, "multi")
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                                       "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    ctype = "application/vnd.docker.distribution.manifest.list.v2+json"
    resp = await api.put("/v2/multi/manifests/latest", data=index, headers={"Content-Type": ctype})
    assert resp.status == 201
    got = await api.get("/v2/multi/manifests/latest")
    assert got.headers["Content-Type"] == ctype and await got.read() == index


async def test_tags_list_pagination_and_catalog(api):
    for repo in ("b/one", "a/two", "c"):
        await push_image(api, repo, "t0")
    for tag in ("v3", "v1", "v2", "latest"):
        await push_image(api, "c", tag)
    full = await (await api.get("/v2/c/tags/list")).json()
    assert full == {"name": "c", "tags": ["latest", "t0", "v1", "v2", "v3"]}
    page = await api.get("/v2/c/tags/list?n=2")
    assert (await page.json())["tags"] == ["latest", "t0"]
    assert page.headers["Link"] == '</v2/c/tags/list?n=2&last=t0>; rel="next"'
    page2 = await api.get("/v2/c/tags/list?n=2&last=t0")
    assert (await page2.json())["tags"] == ["v1", "v2"]
    last = await api.get("/v2/c/tags/list?n=2&last=v2")
    assert (await last.json())["tags"] == ["v3"] and "Link" not in last.headers
    assert (await (await api.get("/v2/_catalog")).json())["repositories"] == ["a/two", "b/one", "c"]
    cat = await api.get("/v2/_catalog?n=1&last=a/two")
    assert (await cat.json())["repositories"] == ["b/one"] and "Link" in cat.headers


async def test_referrers_with_subject_and_artifact_type_filter(api):
    subject, body = await push_image(api, "app", "v1")
    sub = {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(body)}
    sig = {"subject": sub, "artifactType": "application/vnd.example.sig", "annotations": {"k": "v"}}
    sbom = {"subject": sub, "artifactType": "application/vnd.example.sbom"}
    config = b'{"architecture":"amd64","os":"linux"}'
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                       "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
                       "layers": [], **sig}).encode()
    resp = await api.put(f"/v2/app/manifests/{sha256(body)}", data=body, headers={"Content-Type": OCI_MANIFEST})
    assert resp.headers["OCI-Subject"] == subject
    await push_image(api, "app", extra=sbom, layer=b"sbom")
    index = await (await api.get(f"/v2/app/referrers/{subject}")).json()
    assert index["mediaType"] == OCI_INDEX
    assert sorted(m["artifactType"] for m in index["manifests"]) == [
        "application/vnd.example.sbom", "application/vnd.example.sig"]
    filtered = await api.get(f"/v2/app/referrers/{subject}?artifactType=application/vnd.example.sig")
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    entries = (await filtered.json())["manifests"]
    assert entries == [{"mediaType": OCI_MANIFEST, "digest": sha256(body), "size": len(body),
                        "artifactType": "application/vnd.example.sig", "annotations": {"k": "v"}}]
    empty = await (await api.get(f"/v2/app/referrers/{sha256(b'none')}")).json()
    assert empty["manifests"] == []


async def test_put_by_digest_with_tag_parameters(api):
    config = b'{"architecture":"amd64","os":"linux"}'
    await api.post(f"/v2/app/blobs/uploads/?digest={sha256(config)}", data=config)
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                       "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)}}).encode()
    resp = await api.put(f"/v2/app/manifests/{sha256(body)}?tag=a&tag=b", data=body,
                         headers={"Content-Type": OCI_MANIFEST})
    assert resp.status == 201 and resp.headers["OCI-Tag"] == "a, b"
    assert (await (await api.get("/v2/app/tags/list")).json())["tags"] == ["a", "b"]


async def test_accept_negotiation(api):
    _digest, body = await push_image(api, "app", "v1")
    docker_only = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    resp = await api.get("/v2/app/manifests/v1", headers=docker_only)
    assert resp.status == 404 and await _code(resp) == "MANIFEST_UNKNOWN"
    for accept in (OCI_MANIFEST, "*/*", "application/json", f"{OCI_INDEX}, {OCI_MANIFEST};q=0.9"):
        resp = await api.get("/v2/app/manifests/v1", headers={"Accept": accept})
        assert resp.status == 200 and await resp.read() == body, accept
