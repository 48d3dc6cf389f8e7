"""The userland port proxy (docker-proxy's role): one small process per published port.

Loopback traffic never passes ``prerouting``, and DNAT from 127.0.0.1 to a bridge address would
need ``route_localnet``; so, as Docker does, a process accepting on ``host_ip:host_port`` relays to
``pod_ip:container_port``.  It also *holds* the host port, so nobody else can take it while the
pod publishes it.

The parent binds the socket (so "port in use" is reported to the caller before anything exists)
and passes it as fd 3.  The proxy runs in its own session so it outlives the daemon; the
reconciler finds it by ``--instance``/``--pod`` in its command line.  Imports only the standard
library: it is started once per port.

    python -m dockyard.net.proxy --instance dockyard --pod ID --proto tcp --target 10.88.0.2:80
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket

UDP_IDLE = 90.0  # seconds an idle UDP "connection" keeps its upstream socket, as conntrack does


class Pipe(asyncio.Protocol):
    """One direction-pair of a TCP relay; *other* is the pipe on the opposite socket."""

    def __init__(self, other: Pipe | None = None) -> None:
        self.other = other
        self.transport: asyncio.Transport | None = None
        self.eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if self.other is not None:
            self.other.other = self

    def data_received(self, data: bytes) -> None:
        if self.other and self.other.transport:
            self.other.transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        if self.other and self.other.transport and self.other.transport.can_write_eof():
            self.other.transport.write_eof()
        if self.other and self.other.eof:
            self.transport.close()  # type: ignore[union-attr]
        return True

    def pause_writing(self) -> None:
        if self.other and self.other.transport:
            self.other.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.other and self.other.transport:
            self.other.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.other and self.other.transport:
            self.other.transport.close()


class Accepted(Pipe):
    """The client side: holds reads until the upstream connection exists."""

    def __init__(self, target: tuple[str, int]) -> None:
        super().__init__()
        self.target = target

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        transport.pause_reading()  # type: ignore[attr-defined]
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: Pipe(self), *self.target)
        except OSError:
            self.transport.close()  # type: ignore[union-attr]
            return
        self.transport.resume_reading()  # type: ignore[union-attr]


class UdpRelay(asyncio.DatagramProtocol):
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.flows: dict[tuple[str, int], tuple[asyncio.DatagramTransport, asyncio.TimerHandle]] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        asyncio.get_running_loop().create_task(self._relay(data, addr))

    async def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        flow = self.flows.get(client)
        if flow is None:
            back = self

            class Reply(asyncio.DatagramProtocol):
                def datagram_received(self, reply: bytes, _addr: tuple[str, int]) -> None:
                    back.transport.sendto(reply, client)  # type: ignore[union-attr]

            upstream, _ = await loop.create_datagram_endpoint(Reply, remote_addr=self.target)
        else:
            upstream, timer = flow
            timer.cancel()
        self.flows[client] = (upstream, loop.call_later(UDP_IDLE, self._expire, client))
        upstream.sendto(data)

    def _expire(self, client: tuple[str, int]) -> None:
        upstream, _ = self.flows.pop(client)
        upstream.close()


async def serve(sock: socket.socket, proto: str, target: tuple[str, int]) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    if proto == "tcp":
        server = await loop.create_server(lambda: Accepted(target), sock=sock, backlog=1024)
        async with server:
            await stop
    else:
        transport, _ = await loop.create_datagram_endpoint(lambda: UdpRelay(target), sock=sock)
        await stop
        transport.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="dockyard.net.proxy")
    ap.add_argument("--instance", required=True)
    ap.add_argument("--pod", required=True)
    ap.add_argument("--proto", choices=("tcp", "udp"), required=True)
    ap.add_argument("--target", required=True, help="pod_ip:port")
    ap.add_argument("--fd", type=int, required=True)
    args = ap.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(socket.AF_INET, kind, fileno=args.fd)
    sock.setblocking(False)
    asyncio.run(serve(sock, args.proto, (host, int(port))))


if __name__ == "__main__":
    main()
