"""``dockyard apiserver`` (run the Kubernetes API server alone) and ``dockyard kubeconfig``.

The server writes where it listens to ``<state dir>/apiserver.json`` so that ``dockyard
kubeconfig`` can print a kubeconfig for it without flags.  It also listens on a unix socket in
the state dir, which is admin (as kube's local loopback client is).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import ssl
from pathlib import Path

import click
import yaml

from dockyard.base import paths


@click.command()
@click.option("--addr", default="127.0.0.1:6443", show_default=True, help="HOST:PORT to listen on.")
@click.option("--datastore", default="sqlite", show_default=True, help="sqlite, sqlite:///PATH or etcd://HOST:PORT.")
@click.option("--tokens-file", type=click.Path(exists=True, dir_okay=False), help="CSV: token,user,uid,groups.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--client-ca", type=click.Path(exists=True, dir_okay=False), help="Accept client certificates from this CA.")
@click.option("--history", default=1000, show_default=True,
              help="Events kept in memory for watches (older ones are read from the store).")
@click.option("--compaction-interval", default=300.0, show_default=True,
              help="Seconds between compactions; history older than one interval is forgotten.")
def apiserver(addr: str, datastore: str, tokens_file: str | None, tls_cert: str | None, tls_key: str | None,
              client_ca: str | None, history: int, compaction_interval: float) -> None:
    """Run the Kubernetes API server (and its store) in the foreground."""
    asyncio.run(_serve(addr, datastore, tokens_file, tls_cert, tls_key, client_ca, history, compaction_interval))


async def _serve(addr: str, datastore: str, tokens_file: str | None, tls_cert: str | None, tls_key: str | None,
                 client_ca: str | None, history: int, compaction_interval: float) -> None:
    from aiohttp import web

    from dockyard.cluster.apiserver.app import ApiServer
    from dockyard.cluster.apiserver.auth import Authenticator
    from dockyard.cluster.store import open_store

    root = paths.data_root()
    state = paths.ensure_dir(paths.state_dir())
    server = ApiServer(open_store(datastore, data_root=root, history=history), root,
                       Authenticator(Path(tokens_file) if tokens_file else None, client_certs=bool(client_ca)),
                       compaction_interval=compaction_interval)
    await server.start()
    runner = web.AppRunner(server.app(), access_log=None, handler_cancellation=True)
    await runner.setup()
    host, _, port = addr.rpartition(":")
    ctx = None
    if tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls_cert, tls_key)
        if client_ca:
            ctx.load_verify_locations(client_ca)
            ctx.verify_mode = ssl.CERT_OPTIONAL
    sock_path = state / "apiserver.sock"
    with contextlib.suppress(FileNotFoundError):
        sock_path.unlink()
    await web.UnixSite(runner, str(sock_path)).start()
    os.chmod(sock_path, 0o600)
    scheme = "https" if tls_cert else "http"
    info = {"server": f"{scheme}://{host or '127.0.0.1'}:{port}", "socket": str(sock_path),
            "ca": client_ca or tls_cert}
    # Written before the TCP port opens, so whoever sees the port can already read where it is.
    (state / "apiserver.json").write_text(json.dumps(info))
    await web.TCPSite(runner, host or "127.0.0.1", int(port), ssl_context=ctx, reuse_address=True).start()
    click.echo(f"apiserver listening on {info['server']}", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await server.close()


@click.command()
@click.option("--server", help="API server URL (default: the one `dockyard apiserver` started).")
@click.option("--token", help="Bearer token to put in the kubeconfig.")
@click.option("--namespace", default="default", show_default=True)
def kubeconfig(server: str | None, token: str | None, namespace: str) -> None:
    """Print a kubeconfig for the local API server."""
    info_path = paths.state_dir() / "apiserver.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    server = server or info.get("server") or "http://127.0.0.1:6443"
    cluster: dict[str, object] = {"server": server}
    if info.get("ca"):
        cluster["certificate-authority"] = info["ca"]
    user: dict[str, object] = {"token": token} if token else {}
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "dockyard",
        "clusters": [{"name": "dockyard", "cluster": cluster}],
        "users": [{"name": "dockyard", "user": user}],
        "contexts": [{"name": "dockyard", "context": {"cluster": "dockyard", "user": "dockyard",
                                                      "namespace": namespace}}],
        "preferences": {},
    }
    click.echo(yaml.safe_dump(config, sort_keys=False), nl=False)
