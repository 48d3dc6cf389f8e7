"""The embedded DNS server: pod names and aliases on a pod's networks, everything else forwarded.

One small process per network (``python -m dockyard.net.dns``) listens on the bridge's gateway
address, port 53, UDP and TCP; pods get ``nameserver <gateway>`` of their *first* network in
their resolv.conf.  It answers A queries for the names ``net.db`` lists on its network and — so
that a pod given more networks by ``network connect`` resolves names there too, as docker's
127.0.0.11 does — on every other network the querying pod (known by its source address) is on.
``net.db`` is read per query, so attach/connect/detach need not notify it.  Every other query is
relayed, unchanged, to the upstream resolvers (the host's ``/etc/resolv.conf`` unless told
otherwise).  Running on the host rather than inside each pod's
namespace (Docker's 127.0.0.11) means it can reach a host resolver on 127.0.0.53 too.

Only the parts of RFC 1035 a stub resolver needs: one question, A answers, NXDOMAIN is left to
the upstream.  Imports only the standard library and the store.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import socket
import struct
from collections.abc import Callable
from pathlib import Path

TTL = 10  # seconds; pods come and go, so answers must not be cached for long
QTYPE_A, QTYPE_AAAA, QTYPE_ANY = 1, 28, 255

Lookup = Callable[[str], list[str]]
#: (name, querier's source address) → addresses on the querier's other networks
PeerLookup = Callable[[str, str], list[str]]


def host_resolvers(path: Path = Path("/etc/resolv.conf")) -> list[tuple[str, int]]:
    out = []
    try:
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver" and ":" not in parts[1]:
                out.append((parts[1], 53))
    except OSError:
        pass
    return out


def parse_question(msg: bytes) -> tuple[str, int, int] | None:
    """(name, qtype, end offset of the question) of a query, or None if it is not one we answer."""
    if len(msg) < 12 or msg[2] & 0x80 or struct.unpack("!H", msg[4:6])[0] != 1:
        return None
    labels, i = [], 12
    while i < len(msg) and msg[i]:
        n = msg[i]
        if n & 0xC0:
            return None
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[i + 1:i + 5])
    return ".".join(labels).lower(), qtype, i + 5


def answer(msg: bytes, end: int, addresses: list[str], qtype: int) -> bytes:
    """An authoritative reply to *msg* carrying A records for *addresses* (none for AAAA)."""
    records = addresses if qtype in (QTYPE_A, QTYPE_ANY) else []
    flags = 0x8400 | (struct.unpack("!H", msg[2:4])[0] & 0x0100) | 0x0080  # QR AA, copy RD, RA
    header = msg[:2] + struct.pack("!HHHHH", flags, 1, len(records), 0, 0)
    body = b"".join(
        struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1, TTL, 4) + ipaddress.IPv4Address(a).packed for a in records
    )
    return header + msg[12:end] + body


def servfail(msg: bytes) -> bytes:
    flags = 0x8080 | (struct.unpack("!H", msg[2:4])[0] & 0x0100) | 2
    return msg[:2] + struct.pack("!H", flags) + msg[4:]


class Resolver:
    def __init__(self, lookup: Lookup, upstreams: list[tuple[str, int]], *, timeout: float = 2.0,
                 peers: PeerLookup | None = None) -> None:
        self.lookup = lookup
        self.peers = peers
        self.upstreams = upstreams
        self.timeout = timeout

    async def resolve(self, msg: bytes, source: str = "") -> bytes | None:
        q = parse_question(msg)
        if q is None:
            return None
        name, qtype, end = q
        local = self.lookup(name) or (self.peers(name, source) if self.peers and source else [])
        if local:
            return answer(msg, end, local, qtype)
        for upstream in self.upstreams:
            try:
                return await asyncio.wait_for(_forward(msg, upstream), self.timeout)
            except (OSError, TimeoutError):
                continue
        return servfail(msg)


async def _forward(msg: bytes, upstream: tuple[str, int]) -> bytes:
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[bytes] = loop.create_future()

    class Once(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, _addr: tuple[str, int]) -> None:
            if not reply.done():
                reply.set_result(data)

    transport, _ = await loop.create_datagram_endpoint(Once, remote_addr=upstream)
    try:
        transport.sendto(msg)
        return await reply
    finally:
        transport.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._reply(data, addr))

    async def _reply(self, data: bytes, addr: tuple[str, int]) -> None:
        out = await self.resolver.resolve(data, addr[0])
        if out is not None:
            self.transport.sendto(out, addr)


async def _tcp(resolver: Resolver, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    source = peer[0] if isinstance(peer, tuple) else ""
    try:
        while True:
            (n,) = struct.unpack("!H", await reader.readexactly(2))
            out = await resolver.resolve(await reader.readexactly(n), source)
            if out is None:
                break
            writer.write(struct.pack("!H", len(out)) + out)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(resolver: Resolver, udp: socket.socket, tcp: socket.socket,
                stop: asyncio.Future[None] | None = None) -> None:
    """Serve on already-bound sockets until *stop* resolves (or SIGTERM when run as a process)."""
    loop = asyncio.get_running_loop()
    if stop is None:
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(resolver), sock=udp)
    server = await asyncio.start_server(lambda r, w: _tcp(resolver, r, w), sock=tcp)
    try:
        await stop
    finally:
        transport.close()
        server.close()


def bind(address: str, port: int = 53) -> tuple[socket.socket, socket.socket]:
    """UDP and TCP sockets on *address*:*port*; port 0 picks one free for both (tests)."""
    for _ in range(20 if port == 0 else 1):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            udp.bind((address, port))
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((address, udp.getsockname()[1]))
            tcp.listen(128)
            return udp, tcp
        except OSError as e:
            udp.close()
            tcp.close()
            error = e
    raise error


def store_lookup(db_path: Path, network: str) -> Lookup:
    from dockyard.net.store import Store

    store = Store(db_path)

    def lookup(name: str) -> list[str]:
        return _find(store.names(network), name, network)

    return lookup


def store_peers(db_path: Path, network: str) -> PeerLookup:
    """Names on the other networks of the pod that has address *source* on *network*."""
    from dockyard.net.store import Store

    store = Store(db_path)

    def peers(name: str, source: str) -> list[str]:
        pods = [e.pod_id for e in store.endpoints(network=network) if e.address == source]
        for pod_id in pods:
            for ep in store.endpoints(pod_id=pod_id):
                if ep.network != network:
                    found = _find(store.names(ep.network), name, ep.network)
                    if found:
                        return found
        return []

    return peers


def _find(names: dict[str, list[str]], name: str, network: str) -> list[str]:
    return names.get(name) or names.get(name.removesuffix(f".{network}")) or []


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="dockyard.net.dns")
    ap.add_argument("--instance", required=True)
    ap.add_argument("--network", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--upstream", action="append", default=[], help="ip:port; default: /etc/resolv.conf")
    ap.add_argument("--fd", type=int, action="append", required=True, help="UDP then TCP socket")
    args = ap.parse_args(argv)
    ups = [(h, int(p)) for h, _, p in (u.rpartition(":") for u in args.upstream)] or host_resolvers()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, fileno=args.fd[0])
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM, fileno=args.fd[1])
    for s in (udp, tcp):
        s.setblocking(False)
    db = Path(args.db)
    resolver = Resolver(store_lookup(db, args.network), ups, peers=store_peers(db, args.network))
    asyncio.run(serve(resolver, udp, tcp))


if __name__ == "__main__":
    main()
