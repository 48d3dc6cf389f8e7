"""The shim's pieces that need no kernel: the task state machine, the json-file log, framing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.base.errors import FailedPrecondition
from dockyard.engine.shim import protocol
from dockyard.engine.shim.logfile import JsonLogWriter
from dockyard.engine.shim.task import CREATED, RUNNING, STOPPED, Task


def test_state_machine_refuses_impossible_transitions() -> None:
    task = Task(id="web", kind="container", container="web")
    assert task.status == CREATED
    with pytest.raises(FailedPrecondition, match="cannot exec container web: it is created"):
        task.check("exec")
    task.mark_running()
    assert task.status == RUNNING
    with pytest.raises(FailedPrecondition, match="cannot start container web: it is running"):
        task.mark_running()
    with pytest.raises(FailedPrecondition, match="cannot delete container web: it is running"):
        task.check("delete")
    task.status = STOPPED
    with pytest.raises(FailedPrecondition, match="cannot start container web: it is stopped"):
        task.check("start")
    task.check("create")  # a stopped container may be created again (restart)


def test_json_log_lines_partial_lines_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    log = JsonLogWriter(str(path), max_size=400, max_files=2)
    log.write("stdout", b"one\ntw")
    log.write("stderr", b"oops\n")
    log.write("stdout", b"o\n")
    log.flush()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["stream"], r["log"]) for r in records] == [("stdout", "one\n"), ("stderr", "oops\n"),
                                                          ("stdout", "two\n")]
    assert records[0]["time"].endswith("Z") and len(records[0]["time"].split(".")[1]) == 10
    for i in range(20):
        log.write("stdout", f"line {i}\n".encode())
    log.close()
    assert (tmp_path / "c-json.log.1").exists()
    assert not (tmp_path / "c-json.log.2").exists()
    assert path.stat().st_size <= 400


def test_frames_round_trip_in_pieces() -> None:
    data = protocol.frame(protocol.STDOUT, b"hello") + protocol.control({"exit": 3})
    reader = protocol.FrameReader()
    got = []
    for i in range(len(data)):
        got += reader.feed(data[i : i + 1])
    assert got == [(protocol.STDOUT, b"hello"), (protocol.CONTROL, b'{"exit": 3}')]
