"""process.terminal: a pty made inside the container, its master sent over --console-socket.

As runc: the runtime connects to the caller's unix socket before forking; the init opens a pty
from the container's own devpts (after pivot_root), bind-mounts the slave on /dev/console, makes it
the controlling terminal and stdio, and sends the master fd with SCM_RIGHTS (the message body
is the pty's name).  The caller owns the master from then on: resize, attach, logs.
"""

from __future__ import annotations

import os

from dockyard.runtime import libc

TIOCSCTTY = 0x540E
TIOCSWINSZ = 0x5414


def setup(sock_fd: int, *, bind_console: bool = True, size: dict | None = None) -> None:
    """*size* is the spec's ``process.consoleSize`` ({"height", "width"}): set before the
    master leaves, so the command's first look at its terminal already sees it (as runc)."""
    import fcntl
    import socket

    master, slave = os.openpty()
    name = os.ttyname(slave)
    if size and size.get("height") and size.get("width"):
        import struct

        fcntl.ioctl(slave, TIOCSWINSZ, struct.pack("HHHH", int(size["height"]), int(size["width"]), 0, 0))
    if bind_console and os.path.exists("/dev"):
        if not os.path.exists("/dev/console"):
            try:
                open("/dev/console", "a").close()
            except OSError:
                pass
        try:
            libc.mount(name, "/dev/console", None, 4096)  # MS_BIND
        except OSError:
            pass  # a read-only /dev: the pty still works, only /dev/console is missing
    sock = socket.socket(fileno=sock_fd)
    try:
        socket.send_fds(sock, [name.encode()], [master])
    finally:
        sock.close()
        os.close(master)
    fcntl.ioctl(slave, TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def connect(path: str) -> int:
    """Connect to the caller's console socket; returns an fd the init inherits."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"--console-socket {path}: {e.strerror}") from None
    return sock.detach()


def receive(sock_fd: int) -> int:
    """The receiving side (used by `run` with a terminal, and by tests): the master fd."""
    import socket

    sock = socket.socket(fileno=sock_fd)
    try:
        _, fds, _, _ = socket.recv_fds(sock, 4096, 1)
    finally:
        sock.close()
    if not fds:
        raise OSError("console socket closed without a pty")
    return fds[0]
