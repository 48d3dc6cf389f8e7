"""Copy between our stdio and a container's pty master until the container's side closes.

Used only by foreground ``run`` with a terminal and no console socket.  Our terminal goes raw
while the copy runs and its size is passed on (and on SIGWINCH), so the container behaves as if
it owned the terminal.
"""

from __future__ import annotations

import os
import select


def _copy_size(master: int) -> None:
    import fcntl
    import termios

    try:
        size = fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(master, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def proxy(master: int, pid: int) -> None:
    import _signal
    import termios
    import tty

    saved = None
    if os.isatty(0):
        saved = termios.tcgetattr(0)
        tty.setraw(0)
        _copy_size(master)
        _signal.signal(_signal.SIGWINCH, lambda *_: _copy_size(master))
    fds = [master, 0]
    try:
        while True:
            try:
                ready, _, _ = select.select(fds, [], [])
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if not data:
                    return
                os.write(1, data)
            if 0 in ready:
                data = os.read(0, 65536)
                if not data:
                    fds.remove(0)
                    os.write(master, b"\x04")
                else:
                    os.write(master, data)
    finally:
        if saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        os.close(master)
