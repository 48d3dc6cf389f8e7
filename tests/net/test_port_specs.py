"""``-p`` syntax as docker accepts it."""

from __future__ import annotations

import pytest

from dockyard.base.errors import InvalidArgument
from dockyard.net.ports import PortSpec, parse, publish_all


@pytest.mark.parametrize(("spec", "want"), [
    ("80", PortSpec(80)),
    ("8080:80", PortSpec(80, "tcp", "0.0.0.0", 8080)),
    ("127.0.0.1:8080:80", PortSpec(80, "tcp", "127.0.0.1", 8080)),
    ("127.0.0.1::53/udp", PortSpec(53, "udp", "127.0.0.1", 0)),
    ("5353:53/udp", PortSpec(53, "udp", "0.0.0.0", 5353)),
])
def test_parse(spec: str, want: PortSpec) -> None:
    assert parse(spec) == want


@pytest.mark.parametrize("spec", ["", "http", "80/sctp", "1.2.3:80:80", "70000:80", "0", "a:80:80"])
def test_parse_rejects(spec: str) -> None:
    with pytest.raises(InvalidArgument, match="port"):
        parse(spec)


def test_publish_all_asks_for_free_ports() -> None:
    assert publish_all(["80/tcp", "53/udp"]) == [PortSpec(80), PortSpec(53, "udp")]
