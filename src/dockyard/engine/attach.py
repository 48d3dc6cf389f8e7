"""The client end of an attach or exec stream: local stdio ⇄ the shim's framed socket.

With a terminal (``-t``) the local tty goes raw, so keys such as Ctrl-C travel as bytes to the
container's pty, whose line discipline turns them into signals there; the window size is sent
at start and on every SIGWINCH.  Without a terminal, signals that reach this process (INT, TERM,
HUP, QUIT, USR1, USR2) are forwarded to the container through *forward*, as ``docker run``
does (its ``--sig-proxy``).  Returns the exit code the shim reports.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
from collections.abc import Callable, Iterator

from dockyard.engine.shim import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket  # annotations only: importing it costs ~2 ms on every `dockyard run`

PROXIED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def stream(sock: socket.socket, *, stdin: bool, tty: bool, forward: Callable[[int], None] | None = None,
           stdout=None, stderr=None) -> int:
    out_fd = (stdout or sys.stdout).fileno()
    err_fd = (stderr or sys.stderr).fileno()
    in_fd = sys.stdin.fileno() if stdin else None
    sig_r, sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    sock.setblocking(True)
    sock.settimeout(None)
    reader = protocol.FrameReader()
    with _signals(sig_w, tty=tty, forward=forward is not None), _raw(in_fd if tty else None):
        if tty:
            _send_size(sock)
        try:
            while True:
                fds = [sock, sig_r] + ([in_fd] if in_fd is not None else [])
                ready, _, _ = select.select(fds, [], [])
                if sig_r in ready:
                    for signum in os.read(sig_r, 64):
                        if signum == signal.SIGWINCH:
                            _send_size(sock)
                        elif forward is not None:
                            forward(signum)
                if in_fd is not None and in_fd in ready:
                    data = os.read(in_fd, 65536)
                    if data:
                        sock.sendall(protocol.frame(protocol.STDIN, data))
                    else:
                        sock.sendall(protocol.control({"close_stdin": True}))
                        in_fd = None
                if sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return 255  # the shim went away without an exit code
                    for kind, payload in reader.feed(data):
                        if kind == protocol.CONTROL:
                            msg = json.loads(payload)
                            if "exit" in msg:
                                return int(msg["exit"]) if msg["exit"] is not None else 255
                        else:
                            _write_all(out_fd if kind == protocol.STDOUT else err_fd, payload)
        finally:
            os.close(sig_r)
            os.close(sig_w)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        view = view[n:]


def _send_size(sock: socket.socket) -> None:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except OSError:
        return
    sock.sendall(protocol.control({"resize": [size.lines, size.columns]}))


@contextlib.contextmanager
def _signals(sig_w: int, *, tty: bool, forward: bool) -> Iterator[None]:
    wanted = [signal.SIGWINCH] if tty else []
    if forward and not tty:
        wanted += PROXIED
    elif forward:
        wanted += [s for s in PROXIED if s != signal.SIGINT]
    old_fd = signal.set_wakeup_fd(sig_w, warn_on_full_buffer=False)
    old = {s: signal.signal(s, lambda *_: None) for s in wanted}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_fd)


@contextlib.contextmanager
def _raw(fd: int | None) -> Iterator[None]:
    if fd is None or not os.isatty(fd):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
