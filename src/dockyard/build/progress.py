"""BuildKit-style progress: numbered steps, CACHED, durations, the step's output under it.

``plain`` prints every event as a line, as ``docker build --progress=plain`` does::

    #4 [build 2/5] RUN make
    #4 0.211 cc -o app main.c
    #4 DONE 0.4s
    #5 [build 3/5] COPY . /src
    #5 CACHED

``tty`` prints the same but only the step headers and results (output is kept and shown if
the step fails).  ``quiet`` prints nothing.  Safe to call from several stage threads.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, mode: str = "plain", out: TextIO | None = None) -> None:
        self.mode = mode
        self.out = out or sys.stderr
        self._n = 0
        self._lock = threading.Lock()
        self._start: dict[int, float] = {}
        self._logs: dict[int, list[str]] = {}
        self._cached: set[int] = set()

    def _write(self, text: str) -> None:
        if self.mode == "quiet":
            return
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def start(self, name: str) -> int:
        with self._lock:
            self._n += 1
            n = self._n
            self._start[n] = time.monotonic()
            self._logs[n] = []
        self._write(f"#{n} {name}")
        return n

    def log(self, n: int, line: str) -> None:
        elapsed = time.monotonic() - self._start.get(n, time.monotonic())
        self._logs.setdefault(n, []).append(line)
        if self.mode == "plain":
            self._write(f"#{n} {elapsed:.3f} {line}")

    def cached(self, n: int) -> None:
        self._cached.add(n)
        self._write(f"#{n} CACHED")

    def done(self, n: int) -> None:
        if n in self._cached:
            return  # BuildKit says CACHED or DONE, not both
        self._write(f"#{n} DONE {time.monotonic() - self._start.get(n, time.monotonic()):.1f}s")

    def error(self, n: int, message: str) -> None:
        if self.mode == "tty":
            for line in self._logs.get(n, [])[-20:]:
                self._write(f"#{n} {line}")
        self._write(f"#{n} ERROR: {message}")

    def note(self, text: str) -> None:
        self._write(text)
