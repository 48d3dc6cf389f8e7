"""Reading json-file logs: one line parser shared by ``dockyard logs`` and the docker API."""

import json

from dockyard.engine import logs


def _line(stream: str, text: str, when: str) -> bytes:
    return json.dumps({"log": text, "stream": stream, "time": when}).encode() + b"\n"


def test_parse_line_reads_a_record_and_skips_what_is_not_one():
    line = logs.parse_line(_line("stderr", "oops\n", "2024-01-02T15:04:05.5Z"))
    assert line == logs.LogLine("stderr", "oops\n", "2024-01-02T15:04:05.5Z")
    assert line.timestamp == 1704207845.5
    for bad in (b"", b'{"log": "torn', b"[1, 2]", b'{"log": "x", "stream": "stdout"}', b"\xff\xfe"):
        assert logs.parse_line(bad) is None


def test_read_skips_garbage_and_honours_tail_and_since(tmp_path):
    path = tmp_path / "c.log"
    path.write_bytes(_line("stdout", "a\n", "2024-01-01T00:00:00Z") + b"garbage\n"
                     + _line("stdout", "b\n", "2024-01-01T00:00:10Z") + _line("stderr", "c\n", "2024-01-01T00:00:20Z"))
    assert [x.text for x in logs.read(path)] == ["a\n", "b\n", "c\n"]
    assert [x.text for x in logs.read(path, tail=1)] == ["c\n"]
    assert [x.text for x in logs.read(path, since=logs.parse_since("2024-01-01T00:00:05Z"))] == ["b\n", "c\n"]
