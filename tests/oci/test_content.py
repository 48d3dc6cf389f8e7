"""The content store: verified, atomic, resumable ingests; reads by digest."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dockyard.base.digest import Digest
from dockyard.base.errors import Conflict
from dockyard.oci.content import BlobNotFound, ContentStore, DigestMismatch

PAYLOAD = os.urandom(3 << 20) + b"tail"
DIGEST = Digest.from_bytes(PAYLOAD)


@pytest.fixture
def store(data_root: Path) -> ContentStore:
    return ContentStore(data_root / "content")


def test_ingest_stream_is_verified_and_readable(store: ContentStore) -> None:
    got = store.ingest(io.BytesIO(PAYLOAD), expected=DIGEST, size=len(PAYLOAD))
    assert got == DIGEST
    assert store.has(DIGEST) and store.size(DIGEST) == len(PAYLOAD)
    assert store.path(DIGEST) == store.root / "blobs" / "sha256" / DIGEST.encoded
    with store.open(DIGEST) as f:
        assert Digest.from_stream(f) == DIGEST
    assert list(store.list()) == [DIGEST]
    assert store.active_ingests() == []
    assert not any(store.ingests.iterdir())


def test_digest_mismatch_leaves_nothing(store: ContentStore) -> None:
    wrong = Digest.from_bytes(b"something else")
    with pytest.raises(DigestMismatch, match="expected"):
        store.ingest(io.BytesIO(PAYLOAD), expected=wrong)
    with pytest.raises(DigestMismatch, match="bytes"):
        store.ingest(io.BytesIO(PAYLOAD), size=10)
    assert list(store.list()) == []
    assert not store.ingests.exists() or not any(store.ingests.iterdir())


def test_put_bytes_read_bytes_delete(store: ContentStore) -> None:
    d = store.put_bytes(b'{"a": 1}')
    assert store.put_bytes(b'{"a": 1}') == d  # idempotent
    assert store.read_bytes(d) == b'{"a": 1}'
    with pytest.raises(Exception, match="too large"):
        store.read_bytes(d, limit=3)
    store.delete(d)
    with pytest.raises(BlobNotFound, match="not found"):
        store.open(d)


def test_second_writer_on_same_ref_conflicts(store: ContentStore) -> None:
    with store.writer("ref-1") as w:
        w.write(b"abc")
        assert store.active_ingests() == ["ref-1"]
        with pytest.raises(Conflict, match="ref-1"):
            store.writer("ref-1")
    assert store.active_ingests() == []


def test_resume_after_close_continues_at_offset(store: ContentStore) -> None:
    with store.writer("r", expected=DIGEST, size=len(PAYLOAD)) as w:
        w.write(PAYLOAD[:1000])
    with store.writer("r", expected=DIGEST, size=len(PAYLOAD)) as w:
        assert w.offset == 1000
        w.write(PAYLOAD[1000:])
        assert w.commit() == DIGEST
    assert store.read_bytes(DIGEST, limit=8 << 20) == PAYLOAD


def test_partial_for_another_digest_is_discarded(store: ContentStore) -> None:
    with store.writer("r", expected=Digest.from_bytes(b"x")) as w:
        w.write(b"junk")
    with store.writer("r", expected=DIGEST) as w:
        assert w.offset == 0


def test_lease_protects_until_released(store: ContentStore) -> None:
    d = store.put_bytes(b"leased")
    with store.lease() as lease:
        lease.add(d)
        assert store.leased() == {d}
    assert store.leased() == set()


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from dockyard.base.digest import Digest
    from dockyard.oci.content import ContentStore
    store = ContentStore(Path(sys.argv[1]))
    w = store.writer("killme", expected=Digest.parse(sys.argv[2]), size=int(sys.argv[3]))
    data = sys.stdin.buffer.read(int(sys.argv[4]))
    w.write(data)
    w._file.flush()
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_mid_ingest_leaves_no_blob_and_next_ingest_completes(store: ContentStore) -> None:
    half = len(PAYLOAD) // 2
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store.root), str(DIGEST), str(len(PAYLOAD)), str(half)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(PAYLOAD[:half])
    proc.stdin.close()
    assert proc.stdout.readline().strip() == b"ready"
    assert store.active_ingests() == ["killme"]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert not store.has(DIGEST)
    assert list(store.list()) == []
    assert store.active_ingests() == []  # the kernel dropped the dead writer's lock

    with store.writer("killme", expected=DIGEST, size=len(PAYLOAD)) as w:
        assert w.offset == half  # resumed, not restarted
    assert store.ingest(io.BytesIO(PAYLOAD), expected=DIGEST, size=len(PAYLOAD), ref="killme") == DIGEST
    with store.open(DIGEST) as f:
        assert Digest.from_stream(f) == DIGEST
    assert not any(store.ingests.iterdir())


def test_concurrent_ingest_of_same_blob_waits_for_the_first(store: ContentStore) -> None:
    import threading

    first = store.writer(f"ingest-{DIGEST}", expected=DIGEST, size=len(PAYLOAD))
    first.write(PAYLOAD[:100])
    result: list[Digest] = []
    second = threading.Thread(target=lambda: result.append(store.ingest(io.BytesIO(PAYLOAD), expected=DIGEST)))
    second.start()
    first.write(PAYLOAD[100:])
    first.commit()
    second.join(timeout=30)
    assert result == [DIGEST]
    with pytest.raises(Conflict), store.writer("busy"):
        store.ingest(io.BytesIO(b"x"), ref="busy", wait=0)


def test_damaged_partial_is_restarted_from_the_start(store: ContentStore) -> None:
    with store.writer(f"ingest-{DIGEST}", expected=DIGEST, size=len(PAYLOAD)) as w:
        w.write(b"\0" * 4096)  # what a torn write after power loss can leave
    assert store.ingest(io.BytesIO(PAYLOAD), expected=DIGEST, size=len(PAYLOAD)) == DIGEST
    with store.open(DIGEST) as f:
        assert Digest.from_stream(f) == DIGEST
