"""Image verbs against the daemon: ``images``, ``pull``, ``tag``, ``rmi``.

``images`` reads the image store's records through ``/dockyard/images``
(:mod:`dockyard.dockerapi.cliviews`) and selects and prints them with the daemonless verb's own
functions (:func:`dockyard.cli.image.select_rows`, :func:`dockyard.cli.image.echo_images`).  ``pull`` replays
the daemon's progress lines through the same progress printer the daemonless pull uses.
"""

from __future__ import annotations

import json
from typing import Any

import click

from dockyard.base.digest import Digest
from dockyard.base.errors import DockyardError
from dockyard.cli import image as local
from dockyard.cli.remote.discovery import GoLocal
from dockyard.cli.remote.transport import Client, seg
from dockyard.oci.images import ImageRecord


def record(doc: dict[str, Any]) -> ImageRecord:
    return ImageRecord(digest=Digest.parse(doc["digest"]), media_type=doc["media_type"], names=tuple(doc["names"]),
                       config_digest=Digest.parse(doc["config_digest"]) if doc["config_digest"] else None,
                       size=doc["size"], created=doc["created"], added=doc["added"])


def resolve(client: Client, ref: str) -> ImageRecord:
    """The image *ref* names (NotFound in the image store's words)."""
    return record(client.get(f"/dockyard/images/{seg(ref)}"))


@click.command("images")
@local.images_options
@click.pass_obj
def images(client: Client, reference: str | None, quiet: bool, all_: bool, no_trunc: bool, digests: bool, fmt: str,
           filters: tuple[str, ...]) -> None:
    """List images."""
    rows = local.select_rows(lambda: map(record, client.get("/dockyard/images")), reference, filters,
                             no_trunc=no_trunc)
    local.echo_images(rows, quiet=quiet, fmt=fmt, digests=digests)


@click.command()
@click.argument("image")
@click.option("--platform", help="os/arch[/variant] to pull from a multi-platform image (default: this host).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the result.")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@click.option("--ca-file", help="Extra CA certificate(s) to trust (PEM).")
@click.pass_obj
def pull(client: Client, image: str, platform: str | None, quiet: bool, insecure: bool, ca_file: str | None) -> None:
    """Pull an image (busybox, host:5000/ns/app:tag, …@sha256:…) from a registry."""
    from dockyard.oci import names
    from dockyard.registry.client import progress

    if platform or insecure or ca_file:
        raise GoLocal("pull settings the Docker API does not carry")  # the daemon's own settings apply there
    ref = names.parse(image)
    shown = progress.for_terminal(quiet=quiet)
    resp = client.open("POST", "/images/create", {"fromImage": str(ref)})
    try:
        for line in resp:
            if not line.strip():
                continue
            msg = json.loads(line)
            if "error" in msg:
                raise DockyardError(msg["error"])
            if msg.get("id"):
                shown.done(msg["id"], msg.get("status", ""))
            elif msg.get("status"):
                shown.message(msg["status"])
    finally:
        resp.close()
    click.echo(str(ref) if not quiet else (ref.familiar() if ref.tag else None))


@click.command("tag")
@click.argument("source")
@click.argument("target")
@click.pass_obj
def tag(client: Client, source: str, target: str) -> None:
    """Create a tag TARGET that refers to SOURCE."""
    from dockyard.oci import names

    resolve(client, source)  # the store's own "not found", as daemonless
    ref = names.parse(target)
    client.post(f"/images/{seg(source)}/tag", repo=names.familiar(ref.repository), tag=ref.tag or "latest")


@click.command("rmi")
@click.argument("refs", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Remove an image even if it has several names or containers.")
@click.pass_obj
def rmi(client: Client, refs: tuple[str, ...], force: bool) -> None:
    """Remove one or more images."""
    for ref in refs:
        resolve(client, ref)
        for item in client.delete(f"/images/{seg(ref)}", force=force) or []:
            for action, ident in item.items():
                click.echo(f"{action}: {ident}")
