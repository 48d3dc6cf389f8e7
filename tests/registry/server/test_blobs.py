"""Blob uploads and reads against the in-process server: every way a client can upload."""

from __future__ import annotations

import asyncio
import hashlib
import os

from dockyard.base.digest import Digest
from dockyard.oci.content import ContentStore

from ..helpers import sha256


def _store(data_root) -> ContentStore:
    return ContentStore(data_root / "content")


async def _code(resp) -> str:
    return (await resp.json())["errors"][0]["code"]


async def test_base_endpoint_answers_api_version(api):
    resp = await api.get("/v2/")
    assert resp.status == 200
    assert resp.headers["Docker-Distribution-API-Version"] == "registry/2.0"


async def test_monolithic_upload_then_head_get_and_range(api, data_root):
    data = os.urandom(100_000)
    resp = await api.post(f"/v2/a/b/blobs/uploads/?digest={sha256(data)}", data=data)
    assert resp.status == 201
    assert resp.headers["Location"] == f"/v2/a/b/blobs/{sha256(data)}"
    head = await api.head(f"/v2/a/b/blobs/{sha256(data)}")
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == sha256(data)
    got = await api.get(f"/v2/a/b/blobs/{sha256(data)}")
    assert await got.read() == data
    part = await api.get(f"/v2/a/b/blobs/{sha256(data)}", headers={"Range": "bytes=10-19"})
    assert part.status == 206 and await part.read() == data[10:20]
    # the pushed blob is the content store's blob, the one the engine reads
    assert _store(data_root).path(Digest.parse(sha256(data))).read_bytes() == data


async def test_blob_is_visible_only_in_repositories_it_was_pushed_to(api):
    data = b"private"
    await api.post(f"/v2/a/blobs/uploads/?digest={sha256(data)}", data=data)
    resp = await api.get(f"/v2/other/blobs/{sha256(data)}")
    assert resp.status == 404 and await _code(resp) == "BLOB_UNKNOWN"


async def test_chunked_upload_with_status_and_content_range(api):
    data = os.urandom(300_000)
    start = await api.post("/v2/repo/blobs/uploads/")
    assert start.status == 202
    loc = start.headers["Location"]
    r1 = await api.patch(loc, data=data[:100_000], headers={"Content-Range": "0-99999"})
    assert r1.status == 202 and r1.headers["Range"] == "0-99999"
    bad = await api.patch(loc, data=data[:10], headers={"Content-Range": "5-14"})
    assert bad.status == 416
    r2 = await api.patch(loc, data=data[100_000:200_000], headers={"Content-Range": "100000-199999"})
    assert r2.headers["Range"] == "0-199999"
    status = await api.get(loc)
    assert status.status == 204 and status.headers["Range"] == "0-199999"
    done = await api.put(f"{loc}?digest={sha256(data)}", data=data[200_000:])
    assert done.status == 201
    assert await (await api.get(f"/v2/repo/blobs/{sha256(data)}")).read() == data


async def test_digest_mismatch_is_refused_and_nothing_stored(api, data_root):
    data = b"these bytes"
    wrong = sha256(b"other bytes")
    resp = await api.post(f"/v2/repo/blobs/uploads/?digest={wrong}", data=data)
    assert resp.status == 400 and await _code(resp) == "DIGEST_INVALID"
    start = await api.post("/v2/repo/blobs/uploads/")
    resp = await api.put(f"{start.headers['Location']}?digest={wrong}", data=data)
    assert await _code(resp) == "DIGEST_INVALID"
    assert list(_store(data_root).list()) == []
    assert (await api.head(f"/v2/repo/blobs/{wrong}")).status == 404


async def test_interrupted_upload_resumes_after_server_restart(make_api, data_root):
    data = os.urandom(3 << 20)
    api = await make_api()
    loc = (await api.post("/v2/repo/blobs/uploads/")).headers["Location"]
    # A client that dies mid-PATCH: announce 3 MiB, send 1 MiB, drop the connection.
    _reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    writer.write(f"PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode())
    writer.write(data[: 1 << 20])
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await asyncio.sleep(0.2)
    await api.close()
    api = await make_api()  # a fresh server process on the same data root
    status = await api.get(loc)
    offset = int(status.headers["Range"].split("-")[1]) + 1
    assert 0 < offset <= 1 << 20
    r = await api.patch(loc, data=data[offset:], headers={"Content-Range": f"{offset}-{len(data) - 1}"})
    assert r.status == 202
    assert (await api.put(f"{loc}?digest={sha256(data)}")).status == 201
    assert _store(data_root).path(Digest.parse(sha256(data))).read_bytes() == data


async def test_two_concurrent_pushes_of_the_same_blob(api, data_root):
    data = os.urandom(2 << 20)

    async def push(repo: str) -> int:
        loc = (await api.post(f"/v2/{repo}/blobs/uploads/")).headers["Location"]
        await api.patch(loc, data=data)
        return (await api.put(f"{loc}?digest={sha256(data)}")).status

    assert await asyncio.gather(push("one"), push("two")) == [201, 201]
    assert list(_store(data_root).list()) == [Digest.parse(sha256(data))]
    for repo in ("one", "two"):
        assert (await api.head(f"/v2/{repo}/blobs/{sha256(data)}")).status == 200


async def test_cross_repository_mount(api):
    data = b"shared layer"
    await api.post(f"/v2/src/blobs/uploads/?digest={sha256(data)}", data=data)
    resp = await api.post(f"/v2/dst/blobs/uploads/?mount={sha256(data)}&from=src")
    assert resp.status == 201 and resp.headers["Docker-Content-Digest"] == sha256(data)
    assert (await api.head(f"/v2/dst/blobs/{sha256(data)}")).status == 200
    fallback = await api.post(f"/v2/dst2/blobs/uploads/?mount={sha256(data)}&from=nowhere")
    assert fallback.status == 202 and "Docker-Upload-UUID" in fallback.headers


async def test_sha512_blobs_monolithic_and_chunked(api, data_root):
    data = os.urandom(50_000)
    d512 = "sha512:" + hashlib.sha512(data).hexdigest()
    assert (await api.post(f"/v2/r/blobs/uploads/?digest={d512}", data=data)).status == 201
    other = data[::-1]
    o512 = "sha512:" + hashlib.sha512(other).hexdigest()
    loc = (await api.post("/v2/r/blobs/uploads/")).headers["Location"]
    await api.patch(loc, data=other)
    assert (await api.put(f"{loc}?digest={o512}")).status == 201
    assert await (await api.get(f"/v2/r/blobs/{o512}")).read() == other
    assert {d.algorithm for d in _store(data_root).list()} == {"sha512"}


async def test_cancel_upload_and_unknown_upload(api):
    loc = (await api.post("/v2/r/blobs/uploads/")).headers["Location"]
    await api.patch(loc, data=b"abc")
    assert (await api.delete(loc)).status == 204
    resp = await api.get(loc)
    assert resp.status == 404 and await _code(resp) == "BLOB_UPLOAD_UNKNOWN"


async def test_delete_blob_and_invalid_names(api):
    data = b"gone soon"
    await api.post(f"/v2/r/blobs/uploads/?digest={sha256(data)}", data=data)
    assert (await api.delete(f"/v2/r/blobs/{sha256(data)}")).status == 202
    assert (await api.head(f"/v2/r/blobs/{sha256(data)}")).status == 404
    resp = await api.post("/v2/Bad_Name/blobs/uploads/")
    assert resp.status == 400 and await _code(resp) == "NAME_INVALID"
    resp = await api.get("/v2/r/blobs/sha256:abc")
    assert await _code(resp) == "DIGEST_INVALID"
