"""Docker's output streams on the client side: 8-byte frames, raw tty bytes, stdin up a hijack.

Without a terminal the daemon frames output as ``stream(1) 0 0 0 length(4, big-endian)`` +
payload: stdout frames go to our fd 1 and stderr frames to fd 2, each flushed at once so that
interleaving and ``logs -f`` behave as daemonless.  With a terminal bytes come raw.  Input for
``-i`` is copied up the hijacked socket by a thread, and its end half-closes the socket (the
daemon then closes the container's stdin), as ``docker run -i`` does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator

HEADER = struct.Struct(">BxxxI")

Read = Callable[[int], bytes]


class SocketReader:
    """``read(n)`` over a hijacked socket, starting with the bytes that came with the response head."""

    def __init__(self, sock: socket.socket, initial: bytes = b"") -> None:
        self.sock, self.buf = sock, initial

    def read(self, n: int) -> bytes:
        """Up to *n* bytes (fewer only at the end)."""
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(max(65536, n - len(self.buf)))
            except OSError:
                chunk = b""
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read1(self, n: int) -> bytes:
        """What is there now (at least one byte unless at the end)."""
        if self.buf:
            out, self.buf = self.buf[:n], self.buf[n:]
            return out
        try:
            return self.sock.recv(n)
        except OSError:
            return b""


def copy_output(read: Read, read1: Read, *, tty: bool, first_err: Callable[[bytes], bytes] | None = None) -> None:
    """Copy a container's output to our stdout/stderr until the stream ends.

    *first_err* may rewrite the payload of a stderr frame that comes first (exec: the daemon's
    report that the process could not start)."""
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    if tty:
        while chunk := read1(65536):
            out.write(chunk)
            out.flush()
        return
    while True:
        head = read(HEADER.size)
        if len(head) < HEADER.size:
            return
        stream, length = HEADER.unpack(head)
        payload = read(length) if length else b""
        if first_err is not None and stream == 2:
            payload = first_err(payload)
        first_err = None
        target = err if stream == 2 else out
        target.write(payload)
        target.flush()
        if len(payload) < length:
            return


def feed_stdin(sock: socket.socket) -> threading.Thread:
    """Copy our stdin up *sock* in a daemon thread; half-close at its end."""

    def pump() -> None:
        try:
            while data := os.read(0, 65536):
                sock.sendall(data)
        except OSError:
            return
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    thread = threading.Thread(target=pump, name="stdin", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def raw_terminal() -> Iterator[None]:
    """Our stdin raw while attached with ``-t``: keys (Ctrl-C too) travel as bytes to the container's pty."""
    if not os.isatty(0):
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(0)
    tty.setraw(0)
    try:
        yield
    finally:
        termios.tcsetattr(0, termios.TCSADRAIN, saved)


def follow_size(resize: Callable[[int, int], None]) -> None:
    """Send our terminal's size now and on every SIGWINCH (rows, columns)."""

    def send(*_: object) -> None:
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
        except OSError:
            return
        resize(size.lines, size.columns)

    send()
    signal.signal(signal.SIGWINCH, send)


def forward_signals(forward: Callable[[int], None], *, tty: bool) -> None:
    """Signals we receive go to the container, as daemonless (engine.attach.PROXIED); with a
    terminal Ctrl-C is a byte on stdin, so SIGINT stays ours."""
    from dockyard.engine.attach import PROXIED

    for sig in PROXIED:
        if not (tty and sig == signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: forward(signum))
