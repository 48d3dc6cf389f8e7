"""``dockyard serve``'s composition root: one asyncio process, the Docker API on its sockets.

Lifecycle:

* start — open the backend, reconcile networking with the records (strays of a crash removed,
  lost veths and port proxies of running containers restored), resume watching containers that
  are running (their shims outlived the previous daemon, so nothing needs restarting), listen on
  the unix socket (0660, group ``dockyard``), optionally ``/var/run/docker.sock``, TCP with mutual
  TLS, and the embedded registry on its own TCP port;
* SIGTERM/SIGINT — stop accepting, end the long-lived streams at once (attach, wait, ``logs -f``,
  events, stats: they last as long as a container, so waiting for them would always cost the whole
  grace), give the other in-flight requests ``shutdown_grace`` seconds, close; the containers keep
  running in their shims;
* SIGKILL — nothing to do: every fact is in SQLite or with a shim, the next start picks it up.

The cluster layer will join this root later; until then it sits at the top of ``dockerapi``.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import signal
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from dockyard.base import log
from dockyard.base.errors import InvalidArgument
from dockyard.dockerapi.backend import Backend, Settings
from dockyard.dockerapi.config import DaemonConfig

_log = log.get("dockerapi.daemon")


def _socket_group(name: str) -> int | None:
    """The socket's group, created when missing (as root); None when we cannot have it."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    if os.geteuid() != 0:
        return None
    import subprocess

    subprocess.run(["groupadd", "--system", name], check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def _prepare_socket(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # stale: its daemon is gone
        else:
            raise InvalidArgument(f"socket {path}: another daemon is listening there; stop it first")
        finally:
            probe.close()


def _secure_socket(path: Path, group: str, shown: Path | None = None) -> None:
    """0660, group *group*; a group we may not give files to (rootless, not a member) is a warning."""
    gid = _socket_group(group) if group else None
    if gid is not None:
        try:
            os.chown(path, -1, gid)
        except PermissionError:
            _log.warning("socket %s: cannot give it to group %r (not a member?); it keeps group %r",
                         shown or path, group, _group_name(os.getegid()))
            with contextlib.suppress(OSError):
                os.chown(path, -1, os.getegid())
    os.chmod(path, 0o660)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _listen_unix(path: Path, group: str) -> socket.socket:
    """A listening socket at *path* that is never reachable more openly than 0660.

    It is bound in a fresh 0700 directory beside *path*, given its group and mode there, then
    renamed into place (a bound socket keeps working under its new name); a path too long for that
    is bound under a umask that leaves it 0600 until the chmod.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        private = Path(tempfile.mkdtemp(prefix=".dy", dir=path.parent))
        tmp = private / "s"
        try:
            if len(os.fsencode(tmp)) < 108:
                sock.bind(str(tmp))
                _secure_socket(tmp, group, path)
                os.rename(tmp, path)
            else:
                old = os.umask(0o177)
                try:
                    sock.bind(str(path))
                finally:
                    os.umask(old)
                _secure_socket(path, group)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
            private.rmdir()
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _tls(config: DaemonConfig) -> ssl.SSLContext | None:
    if not config.tls_cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(config.tls_cert, config.tls_key)
    if config.tls_ca:
        ctx.load_verify_locations(config.tls_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: only clients with a certificate we signed
    return ctx


async def _resume(backend: Backend) -> None:
    """Watch the containers that kept running while no daemon was up (their exits, auto-remove)."""
    from dockyard.dockerapi.containers import watch

    def running(engine):
        return [r for r in engine.list(include_sandboxes=False) if engine.status(r).running]

    for rec in await backend.call(running):
        watch(backend, rec)


async def _reconcile_network(backend: Backend) -> None:
    """Make the kernel match the records before serving (``dockyard.net``'s reconcile, forced).

    After a crash or a reboot the host may hold interfaces, addresses, nft rules, pinned netns and
    port proxies of containers that no longer exist, and miss those of containers that still run
    (a lost veth, a dead proxy).  Sandboxes without a container are torn down, live ones restored.
    A failure here is logged, not fatal: the Docker API stays useful for everything else.
    """
    from dockyard.engine import network

    try:
        await backend.call(lambda engine: network.reconcile(engine, force=True))
    except Exception as e:  # any failure: keep serving, say what is off
        _log.warning("network reconcile at start failed (containers' networking may be incomplete): %s", e)


async def serve(config: DaemonConfig, *, ready: Callable[[list[str]], None] | None = None) -> None:
    from dockyard.dockerapi.app import make_app

    os.environ["DOCKYARD_ROOT"] = str(config.data_root)
    os.environ["DOCKYARD_STATE"] = str(config.state_dir)
    backend = Backend(Settings(config.data_root, config.state_dir))
    app = make_app(backend)
    import logging

    access = log.get("dockerapi.access")
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=config.shutdown_grace,
                           access_log=access if access.isEnabledFor(logging.DEBUG) else None)
    await runner.setup()
    await _reconcile_network(backend)  # before listening: no request sees half-restored networking
    addresses = []
    ours: list[tuple[Path, int]] = []
    tasks: list[asyncio.Task] = []
    try:
        for path in [config.socket, *([config.docker_socket] if config.docker_socket else [])]:
            _prepare_socket(path)
            await web.SockSite(runner, _listen_unix(path, config.group)).start()
            ours.append((path, path.stat().st_ino))
            addresses.append(f"unix://{path}")
        if config.tcp:
            host, _, port = config.tcp.rpartition(":")
            await web.TCPSite(runner, host or "127.0.0.1", int(port), ssl_context=_tls(config)).start()
            addresses.append(f"tcp://{config.tcp}")
        if config.registry_listen:
            listening = asyncio.Event()
            tasks.append(asyncio.get_running_loop().create_task(_registry(config, listening.set)))
            await asyncio.wait({tasks[-1], asyncio.ensure_future(listening.wait())}, timeout=10,
                               return_when=asyncio.FIRST_COMPLETED)
            if tasks[-1].done():
                tasks[-1].result()  # it failed to start: say why
            addresses.append(f"registry http://{config.registry_listen}")
        await _resume(backend)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        _log.info("listening on %s", ", ".join(addresses))
        if ready is not None:
            ready(addresses)
        await stop.wait()
        _log.info("stopping: finishing requests in flight (containers keep running)")
    finally:
        t0 = time.monotonic()
        for t in [*tasks, *backend.reapers.values()]:
            t.cancel()
        for site in list(runner.sites):  # stop accepting first: no new stream can start after this
            await site.stop()
        ended = await backend.end_streams()
        await runner.cleanup()
        _log.debug("http server closed in %.2fs (%d streams ended)", time.monotonic() - t0, ended)
        for path, inode in ours:  # only our own: a successor may already listen at the same path
            with contextlib.suppress(OSError):
                if path.stat().st_ino == inode:
                    path.unlink()
        await asyncio.get_running_loop().run_in_executor(None, backend.close)


async def _registry(config: DaemonConfig, ready: Callable[[], None]) -> None:
    from dockyard.registry.server.app import ServeOptions
    from dockyard.registry.server.app import serve as serve_registry

    host, _, port = config.registry_listen.rpartition(":")
    await serve_registry(config.data_root, ServeOptions(host=host or "127.0.0.1", port=int(port)),
                         ready=lambda _url: ready())
