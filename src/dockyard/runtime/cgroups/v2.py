"""Cgroup v2: one directory in the unified tree; controllers enabled down the path.

OCI resources are written in their v2 form, with the conversions runc and crun use:
cpu.shares → cpu.weight, quota/period → cpu.max, memory.swap (memory+swap) → memory.swap.max
(swap only), blkio weight → io.weight (or io.bfq.weight).  The root is a parameter so the unit
tests can point it at a fake tree.
"""

from __future__ import annotations

import os

from dockyard.runtime.cgroups import CgroupError, Generic, write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONTROLLERS = ("cpu", "cpuset", "hugetlb", "io", "memory", "pids")


def own_path() -> str:
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].strip()
    return "/"


def shares_to_weight(shares: int) -> int:
    return 1 + ((shares - 2) * 9999) // 262142 if shares else 0


def blkio_to_io_weight(weight: int) -> int:
    return 1 + (weight - 10) * 9999 // 990


def _max(value: int) -> str:
    return "max" if value < 0 else str(value)


class V2(Generic):
    @classmethod
    def make(cls, root: str, path: str) -> V2:
        rel = path if path.startswith("/") else os.path.join(own_path(), path)
        target = os.path.normpath(root + "/" + rel)
        self = cls([target])
        self.created = []
        self.unified = target
        cur = root
        try:
            for part in os.path.relpath(target, root).split(os.sep):
                self._enable(cur)
                cur = os.path.join(cur, part)
                if not os.path.isdir(cur):
                    os.mkdir(cur)
                    self.created.append(cur)
        except OSError as e:
            self.destroy()
            raise CgroupError(f"config.json: linux.cgroupsPath {path!r}: cannot create: {e.strerror}") from None
        return self

    @staticmethod
    def _enable(directory: str) -> None:
        try:
            with open(os.path.join(directory, "cgroup.controllers")) as f:
                available = set(f.read().split())
        except FileNotFoundError:
            return
        wanted = [c for c in CONTROLLERS if c in available]
        if wanted:
            with open(os.path.join(directory, "cgroup.subtree_control"), "w") as f:
                f.write(" ".join("+" + c for c in wanted))

    def apply(self, res: dict[str, Any]) -> None:
        d = self.dirs[0]
        mem, cpu = res.get("memory") or {}, res.get("cpu") or {}
        limit, swap = mem.get("limit"), mem.get("swap")
        if limit is not None:
            write(d, "memory.max", _max(limit), "linux.resources.memory.limit", limit)
        if swap is not None:
            if swap > 0 and limit is not None and limit > 0 and swap < limit:
                raise CgroupError(f"config.json: linux.resources.memory.swap {swap}: must be at least "
                                  f"memory.limit ({limit}): it counts memory plus swap")
            swap_only = -1 if swap < 0 or limit is None or limit < 0 else swap - limit
            write(d, "memory.swap.max", _max(swap_only), "linux.resources.memory.swap", swap)
        if mem.get("reservation") is not None:
            write(d, "memory.low", _max(mem["reservation"]), "linux.resources.memory.reservation",
                  mem["reservation"])
        if cpu.get("shares"):
            write(d, "cpu.weight", shares_to_weight(cpu["shares"]), "linux.resources.cpu.shares", cpu["shares"])
        if cpu.get("quota") is not None or cpu.get("period") is not None:
            quota = cpu.get("quota")
            value = f"{'max' if quota is None or quota < 0 else quota} {cpu.get('period') or 100000}"
            write(d, "cpu.max", value, "linux.resources.cpu.quota", quota)
        for key in ("cpus", "mems"):
            if cpu.get(key):
                write(d, f"cpuset.{key}", cpu[key], f"linux.resources.cpu.{key}", repr(cpu[key]))
        pids = (res.get("pids") or {}).get("limit")
        if pids is not None:
            write(d, "pids.max", "max" if pids <= 0 else pids, "linux.resources.pids.limit", pids)
        weight = (res.get("blockIO") or {}).get("weight")
        if weight is not None:
            fname = "io.bfq.weight" if os.path.exists(os.path.join(d, "io.bfq.weight")) else "io.weight"
            value = weight if fname == "io.bfq.weight" else blkio_to_io_weight(weight)
            write(d, fname, value, "linux.resources.blockIO.weight", weight)
        for i, hl in enumerate(res.get("hugepageLimits") or []):
            fname = f"hugetlb.{hl['pageSize']}.max"
            if not os.path.exists(os.path.join(d, fname)):
                raise CgroupError(f"config.json: linux.resources.hugepageLimits[{i}].pageSize "
                                  f"{hl['pageSize']!r}: no such huge page size here (or no hugetlb controller)")
            write(d, fname, hl["limit"], f"linux.resources.hugepageLimits[{i}].limit", hl["limit"])
        # v2 has no devices files: device access is an eBPF program, which this runtime does not
        # attach; /dev is still minimal and mknod needs CAP_MKNOD, which the default set lacks.
