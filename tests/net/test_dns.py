"""The embedded DNS server answers local names and forwards the rest (to a fake loopback resolver)."""

from __future__ import annotations

import asyncio
import socket
import struct

from dockyard.net import dns


def query(name: str, qtype: int = dns.QTYPE_A, qid: int = 0x1234) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


def addresses(reply: bytes) -> list[str]:
    count = struct.unpack("!H", reply[6:8])[0]
    return [socket.inet_ntoa(reply[len(reply) - 4 - 16 * i:len(reply) - 16 * i]) for i in range(count)][::-1]


NAMES = {"web": ["10.250.0.2"], "db": ["10.250.0.3", "10.250.0.4"]}


async def _serve_and(fn, upstream_port: int, peers=None):
    resolver = dns.Resolver(lambda n: NAMES.get(n.removesuffix(".mynet"), []), [("127.0.0.1", upstream_port)],
                            timeout=1, peers=peers)
    udp, tcp = dns.bind("127.0.0.1", 0)
    port = udp.getsockname()[1]
    stop = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(dns.serve(resolver, udp, tcp, stop))
    try:
        return await fn(port)
    finally:
        stop.set_result(None)
        await server


async def _udp(port: int, msg: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    await loop.sock_connect(s, ("127.0.0.1", port))
    await loop.sock_sendall(s, msg)
    try:
        return await asyncio.wait_for(loop.sock_recv(s, 4096), 5)
    finally:
        s.close()


async def _tcp(port: int, msg: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(struct.pack("!H", len(msg)) + msg)
    (n,) = struct.unpack("!H", await reader.readexactly(2))
    out = await reader.readexactly(n)
    writer.close()
    return out


async def test_local_names_over_udp_and_tcp(fake_upstream) -> None:
    async def check(port: int) -> None:
        reply = await _udp(port, query("web"))
        assert reply[:2] == b"\x12\x34" and addresses(reply) == ["10.250.0.2"]
        assert addresses(await _tcp(port, query("DB.mynet"))) == ["10.250.0.3", "10.250.0.4"]
        assert struct.unpack("!H", (await _udp(port, query("web", dns.QTYPE_AAAA)))[6:8])[0] == 0

    await _serve_and(check, fake_upstream.port)
    assert fake_upstream.queries == []


async def test_other_names_go_upstream(fake_upstream) -> None:
    async def check(port: int) -> None:
        assert addresses(await _udp(port, query("example.org"))) == [fake_upstream.ADDRESS]
        assert addresses(await _tcp(port, query("other.test"))) == [fake_upstream.ADDRESS]

    await _serve_and(check, fake_upstream.port)
    assert fake_upstream.queries == ["example.org", "other.test"]


async def test_servfail_when_upstream_is_down() -> None:
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()

    async def check(p: int) -> None:
        reply = await _udp(p, query("nowhere.test"))
        assert reply[3] & 0x0F == 2  # SERVFAIL

    await _serve_and(check, port)


async def test_names_on_the_queriers_other_networks(fake_upstream) -> None:
    """A pod's other networks (``network connect``) are found by the query's source address."""
    asked: list[tuple[str, str]] = []

    def peers(name: str, source: str) -> list[str]:
        asked.append((name, source))
        return ["10.251.0.9"] if (name, source) == ("far", "127.0.0.1") else []

    async def check(port: int) -> None:
        assert addresses(await _udp(port, query("far"))) == ["10.251.0.9"]
        assert addresses(await _tcp(port, query("far"))) == ["10.251.0.9"]
        assert addresses(await _udp(port, query("web"))) == ["10.250.0.2"]  # own network first
        assert addresses(await _udp(port, query("example.org"))) == [fake_upstream.ADDRESS]

    await _serve_and(check, fake_upstream.port, peers)
    assert asked == [("far", "127.0.0.1"), ("far", "127.0.0.1"), ("example.org", "127.0.0.1")]
    assert fake_upstream.queries == ["example.org"]
