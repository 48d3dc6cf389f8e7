"""Docker's security defaults for a container, as OCI runtime-spec fragments.

What a container gets unless its options say otherwise: Docker's default capability set (14 of
the ~40), a minimal /dev (tmpfs plus the few device nodes the runtime creates), /proc paths that
leak host information masked, kernel knobs under /proc and /sys read-only, a devices cgroup that
denies all but the standard nodes, and — where Docker leaves it off — ``no_new_privs`` on, so a
setuid binary cannot regain what was dropped.  The seccomp profile is data:
``seccomp_default.json`` next to this module (see :mod:`dockyard.engine.seccomp`).
"""

from __future__ import annotations

DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)

ALL_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)

READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")


def default_mounts(*, cgroup_ro: bool = True) -> list[dict]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro" if cgroup_ro else "rw"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    ]


def _dev(kind: str, major: int | None, minor: int | None, access: str = "rwm") -> dict:
    return {"allow": True, "type": kind, "major": major, "minor": minor, "access": access}


#: The devices cgroup: deny everything, then allow the nodes every container has.
DEVICE_RULES = [
    {"allow": False, "access": "rwm"},
    _dev("c", 1, 3),     # /dev/null
    _dev("c", 1, 5),     # /dev/zero
    _dev("c", 1, 7),     # /dev/full
    _dev("c", 1, 8),     # /dev/random
    _dev("c", 1, 9),     # /dev/urandom
    _dev("c", 5, 0),     # /dev/tty
    _dev("c", 5, 2),     # /dev/ptmx
    _dev("c", 136, None),  # /dev/pts/*
    _dev("c", 10, 200),  # /dev/net/tun
    _dev("c", None, None, "m"),  # mknod of character devices (use still needs a rule above)
    _dev("b", None, None, "m"),
]

def rlimits() -> list[dict]:
    """Open files: docker's 1048576, capped by our own hard limit (the runtime cannot raise it)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    n = 1048576 if hard == resource.RLIM_INFINITY else min(1048576, hard)
    return [{"type": "RLIMIT_NOFILE", "hard": n, "soft": n}]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def normalize_cap(name: str) -> str:
    name = name.strip().upper()
    return name if name.startswith("CAP_") else f"CAP_{name}"
