"""Cgroups: one interface, two implementations (v1 hierarchies, the v2 unified tree).

Lifecycle, as the runtime uses it:

    cg = cgroups.create(spec_path, cid, resources)   # mkdir + write limits, before any process
    cg.add(pid)                                      # the init joins before it unshares anything
    # …or, for a single-threaded child: it writes "0" to cg.self_join, then cg.add_rest(pid)
    cg.pids(); cg.kill(sig)                          # ps, kill --all, delete
    cg.destroy()                                     # kill leftovers, rmdir what create made

``cgroup_dirs`` (the absolute directories joined) goes into the state file; :func:`attach`
rebuilds the manager from them for later commands.  A relative cgroupsPath is taken relative to
the runtime's own cgroup, as runc does; the default is the container id.

Kernel rejections while writing limits raise :class:`CgroupError` naming the spec field:
``config.json: linux.resources.memory.swap 1024: rejected by the kernel (memory.memsw.limit_in_bytes:
Invalid argument)``.
"""

from __future__ import annotations

import errno
import os
import time

from dockyard.base.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Cgroup(Protocol):
        dirs: list[str]

        def apply(self, resources: dict[str, Any]) -> None: ...
        def add(self, pid: int) -> None: ...
        def destroy(self) -> None: ...

CGROUP_ROOT = "/sys/fs/cgroup"


class CgroupError(InvalidArgument):
    pass


def write(directory: str, name: str, value: str | int, field: str, shown: Any) -> None:
    try:
        with open(os.path.join(directory, name), "w") as f:
            f.write(str(value))
    except OSError as e:
        raise CgroupError(f"config.json: {field} {shown}: rejected by the kernel "
                          f"({name}: {e.strerror})") from None


def is_v2(root: str = CGROUP_ROOT) -> bool:
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def create(spec_path: str, cid: str, resources: dict[str, Any], root: str = CGROUP_ROOT) -> Cgroup:
    """Make the container's cgroup(s) and write its limits; on failure nothing is left."""
    if ":" in spec_path:
        raise CgroupError(f"config.json: linux.cgroupsPath {spec_path!r}: systemd slice paths are not "
                          "supported; use a cgroupfs path such as /dockyard/ID")
    try:
        if is_v2(root):
            from dockyard.runtime.cgroups.v2 import V2

            cg: Any = V2.make(root, spec_path or cid)
        else:
            from dockyard.runtime.cgroups.v1 import V1

            cg = V1.make(spec_path or cid)
    except CgroupError:
        # Rootless, as runc: without write access to the cgroup tree, go without a cgroup unless
        # limits were asked for (a devices list alone is not a limit the user can expect here).
        if os.geteuid() != 0 and not any(resources.get(k) for k in ("memory", "cpu", "pids", "blockIO")):
            return Generic([])
        raise
    try:
        cg.apply(resources)
    except BaseException:
        cg.destroy()
        raise
    return cg


def attach(dirs: list[str]) -> Generic:
    return Generic(dirs)


class Generic:
    """What later commands need from the dirs alone: member pids, signalling, removal."""

    def __init__(self, dirs: list[str]) -> None:
        self.dirs = dirs
        self.created = list(dirs)
        #: v1 ``tasks`` files a forked, single-threaded init can write "0" to, joining by itself.
        #: Moving oneself (pid 0) by thread takes no threadgroup lock, whereas writing a pid to
        #: cgroup.procs write-locks it, which after a quiet spell waits for an RCU grace period
        #: (5-25 ms here) and stalls every fork on the machine meanwhile.
        self.self_join: list[str] = []
        #: The cgroup v2 dir (a v2 host's only one, a hybrid host's unified tree), which a child
        #: forked with CLONE_INTO_CGROUP starts in (see libc.fork_into_cgroup).
        self.unified: str | None = None

    def apply(self, resources: dict[str, Any]) -> None:  # pragma: no cover - only via create()
        raise NotImplementedError

    def for_joining(self) -> Generic:
        """Fill ``self_join``/``unified`` from the dirs themselves (for a manager from
        :func:`attach`): cgroup2 dirs have ``cgroup.controllers``, v1 ones do not."""
        for d in self.dirs:
            if self.unified is None and os.path.exists(os.path.join(d, "cgroup.controllers")):
                self.unified = d
            elif not os.path.exists(os.path.join(d, "cgroup.controllers")):
                self.self_join.append(os.path.join(d, "tasks"))
        return self

    def add(self, pid: int) -> None:
        for d in self.dirs:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(pid))

    def add_rest(self, pid: int, *, joined: list[str] | tuple[str, ...] = ()) -> None:
        """Move ``pid`` into the dirs it cannot join itself (those without a ``self_join`` file),
        except those it is in already (``joined``)."""
        done = {*joined, *(os.path.dirname(t) for t in self.self_join)}
        for d in self.dirs:
            if d not in done:
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write(str(pid))

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    found.update(int(x) for x in f.read().split())
            except OSError:
                continue
        return sorted(found)

    def kill(self, sig: int = 9) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def destroy(self) -> None:
        """SIGKILL whatever is left, then rmdir every directory create() made (deepest first)."""
        deadline = time.monotonic() + 5
        while self.pids() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.005)
        for d in sorted(self.created, key=len, reverse=True):
            for _ in range(200):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno == errno.ENOTEMPTY:  # not cgroupfs (a test's fake tree): plain files
                        for name in os.listdir(d):
                            if os.path.isfile(os.path.join(d, name)):
                                os.unlink(os.path.join(d, name))
                        continue
                    time.sleep(0.005)  # the last task is still leaving (EBUSY)
