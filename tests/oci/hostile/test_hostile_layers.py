"""The hostile layer corpus: each tar is refused (or neutralised) and nothing lands outside the target.

Every case unpacks into ``sandbox/target`` next to ``sandbox/outside``, which holds a sentinel;
after the attempt the sandbox must hold exactly what it held before plus whatever went inside
``target``.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.oci.layer import LayerFormatError, Limits, UnsafeLayer, apply_layer

from .hostile_tars import E, bomb, build, gz, truncated


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    (tmp_path / "target").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "sentinel").write_text("untouched")
    return tmp_path


def outside_snapshot(sandbox: Path) -> dict[str, bytes | str]:
    """Everything in the sandbox except the target tree: names, kinds and contents."""
    seen: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(sandbox):
        rel = os.path.relpath(dirpath, sandbox)
        if rel == ".":
            dirnames.remove("target")
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            key = os.path.join(rel, name)
            if key == "./target":
                continue
            seen[key] = p.read_bytes() if p.is_file() and not p.is_symlink() else "node"
    return seen


def attempt(sandbox: Path, blob: bytes, **kw) -> None:
    before = outside_snapshot(sandbox)
    try:
        apply_layer(io.BytesIO(blob), sandbox / "target", **kw)
    finally:
        assert outside_snapshot(sandbox) == before, "something was written outside the target"
        assert (sandbox / "outside" / "sentinel").read_text() == "untouched"


@pytest.mark.parametrize("name", ["../evil", "a/../../evil", "./../evil", "a/b/../../../evil"])
def test_path_traversal_is_refused(sandbox: Path, name: str) -> None:
    with pytest.raises(UnsafeLayer) as err:
        attempt(sandbox, build([E("a", "dir"), E(name, data=b"x")]))
    assert str(err.value) == f'layer entry "{name}": path escapes the root; refused'


def test_absolute_names_are_taken_from_the_image_root(sandbox: Path) -> None:
    attempt(sandbox, build([E("/abs-evil", data=b"x"), E("/etc/motd", data=b"hi")]))
    assert (sandbox / "target" / "abs-evil").read_bytes() == b"x"
    assert (sandbox / "target" / "etc" / "motd").read_bytes() == b"hi"


def test_write_through_escaping_symlink_is_refused(sandbox: Path) -> None:
    blob = build([E("esc", "symlink", link="../outside"), E("esc/pwned", data=b"x")])
    with pytest.raises(UnsafeLayer, match=r'^layer entry "esc/pwned": path escapes the root through a symlink; refused$'):
        attempt(sandbox, blob)
    assert os.readlink(sandbox / "target" / "esc") == "../outside"  # the link itself is harmless data


def test_symlink_chain_escape_is_refused(sandbox: Path) -> None:
    blob = build([E("a", "symlink", link="b/../.."), E("b", "dir"), E("a/x", data=b"x")])
    with pytest.raises(UnsafeLayer, match="escapes the root"):
        attempt(sandbox, blob)


def test_absolute_symlink_is_followed_inside_the_root(sandbox: Path) -> None:
    outside = str(sandbox / "outside")
    blob = build([E("abs", "symlink", link=outside), E("abs/sentinel", data=b"overwritten?")])
    attempt(sandbox, blob)
    inside = sandbox / "target" / outside.lstrip("/") / "sentinel"
    assert inside.read_bytes() == b"overwritten?"


def test_hardlink_out_of_the_root_is_refused(sandbox: Path) -> None:
    with pytest.raises(UnsafeLayer, match=r'^layer entry "../outside/sentinel": path escapes the root; refused$'):
        attempt(sandbox, build([E("hl", "hardlink", link="../outside/sentinel")]))


def test_hardlink_through_escaping_symlink_is_refused(sandbox: Path) -> None:
    blob = build([E("esc", "symlink", link="../outside"), E("hl", "hardlink", link="esc/sentinel")])
    with pytest.raises(UnsafeLayer, match=r'^layer entry "hl": path escapes the root through a symlink'):
        attempt(sandbox, blob)


def test_absolute_hardlink_resolves_in_the_root(sandbox: Path) -> None:
    with pytest.raises(LayerFormatError, match='hardlink target "/etc/hostname" not found'):
        attempt(sandbox, build([E("hl", "hardlink", link="/etc/hostname")]))
    assert not (sandbox / "target" / "hl").exists()


def test_hardlink_to_a_symlink_links_the_symlink_not_its_target(sandbox: Path) -> None:
    blob = build([E("l", "symlink", link="/etc/shadow"), E("hl", "hardlink", link="l")])
    attempt(sandbox, blob)
    assert os.readlink(sandbox / "target" / "hl") == "/etc/shadow"


def test_device_nodes_refused_when_not_allowed(sandbox: Path) -> None:
    with pytest.raises(UnsafeLayer, match=r'^layer entry "dev/mem": device node not allowed'):
        attempt(sandbox, build([E("dev", "dir"), E("dev/mem", "chr")]), allow_devices=False)
    assert not (sandbox / "target" / "dev" / "mem").exists()


def _as_nobody(fn) -> tuple[int, str]:
    """Run *fn* in a forked child that dropped to uid/gid 65534 (nobody); its exit code and output."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no exec, so the interpreter in /root stays usable
        os.close(read_fd)
        code = 0
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            fn()
        except UnsafeLayer as e:
            os.write(write_fd, str(e).encode())
            code = 3
        except BaseException as e:
            os.write(write_fd, repr(e).encode())
            code = 4
        os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as r:
        out = r.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out


@pytest.mark.privileged
def test_device_nodes_refused_for_an_unprivileged_user() -> None:
    # A real non-root process (nobody): the default policy must refuse devices by itself.
    work = Path(tempfile.mkdtemp(prefix="dy-hostile-"))
    try:
        os.chmod(work, 0o755)
        target = work / "target"
        target.mkdir()
        os.chown(target, 65534, 65534)
        blob = build([E("ok", data=b"fine"), E("null", "chr")])
        code, out = _as_nobody(lambda: apply_layer(io.BytesIO(blob), target))
        assert (code, out) == (3, 'layer entry "null": device node not allowed (not running as root); refused')
        assert not (target / "null").exists()
        assert (target / "ok").read_bytes() == b"fine"
    finally:
        shutil.rmtree(work)


def test_setuid_bits_stripped_on_request(sandbox: Path) -> None:
    blob = build([E("su", data=b"#!", mode=0o6755)])
    attempt(sandbox, blob, strip_setuid=True)
    assert stat.S_IMODE((sandbox / "target" / "su").stat().st_mode) == 0o755


def test_tar_bomb_declaring_a_terabyte_is_refused_before_writing(sandbox: Path) -> None:
    with pytest.raises(UnsafeLayer, match=r'^layer entry "bomb": declares 1099511627776 bytes, more than the \d+ allowed per file; refused$'):
        attempt(sandbox, bomb())
    assert not (sandbox / "target" / "bomb").exists()


def test_total_size_cap(sandbox: Path) -> None:
    blob = gz(build([E(f"f{i}", data=b"x" * 4096) for i in range(10)]))
    with pytest.raises(UnsafeLayer, match=r'layer entry "f2": layer declares more than the 10000 bytes allowed in total'):
        attempt(sandbox, blob, limits=Limits(max_total_size=10_000))


def test_bomb_larger_than_the_free_space_is_refused(sandbox: Path) -> None:
    with pytest.raises(UnsafeLayer, match=r"bytes, more than the \d+ free on .*target; refused$"):
        attempt(sandbox, bomb(declared=1 << 50), limits=Limits(max_entry_size=1 << 60, max_total_size=1 << 60))


@pytest.mark.parametrize("cut", ["mid-data", "mid-header", "no-end-marker", "gzip"])
def test_truncated_stream_is_refused(sandbox: Path, cut: str) -> None:
    whole = build([E("a", data=b"a" * 5000), E("b", data=b"b" * 100)])
    blob = {
        "mid-data": truncated(whole, 512 * 3 + 100),  # header of "a", part of its 10 data blocks
        "mid-header": truncated(whole, 512 * 11 + 200),  # part of the header of "b"
        "no-end-marker": truncated(whole, 512 * 13),  # "b" whole, then nothing
        "gzip": truncated(gz(whole), 60),
    }[cut]
    with pytest.raises(LayerFormatError, match="truncated"):
        attempt(sandbox, blob)


def test_garbage_is_refused_with_a_format_error(sandbox: Path) -> None:
    with pytest.raises(InvalidArgument, match="bad tar header"):
        attempt(sandbox, b"\x01" * 2048)


def test_entry_under_a_regular_file_is_refused(sandbox: Path) -> None:
    with pytest.raises(UnsafeLayer, match='parent "f" is not a directory'):
        attempt(sandbox, build([E("f", data=b"x"), E("f/x", data=b"y")]))


def test_symlink_loop_is_refused(sandbox: Path) -> None:
    blob = build([E("l1", "symlink", link="l2"), E("l2", "symlink", link="l1"), E("l1/x", data=b"y")])
    with pytest.raises(UnsafeLayer, match="too many levels of symlinks"):
        attempt(sandbox, blob)


@pytest.mark.parametrize("name", ["../.wh.outside", ".wh..", "a/.wh.."])
def test_whiteouts_cannot_reach_out(sandbox: Path, name: str) -> None:
    with pytest.raises(UnsafeLayer):
        attempt(sandbox, build([E("a", "dir"), E(name)]))
    assert (sandbox / "outside").is_dir()


def test_whiteout_through_escaping_symlink_is_refused(sandbox: Path) -> None:
    blob = build([E("esc", "symlink", link="../outside"), E("esc/.wh.sentinel")])
    with pytest.raises(UnsafeLayer, match="escapes the root"):
        attempt(sandbox, blob)


def test_overlay_xattrs_from_a_layer_are_dropped(sandbox: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("d")
        info.type = tarfile.DIRTYPE
        info.pax_headers = {"SCHILY.xattr.trusted.overlay.redirect": "/etc", "SCHILY.xattr.user.ok": "1",
                            "SCHILY.xattr.user.overlay.opaque": "y"}
        tar.addfile(info)
    attempt(sandbox, buf.getvalue())
    names = os.listxattr(sandbox / "target" / "d")
    assert "user.ok" in names and not [n for n in names if ".overlay." in n]


def _pax_entry(name: str, pax: dict[str, str], kind: bytes = tarfile.REGTYPE) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.type, info.pax_headers = kind, pax
        tar.addfile(info)
    return buf.getvalue()


@pytest.mark.parametrize("blob, message", [
    (_pax_entry("a", {"mtime": "1e30"}), "bad PAX mtime"),
    (_pax_entry("a", {"mtime": "nan"}), "bad PAX mtime"),
    (_pax_entry("a", {"uid": str(1 << 40)}), "bad PAX uid"),
    (_pax_entry("a", {"gid": "-5"}), "bad PAX gid"),
    (_pax_entry("x" * 300, {}), "File name too long"),
    (_pax_entry("/".join(["d" * 200] * 30), {}), "File name too long"),  # over PATH_MAX
    (_pax_entry("s", {"linkpath": "z" * 5000}, tarfile.SYMTYPE), 'layer entry "s": File name too long'),
])
def test_values_the_kernel_would_reject_are_clean_errors(sandbox: Path, blob: bytes, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as err:
        attempt(sandbox, blob)
    assert len(str(err.value)) < 300  # a hostile name is shortened in the message


def test_directory_swapped_for_a_symlink_later_gets_no_deferred_chmod(sandbox: Path) -> None:
    # "d/" is recorded for its mode and mtime at the end; "d" then becomes a link to the outside.
    blob = build([E("d", "dir", mode=0o777), E("d/sub", "dir", mode=0o777),
                  E("d", "symlink", link=str(sandbox / "outside"))])
    mode = (sandbox / "outside").stat().st_mode
    attempt(sandbox, blob)
    assert (sandbox / "outside").stat().st_mode == mode
    assert os.readlink(sandbox / "target" / "d") == str(sandbox / "outside")


@pytest.mark.parametrize("link, message", [("d", 'hardlink to directory "d"'), ("/", "hardlink to the root directory"),
                                           (".", "hardlink to the root directory")])
def test_hardlinks_to_directories_are_refused(sandbox: Path, link: str, message: str) -> None:
    with pytest.raises(UnsafeLayer, match=message):
        attempt(sandbox, build([E("d", "dir"), E("hl", "hardlink", link=link)]))
