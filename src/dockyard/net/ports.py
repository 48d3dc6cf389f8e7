"""Port publishing: ``-p [ip:][host:]container[/tcp|udp]`` and ``-P``.

Publishing a port is three things, made in this order so a failure leaves nothing behind:
1. bind ``host_ip:host_port`` here, in the caller (port in use → :class:`Conflict`, before
   anything else exists; port 0 → the kernel picks a free one, which is ``-P``);
2. hand the bound socket to a detached userland proxy (:mod:`dockyard.net.proxy`), which serves
   loopback clients and keeps the port reserved;
3. a row in ``net.db``, from which :mod:`dockyard.net.nat` renders the DNAT rule for everyone
   else.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
import sqlite3
from dataclasses import dataclass

from dockyard.base.errors import Conflict, InvalidArgument
from dockyard.net import procs
from dockyard.net.store import PortRow, Store

_SPEC = re.compile(r"^(?:(?:(?P<ip>[0-9.]+):)?(?P<host>\d*):)?(?P<cport>\d+)(?:/(?P<proto>tcp|udp))?$")


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One published port; ``host_port == 0`` asks for a free one."""

    container_port: int
    proto: str = "tcp"
    host_ip: str = "0.0.0.0"
    host_port: int = 0

    def __str__(self) -> str:
        return f"{self.host_ip}:{self.host_port}:{self.container_port}/{self.proto}"


def parse(spec: str) -> PortSpec:
    """Parse docker's ``-p`` syntax: ``80``, ``8080:80``, ``127.0.0.1:8080:80``, ``127.0.0.1::80/udp``."""
    m = _SPEC.match(spec.strip())
    if not m:
        raise InvalidArgument(f"port {spec!r}: invalid; use [ip:][hostPort:]containerPort[/tcp|udp]")
    ip = m["ip"] or "0.0.0.0"
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise InvalidArgument(f"port {spec!r}: {ip!r} is not an IPv4 address") from None
    cport, hport = int(m["cport"]), int(m["host"] or 0)
    if not 0 < cport < 65536 or not 0 <= hport < 65536:
        raise InvalidArgument(f"port {spec!r}: ports must be between 1 and 65535")
    return PortSpec(cport, m["proto"] or "tcp", ip, hport)


def publish_all(exposed: list[str], host_ip: str = "0.0.0.0") -> list[PortSpec]:
    """``-P``: every exposed port (``80/tcp`` as in an image config) on a free host port."""
    return [parse(f"{host_ip}::{e}") for e in exposed]


def _bind(spec: PortSpec) -> socket.socket:
    kind = socket.SOCK_STREAM if spec.proto == "tcp" else socket.SOCK_DGRAM
    sock = socket.socket(socket.AF_INET, kind)
    try:
        if spec.proto == "tcp":
            # Lets a restarted proxy rebind while old connections sit in TIME_WAIT; a live
            # listener on the port still makes bind fail.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((spec.host_ip, spec.host_port))
        if spec.proto == "tcp":
            sock.listen(1024)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise Conflict(f"port {spec.host_ip}:{spec.host_port}/{spec.proto}: already in use; "
                           "choose another host port or stop what holds it") from e
        if e.errno == errno.EADDRNOTAVAIL:
            raise InvalidArgument(f"port {spec}: {spec.host_ip} is not an address of this host") from e
        raise
    return sock


def start_proxy(instance: str, pod_id: str, spec: PortSpec, pod_ip: str) -> tuple[int, int]:
    """Bind and start the proxy for *spec*; returns (host port actually bound, proxy pid)."""
    sock = _bind(spec)
    try:
        port = sock.getsockname()[1]
        pid = procs.spawn("proxy", ["--instance", instance, "--pod", pod_id, "--proto", spec.proto,
                                    "--target", f"{pod_ip}:{spec.container_port}"], [sock])
    finally:
        sock.close()
    return port, pid


def publish(store: Store, instance: str, pod_id: str, pod_ip: str, specs: list[PortSpec]) -> list[PortRow]:
    """Bind, proxy and record every spec, all or nothing (the caller re-renders nft rules)."""
    made: list[PortRow] = []
    try:
        for spec in specs:
            port, pid = start_proxy(instance, pod_id, spec, pod_ip)
            row = PortRow(pod_id, spec.proto, spec.host_ip, port, spec.container_port, pid)
            try:
                with store.write() as c:
                    c.execute("INSERT INTO ports VALUES (?,?,?,?,?,?)",
                              (pod_id, row.proto, row.host_ip, row.host_port, row.container_port, pid))
            except sqlite3.IntegrityError:
                procs.stop(pid, "proxy", instance)
                raise Conflict(f"port {spec}: already published by another pod; choose another") from None
            made.append(row)
    except BaseException:
        unpublish(store, instance, made)
        raise
    return made


def unpublish(store: Store, instance: str, rows: list[PortRow]) -> None:
    for row in rows:
        procs.stop(row.proxy_pid, "proxy", instance)
        with store.write() as c:
            c.execute("DELETE FROM ports WHERE proto = ? AND host_ip = ? AND host_port = ?",
                      (row.proto, row.host_ip, row.host_port))
