"""Helper processes (port proxies, per-network DNS): start detached, find, stop.

Both are small ``python -m dockyard.net.<module>`` processes in their own session, so they survive
the daemon; their command lines carry ``--instance`` (and ``--pod``/``--network``) so the
reconciler can find strays by scanning ``/proc`` and never signal a process that is not ours.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def spawn(module: str, args: list[str], socks: list[socket.socket]) -> int:
    """Start ``python -m dockyard.net.<module> ARGS --fd N…`` inheriting *socks*; return its pid."""
    fds = [s.fileno() for s in socks]
    argv = [sys.executable, "-m", f"dockyard.net.{module}", *args]
    for fd in fds:
        argv += ["--fd", str(fd)]
    proc = subprocess.Popen(
        argv, pass_fds=fds, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # Popen returns once exec has begun, but the kernel sets up the new argv a moment later: until
    # then /proc/<pid>/cmdline is empty and the helper is not recognisable as ours (is_ours, stop).
    deadline = time.monotonic() + 5
    while not any(cmdline(proc.pid)) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.0005)
    return proc.pid


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def is_ours(pid: int, module: str, instance: str) -> bool:
    argv = cmdline(pid)
    if not argv or not any(f"dockyard.net.{module}" in a for a in argv):
        return False
    return _flag(argv, "--instance") == instance


def _flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def find(module: str, instance: str) -> dict[int, list[str]]:
    """pid → argv of every live helper of *module* belonging to *instance*."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and is_ours(int(entry), module, instance):
            out[int(entry)] = cmdline(int(entry))
    return out


def stop(pid: int, module: str, instance: str, *, timeout: float = 2.0) -> None:
    """SIGTERM (then SIGKILL) *pid* if, and only if, it is our helper."""
    if pid <= 0 or not is_ours(pid, module, instance):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if _gone(pid, module, instance, timeout):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _gone(pid, module, instance, timeout)  # a killed process still holds its sockets until it exits


def _gone(pid: int, module: str, instance: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(pid)
        if not is_ours(pid, module, instance) and not _exiting(pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.002)  # a helper exits within a few ms of SIGTERM; this wait is on every rm -f


def _exiting(pid: int) -> bool:
    """Killed but not yet dead: its memory (cmdline) is gone, its open files are not yet closed."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X") and not any(cmdline(pid))


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
