"""Garbage collection removes only registry blobs nobody refers to, never the engine's."""

from __future__ import annotations

from dockyard.base.digest import Digest
from dockyard.oci.content import ContentStore
from dockyard.oci.images import ImageStore
from dockyard.registry.server.gc import collect

from ..helpers import OCI_MANIFEST, sha256
from .test_manifests import push_image


async def test_gc_after_delete_spares_linked_and_engine_blobs(api, data_root):
    digest, _ = await push_image(api, "app", "v1", layer=b"kept layer")
    gone, _ = await push_image(api, "old", "v1", layer=b"old layer")
    orphan = b"orphan"
    await api.post(f"/v2/app/blobs/uploads/?digest={sha256(orphan)}", data=orphan)
    await api.delete(f"/v2/app/blobs/{sha256(orphan)}")
    await api.delete(f"/v2/old/manifests/{gone}")
    await api.delete(f"/v2/old/blobs/{sha256(b'old layer')}")
    # the engine tags an image whose manifest the registry also stored: it must survive
    engine = ImageStore(data_root)
    engine.tag("app:v1", Digest.parse(digest), OCI_MANIFEST)
    engine.close()
    removed = {str(d) for d in collect(data_root)}
    assert removed == {sha256(orphan), gone, sha256(b"old layer")}
    store = ContentStore(data_root / "content")
    assert store.has(Digest.parse(digest)) and store.has(Digest.parse(sha256(b"kept layer")))
    assert not store.has(Digest.parse(sha256(orphan))) and not store.has(Digest.parse(gone))
    assert collect(data_root) == []


async def test_gc_drops_abandoned_upload_sessions(make_api, data_root):
    import time

    api = await make_api()
    loc = (await api.post("/v2/app/blobs/uploads/")).headers["Location"]
    await api.patch(loc, data=b"half a blob")
    await api.close()  # the server is gone; its session is left behind
    assert collect(data_root, now=time.time()) == []
    api = await make_api()
    assert (await api.get(loc)).status == 204  # young sessions are kept
    await api.close()
    collect(data_root, now=time.time() + 2 * 24 * 3600)
    assert ContentStore(data_root / "content").active_ingests() == []
    api = await make_api()
    assert (await api.get(loc)).status == 404
