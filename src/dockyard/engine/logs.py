"""Reading a container's json-file log: ``docker logs`` with ``--tail``, ``--since``, ``--follow``.

Rotated files (``<log>.2``, ``<log>.1``, then the live file) are read oldest first.  Following
polls the live file for growth (and notices a rotation by its inode changing) until the container
is no longer running and everything written has been read.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dockyard.base.clock import parse_rfc3339
from dockyard.base.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class LogLine:
    stream: str
    text: str
    time: str

    @property
    def timestamp(self) -> float:
        return parse_rfc3339(self.time)


def parse_since(text: str, *, now: float | None = None) -> float:
    """``--since``: an RFC 3339 time, a Unix timestamp, or a duration ago (``10s``, ``5m``, ``1h``)."""
    text = text.strip()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
            return (now or time.time()) - float(text[:-1]) * units[text[-1]]
        if text.replace(".", "", 1).isdigit():
            return float(text)
        return parse_rfc3339(text)
    except ValueError:
        raise InvalidArgument(f"--since {text!r}: use a time (2024-01-02T15:04:05Z), a Unix "
                              "timestamp or a duration such as 10m") from None


def parse_line(line: bytes) -> LogLine | None:
    """One line of a json-file log (``{"log": …, "stream": …, "time": …}``); None if it is not
    one (a torn last line, garbage), which readers skip."""
    try:
        rec = json.loads(line)
        return LogLine(rec["stream"], rec["log"], rec["time"])
    except (ValueError, KeyError, TypeError):
        return None


def read(path: Path, *, tail: int | None = None, since: float | None = None) -> list[LogLine]:
    files = [Path(f"{path}.{i}") for i in range(9, 0, -1)] + [path]
    lines: deque[LogLine] | list[LogLine] = deque(maxlen=tail) if tail is not None else []
    if tail == 0:
        return []
    for f in files:
        try:
            with open(f, "rb") as fh:
                for raw in fh:
                    rec = parse_line(raw)
                    if rec is None or (since is not None and rec.timestamp < since):
                        continue
                    lines.append(rec)
        except FileNotFoundError:
            continue
    return list(lines)


def follow(path: Path, *, running: Callable[[], bool], tail: int | None = None, since: float | None = None,
           poll: float = 0.1) -> Iterator[LogLine]:
    yield from read(path, tail=tail, since=since)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - reopened on rotation below
    except FileNotFoundError:
        return
    fh.seek(0, os.SEEK_END)
    inode = os.fstat(fh.fileno()).st_ino
    pending = b""
    try:
        while True:
            chunk = fh.read()
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    rec = parse_line(raw)
                    if rec is not None and (since is None or rec.timestamp >= since):
                        yield rec
                continue
            try:
                if os.stat(path).st_ino != inode:
                    fh.close()
                    fh = open(path, "rb")  # noqa: SIM115
                    inode = os.fstat(fh.fileno()).st_ino
                    continue
            except FileNotFoundError:
                return
            if not running():
                if not fh.read(1):
                    return
                fh.seek(-1, os.SEEK_CUR)
                continue
            time.sleep(poll)
    finally:
        fh.close()
