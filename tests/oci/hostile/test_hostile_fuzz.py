"""Random damage to a valid layer: every outcome is a clean apply or a dockyard error, never a crash
with a raw Python exception, and never a write outside the target."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockyard.base.errors import DockyardError
from dockyard.oci.layer import apply_layer

from .hostile_tars import E, build

BASE = build([E("dir", "dir", mode=0o755), E("dir/file", data=b"x" * 700), E("link", "symlink", link="dir"),
              E("hard", "hardlink", link="dir/file"), E("dir/.wh.gone"), E("fifo", "fifo")])


with tarfile.open(fileobj=io.BytesIO(BASE)) as _tar:
    HEADERS = [m.offset for m in _tar.getmembers()]


def _fix_checksum(blob: bytearray, at: int) -> None:
    """Recompute a header's checksum so that the damage reaches the parser behind the check."""
    blob[at + 148 : at + 156] = b" " * 8
    blob[at + 148 : at + 156] = b"%06o\0 " % sum(blob[at : at + 512])


def _apply(tmp_path: Path, blob: bytes) -> None:
    sandbox = tmp_path / "sb"
    shutil.rmtree(sandbox, ignore_errors=True)
    (sandbox / "target").mkdir(parents=True)
    (sandbox / "outside").mkdir()
    try:
        apply_layer(io.BytesIO(bytes(blob)), sandbox / "target", allow_devices=False)
    except DockyardError:
        pass
    assert sorted(p.name for p in sandbox.iterdir()) == ["outside", "target"]
    assert list((sandbox / "outside").iterdir()) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_bytes_fail_cleanly(tmp_path: Path, edits: list[tuple[int, int]]) -> None:
    blob = bytearray(BASE)
    for pos, value in edits:
        blob[pos] = value
    _apply(tmp_path, bytes(blob))


_FIELD_BYTES = st.sampled_from([0, 0x20, ord("/"), ord("."), ord("7"), ord("0"), 0x80, 0xFF, ord("5"), ord("x")])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(HEADERS), st.integers(0, 499), _FIELD_BYTES), min_size=1, max_size=6))
def test_damaged_headers_with_valid_checksums_fail_cleanly(tmp_path: Path, edits: list[tuple[int, int, int]]) -> None:
    blob = bytearray(BASE)
    for header, pos, value in edits:
        if 148 <= pos < 156:
            continue
        blob[header + pos] = value
        _fix_checksum(blob, header)
    _apply(tmp_path, bytes(blob))
