"""``dockyard pull/push/login/logout`` and ``dockyard registry serve|gc``."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from dockyard.base import paths


def _parse_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter(f"{addr!r}: expected HOST:PORT such as 127.0.0.1:5000", param_hint="--addr")
    return host.strip("[]") or "0.0.0.0", int(port)


@click.group()
def registry() -> None:
    """Run dockyard's own OCI registry."""


@registry.command("serve")
@click.option("--addr", default="127.0.0.1:5000", show_default=True, help="HOST:PORT to listen on (port 0: any).")
@click.option("--htpasswd", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="bcrypt htpasswd file (htpasswd -Bbn USER PASS); turns authentication on.")
@click.option("--token-auth", is_flag=True, help="Bearer tokens from /token instead of basic auth.")
@click.option("--anonymous-read", is_flag=True, help="Let anyone pull when authentication is on.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM certificate (chain) to serve HTTPS with.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key of --tls-cert.")
def serve(addr: str, htpasswd: Path | None, token_auth: bool, anonymous_read: bool,
          tls_cert: Path | None, tls_key: Path | None) -> None:
    """Serve the OCI distribution API on /v2/ from the engine's content store."""
    from dockyard.registry.server.app import ServeOptions
    from dockyard.registry.server.app import serve as run_server

    if bool(tls_cert) != bool(tls_key):
        raise click.UsageError("--tls-cert and --tls-key go together")
    host, port = _parse_addr(addr)
    options = ServeOptions(host=host, port=port, htpasswd=htpasswd, token_auth=token_auth,
                           anonymous_read=anonymous_read, tls_cert=tls_cert, tls_key=tls_key)

    def ready(url: str) -> None:
        click.echo(f"dockyard registry listening on {url}")
        sys.stdout.flush()

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        try:
            await run_server(paths.data_root(), options, ready=ready)
        except asyncio.CancelledError:
            pass

    asyncio.run(main())


@registry.command("gc")
def gc() -> None:
    """Delete blobs the registry stored that no repository refers to any more."""
    from dockyard.registry.server.gc import collect

    removed = collect(paths.data_root())
    click.echo(f"removed {len(removed)} blobs")


def _settings(insecure: bool, ca_file: Path | None):
    from dockyard.registry.client.settings import ClientSettings

    return ClientSettings.load(paths.data_root(), insecure=insecure, ca_file=ca_file)


_insecure = click.option("--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS.")
_ca = click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                   help="Extra CA certificate(s) to trust (PEM).")
_quiet = click.option("-q", "--quiet", is_flag=True, help="Print only the result.")


@click.command()
@click.argument("image")
@click.option("--platform", help="os/arch[/variant] to pull from a multi-platform image (default: this host).")
@_quiet
@_insecure
@_ca
def pull(image: str, platform: str | None, quiet: bool, insecure: bool, ca_file: Path | None) -> None:
    """Pull an image (busybox, host:5000/ns/app:tag, …@sha256:…) from a registry."""
    from dockyard.oci import names
    from dockyard.oci.images import ImageStore
    from dockyard.oci.manifest import Platform
    from dockyard.registry.client import credentials, progress
    from dockyard.registry.client.pull import pull as do_pull

    ref = names.parse(image)
    images = ImageStore(paths.data_root())
    try:
        result = asyncio.run(do_pull(
            ref, images=images, settings=_settings(insecure, ca_file), credentials=credentials.lookup(ref.domain),
            progress=progress.for_terminal(quiet=quiet), platform=Platform.parse(platform) if platform else None))
    finally:
        images.close()
    click.echo(str(ref) if not quiet else result.name)


@click.command()
@click.argument("image")
@click.option("--chunk-size", type=int, help="Upload blobs in PATCH chunks of this many bytes.")
@_quiet
@_insecure
@_ca
def push(image: str, chunk_size: int | None, quiet: bool, insecure: bool, ca_file: Path | None) -> None:
    """Push a local image to the registry its name points at."""
    from dockyard.oci import names
    from dockyard.oci.images import ImageStore
    from dockyard.registry.client import credentials, progress
    from dockyard.registry.client.push import push as do_push

    ref = names.parse(image)
    images = ImageStore(paths.data_root())
    try:
        result = asyncio.run(do_push(
            ref, images=images, settings=_settings(insecure, ca_file), credentials=credentials.lookup(ref.domain),
            progress=progress.for_terminal(quiet=quiet), source=image, chunk_size=chunk_size))
    finally:
        images.close()
    if quiet:
        click.echo(f"{ref.name}@{result.digest}")


def _server(server: str | None) -> str:
    from dockyard.oci import names

    if not server:
        return "docker.io"
    host = server.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    if host in ("index.docker.io", "registry-1.docker.io", "docker.io"):
        return "docker.io"
    if not names.is_domain(host):
        raise click.BadParameter(f"{server!r}: not a registry host", param_hint="SERVER")
    return host


@click.command()
@click.argument("server", required=False)
@click.option("-u", "--username")
@click.option("-p", "--password", help="Prefer --password-stdin: a password here lands in shell history.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@_insecure
@_ca
def login(server: str | None, username: str | None, password: str | None, password_stdin: bool,
          insecure: bool, ca_file: Path | None) -> None:
    """Log in to a registry (default Docker Hub); credentials go where docker keeps them."""
    from dockyard.registry.client import credentials
    from dockyard.registry.client.login import check_login

    domain = _server(server)
    if password_stdin:
        password = sys.stdin.read().rstrip("\n")
    username = username or click.prompt("Username")
    if password is None:
        password = click.prompt("Password", hide_input=True)
    creds = credentials.Credentials(username, password)
    asyncio.run(check_login(domain, creds, settings=_settings(insecure, ca_file)))
    where = credentials.store(domain, creds)
    click.echo(f"Login Succeeded (credentials saved in {where})")


@click.command()
@click.argument("server", required=False)
def logout(server: str | None) -> None:
    """Forget the credentials for a registry (default Docker Hub)."""
    from dockyard.registry.client import credentials

    domain = _server(server)
    if credentials.erase(domain):
        click.echo(f"Removing login credentials for {credentials.server_key(domain)}")
    else:
        click.echo(f"Not logged in to {credentials.server_key(domain)}")
