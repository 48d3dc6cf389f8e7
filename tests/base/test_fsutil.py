"""fsutil.rmtree: removes trees like shutil.rmtree, never following symlinks out of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.base import fsutil


def _tree(root: Path, outside: Path) -> None:
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "f").write_text("x")
    (root / "a" / "g").write_text("y")
    (root / "link-out").symlink_to(outside)
    (root / "a" / "dangling").symlink_to("/nonexistent")
    os.mkfifo(root / "fifo")
    (root / "locked").mkdir()
    (root / "locked" / "h").write_text("z")
    (root / "locked").chmod(0o500)  # as overlayfs' work/work: empty it anyway (we are its owner… or root)


def test_rmtree_removes_everything_and_leaves_symlink_targets(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    root = tmp_path / "tree"
    root.mkdir()
    _tree(root, outside)
    if os.geteuid() != 0:
        (root / "locked").chmod(0o700)
    fsutil.rmtree(root)
    assert not root.exists()
    assert (outside / "keep").read_text() == "k"


def test_rmtree_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsutil.rmtree(tmp_path / "missing")
    fsutil.rmtree(tmp_path / "missing", ignore_errors=True)


def test_rmtree_refuses_a_symlink_and_a_file(tmp_path: Path) -> None:
    target = tmp_path / "dir"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(OSError, match="symbolic link"):
        fsutil.rmtree(tmp_path / "link")
    assert target.exists()
    (tmp_path / "file").write_text("f")
    with pytest.raises(NotADirectoryError):
        fsutil.rmtree(tmp_path / "file")
    fsutil.rmtree(tmp_path / "link", ignore_errors=True)
    assert target.exists() and (tmp_path / "link").is_symlink()
