"""Base images from the host: busybox from busybox-static, Debian through debootstrap."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from dockyard.oci.bootstrap import (
    DEFAULT_PATH,
    BootstrapError,
    busybox_rootfs,
    debian_rootfs,
    find_static_busybox,
    host_mirror,
    is_static_elf,
)
from dockyard.oci.images import ImageStore, commit_image
from dockyard.oci.layer import write_layer_blob
from dockyard.oci.unpack import unpack_image


def test_static_busybox_is_found_and_dynamic_binaries_are_not_static() -> None:
    assert is_static_elf(find_static_busybox())
    assert not is_static_elf(Path(shutil.which("ls") or "/bin/ls"))


def test_busybox_rootfs_has_applets_users_and_a_sane_config(tmp_path: Path) -> None:
    config = busybox_rootfs(tmp_path / "rootfs")
    root = tmp_path / "rootfs"
    assert os.readlink(root / "bin" / "sh") == "/bin/busybox"
    assert os.readlink(root / "usr" / "bin" / "env") == "/bin/busybox"
    assert "nobody:x:65534:65534:" in (root / "etc" / "passwd").read_text()
    assert (root / "etc" / "group").read_text().startswith("root:x:0:")
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    assert config["config"] == {"Env": [DEFAULT_PATH], "Cmd": ["sh"]}
    assert config["os"] == "linux" and config["architecture"]
    assert config["history"][0]["created_by"].startswith("dockyard image bootstrap busybox (BusyBox v")


def test_dynamic_busybox_is_refused_naming_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(BootstrapError, match=r"is dynamically linked; install a static one with `apt-get install busybox-static`"):
        busybox_rootfs(tmp_path / "rootfs", busybox=Path(shutil.which("ls") or "/bin/ls"))


def test_created_follows_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert busybox_rootfs(tmp_path / "r")["created"] == "2023-11-14T22:13:20Z"


def test_host_mirror_reads_both_apt_source_formats(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    assert host_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://one.example/debian bookworm main\n")
    assert host_mirror(tmp_path) == "http://one.example/debian"


@pytest.mark.privileged
def test_bootstrapped_busybox_image_runs_in_a_chroot(data_root: Path, tmp_path: Path) -> None:
    images = ImageStore(data_root)
    config = busybox_rootfs(tmp_path / "src")
    layer = write_layer_blob(images.content, tmp_path / "src", mtime=0)
    commit_image(images, layers=[layer], config=config, name="busybox:test")
    out = tmp_path / "unpacked"
    unpack_image(images, "busybox:test", out)
    proc = subprocess.run(["chroot", str(out), "/bin/sh", "-c", "echo hello from $(whoami); ls /usr/bin | wc -l"],
                          capture_output=True, text=True, env={"PATH": DEFAULT_PATH.split("=", 1)[1]})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[:3] == ["hello", "from", "root"] and int(lines[3]) > 10
    images.close()


def test_debian_rootfs_without_debootstrap_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no debootstrap to find
    with pytest.raises(BootstrapError, match=r"debootstrap is not installed; run `apt-get install debootstrap`"):
        debian_rootfs(tmp_path / "rootfs")


@pytest.mark.privileged
@pytest.mark.e2e
@pytest.mark.slow
def test_debian_rootfs_through_debootstrap(tmp_path: Path) -> None:
    # Uses the Debian mirror apt on this host is configured with (the one `make deps` installs from).
    root = tmp_path / "debian"
    config = debian_rootfs(root, "bookworm")
    assert config["config"]["Cmd"] == ["bash"]
    assert os.listdir(root / "dev") == []
    proc = subprocess.run(["chroot", str(root), "/bin/bash", "-c", "cat /etc/debian_version; dpkg -s coreutils | head -2"],
                          capture_output=True, text=True, env={"PATH": DEFAULT_PATH.split("=", 1)[1]})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("12.") and "Package: coreutils" in proc.stdout
