"""Linux capabilities: names, the five sets, and applying them around a uid switch.

Order matters and follows runc: drop the bounding set while still privileged, keep capabilities
across setuid (PR_SET_KEEPCAPS), then capset effective/permitted/inheritable and raise ambient.
"""

from __future__ import annotations

from dockyard.runtime import libc

_NAMES = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
CAPS: dict[str, int] = {f"CAP_{n}": i for i, n in enumerate(_NAMES)}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(_NAMES) - 1


def mask(names: list[str] | None) -> int:
    m = 0
    for n in names or []:
        m |= 1 << CAPS[n]
    return m


def drop_bounding(keep: int) -> None:
    for cap in range(last_cap() + 1):
        if not keep & (1 << cap) and libc.prctl(libc.PR_CAPBSET_READ, cap):
            libc.prctl(libc.PR_CAPBSET_DROP, cap)


def apply(caps: dict[str, list[str]]) -> None:
    """Set effective/permitted/inheritable and raise ambient (call after the uid switch)."""
    top = last_cap()
    eff, perm, inh, amb = (mask(caps.get(k)) for k in ("effective", "permitted", "inheritable", "ambient"))
    libc.capset(eff, perm, inh)
    libc.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(top + 1):
        if amb & (1 << cap):
            try:
                libc.prctl(libc.PR_CAP_AMBIENT, libc.PR_CAP_AMBIENT_RAISE, cap)
            except OSError:
                pass  # as runc: an ambient cap not in permitted+inheritable is ignored
