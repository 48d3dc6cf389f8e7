"""create_layer / apply_layer: round trips, determinism, compression, whiteouts, metadata."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from dockyard.base.digest import Digest
from dockyard.oci.layer import DiffIDMismatch, apply_layer, create_layer

CAP_NET_RAW = bytes.fromhex("0100000200200000000000000000000000000000")  # vfs cap v2, cap_net_raw+ep


def make_tree(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (root / "bin").mkdir()
    (root / "bin" / "tool").write_bytes(b"\x7fELF" + bytes(range(256)) * 40)
    os.chmod(root / "bin" / "tool", 0o4755)
    os.link(root / "bin" / "tool", root / "bin" / "tool-link")
    os.symlink("tool", root / "bin" / "sym")
    os.symlink("/nonexistent/abs", root / "dangling")
    deep = root / ("d" * 120) / ("e" * 120)
    deep.mkdir(parents=True)
    (deep / ("long-" * 30)).write_bytes(b"long name")
    (root / os.fsdecode(b"latin1-\xe9")).write_bytes(b"non-utf8 name")
    os.mkfifo(root / "fifo")
    (root / "empty").write_bytes(b"")
    os.setxattr(root / "etc" / "hosts", "user.note", b"hello")
    (root / "private").mkdir(mode=0o700)
    os.chmod(root / "private", 0o700)
    os.utime(root / "etc" / "hosts", (1_600_000_000, 1_600_000_000))
    os.utime(root / "etc", (1_500_000_000, 1_500_000_000))
    if os.geteuid() == 0:
        os.chown(root / "etc" / "hosts", 1234, 5678)
        os.lchown(root / "bin" / "sym", 42, 43)
        os.setxattr(root / "bin" / "tool", "security.capability", CAP_NET_RAW)
    return root


def describe(root: Path) -> dict[str, tuple]:
    """What a user can observe of a tree: kinds, modes, owners, link targets, content, mtimes, xattrs."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            kind = stat.S_IFMT(st.st_mode)
            content: object = None
            if stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(Path(p).read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(p)
            xattrs = {} if stat.S_ISLNK(st.st_mode) else {
                k: os.getxattr(p, k) for k in sorted(os.listxattr(p)) if not k.startswith("trusted.")
            }
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, content, int(st.st_mtime), xattrs)
    return out


def roundtrip(tmp_path: Path, compression: str, **kw) -> tuple[Path, Path, object]:
    src = make_tree(tmp_path / "src")
    blob = io.BytesIO()
    stats = create_layer(src, blob, compression=compression, **kw)
    out = tmp_path / "out"
    out.mkdir()
    blob.seek(0)
    diff_id = apply_layer(blob, out, expected_diff_id=stats.diff_id)
    assert diff_id == stats.diff_id
    return src, out, stats


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_roundtrip_keeps_everything_a_user_sees(tmp_path: Path, compression: str) -> None:
    src, out, _ = roundtrip(tmp_path, compression)
    assert describe(out) == describe(src)
    assert os.lstat(out / "bin" / "tool").st_ino == os.lstat(out / "bin" / "tool-link").st_ino


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_digests_describe_the_blob_and_the_tar(tmp_path: Path, compression: str) -> None:
    src = make_tree(tmp_path / "src")
    blob = io.BytesIO()
    stats = create_layer(src, blob, compression=compression)
    data = blob.getvalue()
    assert stats.digest == Digest.from_bytes(data) and stats.size == len(data)
    tar = {"gzip": gzip.decompress, "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
           "none": lambda b: b}[compression](data)
    assert stats.diff_id == Digest.from_bytes(tar)


def test_gnu_tar_reads_our_layers(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    blob = tmp_path / "layer.tar.gz"
    with open(blob, "wb") as f:
        create_layer(src, f)
    listing = subprocess.run(["tar", "-tzf", str(blob)], check=True, capture_output=True, text=True).stdout
    names = listing.split()
    assert names[:4] == ["bin/", "bin/sym", "bin/tool", "bin/tool-link"]  # sorted, parents first
    assert "etc/hosts" in names


def test_layers_are_deterministic_and_mtime_can_be_pinned(tmp_path: Path) -> None:
    a, b = make_tree(tmp_path / "a"), make_tree(tmp_path / "b")
    os.utime(b / "empty", (1, 1))
    digest = []
    for tree in (a, a, b):
        blob = io.BytesIO()
        digest.append(create_layer(tree, blob, mtime=1_700_000_000).digest)
    assert digest[0] == digest[1] == digest[2]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(_blob(a, mtime=42)))) as tar:
        assert {m.mtime for m in tar.getmembers()} == {42}
        assert {m.uname for m in tar.getmembers()} == {""}


def _blob(tree: Path, **kw) -> bytes:
    out = io.BytesIO()
    create_layer(tree, out, **kw)
    return out.getvalue()


@pytest.mark.parametrize("claimed", [None, "application/vnd.oci.image.layer.v1.tar"])
def test_compression_detected_from_magic_bytes(tmp_path: Path, claimed: str | None) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("x")
    for compression in ("zstd", "gzip"):
        out = tmp_path / f"out-{compression}"
        out.mkdir()
        apply_layer(io.BytesIO(_blob(tmp_path / "src", compression=compression)), out, media_type=claimed)
        assert (out / "f").read_text() == "x"


def test_diff_id_mismatch_is_reported(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "out").mkdir()
    wrong = Digest.from_bytes(b"other")
    with pytest.raises(DiffIDMismatch, match=f"layer {wrong}: uncompressed content is sha256:"):
        apply_layer(io.BytesIO(_blob(tmp_path / "src")), tmp_path / "out", expected_diff_id=wrong)


def _tar(entries: list[tuple[str, str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _apply(root: Path, entries: list[tuple[str, str, bytes]], **kw) -> None:
    apply_layer(io.BytesIO(_tar(entries)), root, **kw)


def _files(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs}


@pytest.fixture
def lower(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    root.mkdir()
    _apply(root, [("a", "dir", b""), ("a/x", "file", b"x"), ("a/y", "file", b"y"), ("b", "file", b"b"),
                  ("d", "dir", b""), ("d/1", "file", b"1"), ("d/sub", "dir", b""), ("d/sub/2", "file", b"2")])
    return root


def test_whiteouts_delete_files_and_directories(lower: Path) -> None:
    _apply(lower, [("a/.wh.x", "file", b""), (".wh.d", "file", b""), (".wh.missing", "file", b"")])
    assert _files(lower) == {"a", "a/y", "b"}


def test_opaque_directory_hides_lower_entries_but_keeps_its_own_layer(lower: Path) -> None:
    # "d/new" comes before the marker on purpose: order within a layer must not matter.
    _apply(lower, [("d", "dir", b""), ("d/new", "file", b"n"), ("d/.wh..wh..opq", "file", b""),
                   ("d/later", "file", b"l")])
    assert sorted(os.listdir(lower / "d")) == ["later", "new"]


def test_whiteout_of_an_entry_of_the_same_layer_keeps_it(lower: Path) -> None:
    _apply(lower, [("fresh", "file", b"f"), (".wh.fresh", "file", b"")])
    assert (lower / "fresh").read_bytes() == b"f"


def test_new_entries_replace_old_ones_of_another_kind(lower: Path) -> None:
    _apply(lower, [("a", "file", b"now a file"), ("b", "dir", b""), ("b/inner", "file", b"i")])
    assert (lower / "a").read_bytes() == b"now a file"
    assert (lower / "b" / "inner").read_bytes() == b"i"


def test_writing_through_an_in_root_symlink_follows_it(lower: Path) -> None:
    _apply(lower, [("lib", "link", b"a"), ("lib/z", "file", b"z"), ("abs", "link", b"/d/sub"),
                   ("abs/3", "file", b"3")])
    assert (lower / "a" / "z").read_bytes() == b"z"
    assert (lower / "d" / "sub" / "3").read_bytes() == b"3"


def test_symlink_replaced_by_a_directory_is_not_followed(lower: Path) -> None:
    _apply(lower, [("lib", "link", b"a")])
    _apply(lower, [("lib", "dir", b""), ("lib/own", "file", b"o")])
    assert (lower / "lib").is_dir() and not (lower / "lib").is_symlink()
    assert not (lower / "a" / "own").exists()


@pytest.mark.privileged
def test_overlay_whiteouts_are_written_as_devices_and_xattrs(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    upper.mkdir()
    _apply(upper, [("a/.wh.x", "file", b""), ("d", "dir", b""), ("d/.wh..wh..opq", "file", b"")],
           whiteouts="overlay")
    st = os.lstat(upper / "a" / "x")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert os.getxattr(upper / "d", "trusted.overlay.opaque") == b"y"
    assert not (upper / "d" / ".wh..wh..opq").exists()


def test_directory_modes_and_mtimes_are_set_after_their_children(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("ro")
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o555, 1_000_000
        tar.addfile(info)
        child = tarfile.TarInfo("ro/child")
        child.size, child.mtime = 1, 2_000_000
        tar.addfile(child, io.BytesIO(b"c"))
    out = tmp_path / "out"
    out.mkdir()
    apply_layer(io.BytesIO(buf.getvalue()), out)
    st = os.stat(out / "ro")
    assert (stat.S_IMODE(st.st_mode), int(st.st_mtime)) == (0o555, 1_000_000)
    assert int(os.stat(out / "ro" / "child").st_mtime) == 2_000_000


@pytest.mark.parametrize("fmt", ["gnu", "posix", "ustar"])
def test_tars_written_by_gnu_tar_apply_exactly(tmp_path: Path, fmt: str) -> None:
    # GNU long names (L/K records), PAX, and ustar's name prefix: the three ways long paths travel.
    src = make_tree(tmp_path / "src")
    if fmt == "ustar":  # ustar cannot hold names over 255 bytes or non-UTF-8 PAX; keep what fits
        for p in src.iterdir():
            if p.name.startswith("d" * 10) or p.name.startswith("latin1"):
                subprocess.run(["rm", "-rf", str(p)], check=True)
        deep = src / ("p" * 90) / ("q" * 90)
        deep.mkdir(parents=True)
        (deep / "file").write_text("prefix")
    blob = tmp_path / "layer.tar"
    subprocess.run(["tar", f"--format={fmt}", "--xattrs", "-cf", str(blob), "-C", str(src), "."], check=True)
    out = tmp_path / "out"
    out.mkdir()
    with open(blob, "rb") as f:
        assert apply_layer(f, out) == Digest.from_bytes(blob.read_bytes())
    want, got = describe(src), describe(out)
    if fmt != "posix":  # only PAX carries xattrs
        want = {k: v[:-1] for k, v in want.items()}
        got = {k: v[:-1] for k, v in got.items()}
    assert got == want


def test_write_layer_blob_honours_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockyard.oci.content import ContentStore
    from dockyard.oci.layer import write_layer_blob

    content = ContentStore(tmp_path / "content")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("x")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    blob = write_layer_blob(content, tmp_path / "src", compression="none")
    with content.open(blob.digest) as f, tarfile.open(fileobj=f) as tar:
        assert [m.mtime for m in tar.getmembers()] == [86400]
    assert blob.media_type == "application/vnd.oci.image.layer.v1.tar"
