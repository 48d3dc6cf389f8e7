"""Image verbs against the daemon: ``images``, ``pull``, ``tag``, ``rmi``.

``images`` reads the image store's records through ``/dockyard/images``
(:mod:`dockyard.dockerapi.cliviews`) and prints them with the daemonless verb's own row and
table functions (:mod:`dockyard.cli.image_show`, :mod:`dockyard.cli.image`).  ``pull`` replays
the daemon's progress lines through the same progress printer the daemonless pull uses.
"""

from __future__ import annotations

import json
from typing import Any

import click

from dockyard.base.digest import Digest
from dockyard.base.errors import DockyardError
from dockyard.cli import image as local
from dockyard.cli import image_show as show
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
@click.argument("reference", required=False)
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.option("-a", "--all", "all_", is_flag=True, help="Accepted for docker compatibility.")
@click.option("--no-trunc", is_flag=True, help="Show full image IDs.")
@click.option("--digests", is_flag=True, help="Show manifest digests.")
@click.option("--format", "fmt", default="table", help="table, json, or a {{.Field}} template.")
@click.option("-f", "--filter", "filters", multiple=True, help="dangling=true|false or reference=PATTERN.")
@click.pass_obj
def images(client: Client, reference: str | None, quiet: bool, all_: bool, no_trunc: bool, digests: bool, fmt: str,
           filters: tuple[str, ...]) -> None:
    """List images."""
    keep = local._filter(filters)
    rows: list[dict[str, str]] = []
    for rec in map(record, client.get("/dockyard/images")):
        for row in show.image_rows(rec):
            if no_trunc:
                row["ID"] = str(rec.id)
            if (reference and not local._matches(reference, row)) or not keep(rec, row):
                continue
            rows.append(row)
    if quiet:
        click.echo("\n".join(dict.fromkeys(r["ID"] for r in rows)) if rows else "", nl=bool(rows))
    elif fmt == "json":
        for row in rows:
            click.echo(json.dumps(row))
    elif fmt != "table":
        for row in rows:
            click.echo(show.render_template(fmt.removeprefix("table "), row))
    else:
        cols = ["Repository", "Tag", *(["Digest"] if digests else []), "ID", "CreatedSince", "Size"]
        heads = ["REPOSITORY", "TAG", *(["DIGEST"] if digests else []), "IMAGE ID", "CREATED", "SIZE"]
        click.echo(show.table(heads, [[r[c] for c in cols] for r in rows]))


@click.command()
@click.argument("image")
@click.option("--platform", help="os/arch[/variant] to pull from a multi-platform image (default: this host).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the result.")
@click.option("--insecure", is_flag=True, help="Allow plain HTTP and unverified TLS.")
@click.option("--ca-file", help="Extra CA certificate(s) to trust (PEM).")
@click.pass_obj
def pull(client: Client, image: str, platform: str | None, quiet: bool, insecure: bool, ca_file: str | None) -> None:
    """Pull an image (busybox, host:5000/ns/app:tag, …@sha256:…) from a registry."""
    from dockyard.registry import reference
    from dockyard.registry.client import progress

    if platform or insecure or ca_file:
        raise GoLocal("pull settings the Docker API does not carry")  # the daemon's own settings apply there
    ref = reference.parse(image)
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
