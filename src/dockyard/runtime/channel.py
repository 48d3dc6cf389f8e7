"""A line-based message pipe between the runtime and the processes it forks.

The runtime and the container init talk over two pipes: ``ready``, ``hooks``, ``userns``,
``pid N`` and ``error <message>`` upwards; ``go`` downwards.  EOF means the other side is gone,
which both sides treat as "abort": an init whose runtime died before ``ready`` exits at once.
"""

from __future__ import annotations

import os


class Channel:
    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self._buf = b""

    def send(self, msg: str) -> None:
        os.write(self.wfd, msg.encode() + b"\n")

    def recv(self) -> str | None:
        """Next line, or None at EOF."""
        while b"\n" not in self._buf:
            chunk = os.read(self.rfd, 4096)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def expect(self, word: str) -> None:
        msg = self.recv()
        if msg != word:
            os._exit(1)  # the runtime gave up on us (or died): leave nothing running


def pair() -> tuple[tuple[int, int], tuple[int, int]]:
    """Two pipes → (parent's (r, w), child's (r, w))."""
    up_r, up_w = os.pipe2(os.O_CLOEXEC)
    down_r, down_w = os.pipe2(os.O_CLOEXEC)
    return (up_r, down_w), (down_r, up_w)
