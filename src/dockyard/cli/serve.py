"""``dockyard serve``: the daemon — the Docker Engine API on a unix socket (and TCP, the registry)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option("--socket", "socket_path", type=click.Path(path_type=Path),
              help="Unix socket (default /run/dockyard/dockyard.sock as root, $XDG_RUNTIME_DIR/dockyard otherwise).")
@click.option("--docker-socket", is_flag=True, help="Also listen on /var/run/docker.sock.")
@click.option("--tcp", help="Also listen on HOST:PORT (use --tls-* for mutual TLS).")
@click.option("--tls-cert", type=click.Path(path_type=Path, dir_okay=False), help="Server certificate (PEM).")
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False), help="Server key (PEM).")
@click.option("--tls-ca", type=click.Path(path_type=Path, dir_okay=False), help="CA that signs client certificates.")
@click.option("--registry", "registry_listen", help="Serve the embedded registry on HOST:PORT.")
@click.option("--shutdown-grace", type=float,
              help="Seconds requests in flight get after SIGTERM (default 5; streams end at once).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="dockyard.toml with [daemon], [registry], [registries], [networks] sections.")
def serve(socket_path: Path | None, docker_socket: bool, tcp: str | None, tls_cert: Path | None,
          tls_key: Path | None, tls_ca: Path | None, registry_listen: str | None, shutdown_grace: float | None,
          config_path: Path | None) -> None:
    """Run the daemon: docker, docker-py and testcontainers talk to it through DOCKER_HOST."""
    import asyncio
    import os

    from dockyard.dockerapi import config, daemon

    cfg = config.load(config_path, socket=socket_path, docker_socket=docker_socket, tcp=tcp, tls_cert=tls_cert,
                      tls_key=tls_key, tls_ca=tls_ca, registry_listen=registry_listen,
                      shutdown_grace=shutdown_grace)
    # [networks] and [registries] reach the engine and the registry client through their variables
    os.environ.update(cfg.environment())

    def ready(addresses: list[str]) -> None:
        click.echo(f"dockyard serving the Docker API on {', '.join(addresses)}", err=True)
        sys.stderr.flush()

    asyncio.run(daemon.serve(cfg, ready=ready))
