"""Container output as docker's ``json-file`` log: one JSON object per line, rotated by size.

Each record is ``{"log": "<text incl. newline>", "stream": "stdout", "time": "<RFC 3339 nanos>"}``,
the layout ``docker logs`` and the kubelet read.  Output is split at newlines; a partial line waits
for its end unless it grows past ``PARTIAL_LIMIT`` (docker cuts at 16 KiB the same way).  When the
file passes ``max_size`` it is renamed to ``<name>.1`` (older ones shift up to ``max_files - 1``)
and a fresh file starts, so a chatty container cannot fill the disk.
"""

from __future__ import annotations

import os
import time
from _json import encode_basestring as _encode  # json.encoder's, without json's imports

from dockyard.runtime import jsonlite as json

PARTIAL_LIMIT = 16 * 1024


def now_rfc3339nano() -> str:
    ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


class JsonLogWriter:
    def __init__(self, path: str, *, max_size: int = 10 << 20, max_files: int = 3) -> None:
        self.path = path
        self.max_size = max_size
        self.max_files = max(1, max_files)
        self._partial: dict[str, bytes] = {}
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, stream: str, data: bytes) -> None:
        buf = self._partial.pop(stream, b"") + data
        cut = buf.rfind(b"\n") + 1
        complete, rest = buf[:cut], buf[cut:]
        out = self._records(stream, complete) if complete else b""
        if len(rest) >= PARTIAL_LIMIT:
            out += self._record(stream, rest)
        elif rest:
            self._partial[stream] = rest
        if out:
            self._emit(out)

    def flush(self) -> None:
        """Write out partial lines (the process ended without a final newline)."""
        out = [self._record(s, data) for s, data in self._partial.items() if data]
        self._partial.clear()
        if out:
            self._emit(b"".join(out))

    def close(self) -> None:
        self.flush()
        os.close(self._fd)

    @staticmethod
    def _records(stream: str, complete: bytes) -> bytes:
        """One record per line of *complete* (which ends with a newline), stamped once per chunk.

        Built by hand around the C string encoder: ``json.dumps`` per line made a chatty
        container's logging ten times slower (the shim is single-threaded; the container waits).
        """
        tail = f',"stream":"{stream}","time":"{now_rfc3339nano()}"}}\n'
        lines = complete.decode("utf-8", "replace").split("\n")[:-1]
        return "".join(['{"log":' + _encode(line + "\n") + tail for line in lines]).encode()

    @staticmethod
    def _record(stream: str, data: bytes) -> bytes:
        text = data.decode("utf-8", "replace")
        return json.dumps({"log": text, "stream": stream, "time": now_rfc3339nano()}).encode() + b"\n"

    def _emit(self, data: bytes) -> None:
        if self._size and self._size + len(data) > self.max_size:
            self._rotate()
        os.write(self._fd, data)
        self._size += len(data)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self.max_files == 1:
            os.truncate(self.path, 0)
        else:
            for i in range(self.max_files - 1, 0, -1):
                src = self.path if i == 1 else f"{self.path}.{i - 1}"
                if os.path.exists(src):
                    os.replace(src, f"{self.path}.{i}")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self._size = 0
