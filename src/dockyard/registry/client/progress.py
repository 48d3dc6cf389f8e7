"""Progress of a pull or push, shown the way docker shows it.

On a terminal every blob has a line redrawn in place (``a3ed95caeb02: Downloading [====>   ]
12.1MB/40.2MB``); otherwise each state change is one plain line, fit for CI logs; ``quiet``
prints nothing.  Transfers report through :class:`Progress` and never know which one is in use.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.3g}{unit}" if unit != "B" else f"{int(n)}B"
        n /= 1000
    return f"{n}GB"


class Progress:
    """Quiet: the base class records nothing and prints nothing."""

    def start(self, key: str, status: str, total: int | None = None) -> None: ...

    def advance(self, key: str, n: int) -> None: ...

    def done(self, key: str, status: str) -> None: ...

    def message(self, text: str) -> None: ...


class PlainProgress(Progress):
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def start(self, key: str, status: str, total: int | None = None) -> None:
        self.out.write(f"{key}: {status}\n")
        self.out.flush()

    def done(self, key: str, status: str) -> None:
        self.out.write(f"{key}: {status}\n")
        self.out.flush()

    def message(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


class TtyProgress(Progress):
    """One line per blob, redrawn in place with ANSI cursor movement (at most 10 times a second)."""

    WIDTH = 50

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.lines: dict[str, list] = {}  # key -> [status, done, total]
        self.order: list[str] = []
        self._drawn = 0
        self._last = 0.0

    def start(self, key: str, status: str, total: int | None = None) -> None:
        if key not in self.lines:
            self.order.append(key)
        self.lines[key] = [status, 0, total]
        self._draw(force=True)

    def advance(self, key: str, n: int) -> None:
        self.lines[key][1] += n
        self._draw()

    def done(self, key: str, status: str) -> None:
        self.lines.setdefault(key, [status, 0, None])[0] = status
        if key not in self.order:
            self.order.append(key)
        self.lines[key][2] = None
        self._draw(force=True)

    def message(self, text: str) -> None:
        self.out.write(text + "\n")
        self._drawn = 0
        self.out.flush()

    def _render(self, key: str) -> str:
        status, done, total = self.lines[key]
        if not total:
            return f"{key}: {status}"
        filled = min(self.WIDTH, int(self.WIDTH * done / total))
        bar = "=" * max(filled - 1, 0) + (">" if filled else "") + " " * (self.WIDTH - filled)
        return f"{key}: {status} [{bar}] {human(done)}/{human(total)}"

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}A")
        for key in self.order:
            self.out.write("\x1b[2K" + self._render(key) + "\n")
        self._drawn = len(self.order)
        self.out.flush()


def for_terminal(*, quiet: bool, out: TextIO | None = None) -> Progress:
    out = out or sys.stdout
    if quiet:
        return Progress()
    return TtyProgress(out) if out.isatty() else PlainProgress(out)
