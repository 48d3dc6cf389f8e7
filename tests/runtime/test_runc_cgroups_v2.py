"""Cgroup v2 against a fake unified tree (a plain directory): what gets written where (unit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.runtime import cgroups
from dockyard.runtime.cgroups import v2


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def read(d: Path, name: str) -> str:
    return (d / name).read_text()


def test_create_enables_controllers_and_writes_limits(tree: Path):
    res = {"memory": {"limit": 64 << 20, "swap": 96 << 20, "reservation": 32 << 20},
           "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
           "pids": {"limit": 100}, "blockIO": {"weight": 500}}
    cg = cgroups.create("/dockyard/c1", "c1", res, root=str(tree))
    d = tree / "dockyard" / "c1"
    assert cg.dirs == [str(d)]
    assert read(tree, "cgroup.subtree_control") == "+cpu +cpuset +hugetlb +io +memory +pids"
    assert read(d, "memory.max") == str(64 << 20)
    assert read(d, "memory.swap.max") == str(32 << 20)  # OCI swap counts memory + swap
    assert read(d, "memory.low") == str(32 << 20)
    assert read(d, "cpu.weight") == "39"
    assert read(d, "cpu.max") == "50000 100000"
    assert read(d, "cpuset.cpus") == "0-1" and read(d, "cpuset.mems") == "0"
    assert read(d, "pids.max") == "100"
    assert read(d, "io.weight") == str(v2.blkio_to_io_weight(500))
    cg.destroy()
    assert not (tree / "dockyard").exists()


def test_unlimited_values(tree: Path):
    cg = cgroups.create("/x", "x", {"memory": {"limit": -1, "swap": -1}, "cpu": {"quota": -1}, "pids": {"limit": 0}},
                        root=str(tree))
    d = tree / "x"
    assert (read(d, "memory.max"), read(d, "memory.swap.max"), read(d, "cpu.max"), read(d, "pids.max")) == (
        "max", "max", "max 100000", "max")
    cg.destroy()


def test_swap_below_limit_is_refused_and_nothing_is_left(tree: Path):
    with pytest.raises(cgroups.CgroupError, match=r"linux.resources.memory.swap 1024: must be at least"):
        cgroups.create("/y", "y", {"memory": {"limit": 4096, "swap": 1024}}, root=str(tree))
    assert not (tree / "y").exists()


def test_systemd_paths_are_refused(tree: Path):
    with pytest.raises(cgroups.CgroupError, match="systemd slice paths are not supported"):
        cgroups.create("system.slice:dockyard:c1", "c1", {}, root=str(tree))


def test_conversions_match_runc():
    assert v2.shares_to_weight(2) == 1
    assert v2.shares_to_weight(262144) == 10000
    assert v2.shares_to_weight(1024) == 39
    assert v2.blkio_to_io_weight(10) == 1 and v2.blkio_to_io_weight(1000) == 10000
