"""``dockyard image …`` and docker's top-level image verbs (images, tag, rmi, save, load, history).

Each command opens the image store under the data root, does one thing through :mod:`dockyard.oci`
and prints what docker would print.  Failures are ``DockyardError`` s, which ``main`` prints as one
line and turns into an exit code.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from dockyard.base import paths
from dockyard.base.clock import rfc3339
from dockyard.base.errors import Conflict, InvalidArgument, NotFound
from dockyard.cli import image_show as show
from dockyard.cli import output
from dockyard.engine import imagegc
from dockyard.oci import names
from dockyard.oci.images import ImageRecord, ImageStore


def _store() -> ImageStore:
    return ImageStore(paths.data_root())


@click.group("image")
def image() -> None:
    """Manage images: bootstrap, import, list, inspect, tag, remove, save, load."""


# -- listing and inspecting ----------------------------------------------------------------------

#: ``images``' REFERENCE argument and flags, daemonless and remote
images_options = output.options(
    click.argument("reference", required=False),
    click.option("-q", "--quiet", is_flag=True, help="Only show image IDs."),
    click.option("-a", "--all", "all_", is_flag=True, help="Accepted for docker compatibility."),
    click.option("--no-trunc", is_flag=True, help="Show full image IDs."),
    click.option("--digests", is_flag=True, help="Show manifest digests."),
    click.option("--format", "fmt", default="table", help="table, json, or a {{.Field}} template."),
    click.option("-f", "--filter", "filters", multiple=True, help="dangling=true|false or reference=PATTERN."),
)


@click.command("images")
@images_options
def images(reference: str | None, quiet: bool, all_: bool, no_trunc: bool, digests: bool, fmt: str,
           filters: tuple[str, ...]) -> None:
    """List images."""
    store = _store()
    echo_images(select_rows(store.list, reference, filters, no_trunc=no_trunc), quiet=quiet, fmt=fmt, digests=digests)


def select_rows(load: Callable[[], Iterable[ImageRecord]], reference: str | None, filters: tuple[str, ...], *,
                no_trunc: bool) -> list[dict[str, str]]:
    """``images``' rows of the records *load* returns, kept by *reference* and ``--filter`` (checked
    before *load* runs); the remote ``images`` lists the daemon's records through here too."""
    keep = image_filter(filters)
    rows: list[dict[str, str]] = []
    for record in load():
        for row in show.image_rows(record):
            if no_trunc:
                row["ID"] = str(record.id)
            if (reference and not reference_matches(reference, row)) or not keep(record, row):
                continue
            rows.append(row)
    return rows


def echo_images(rows: list[dict[str, str]], *, quiet: bool, fmt: str, digests: bool) -> None:
    """Print ``images``' rows: ids only, ``json``, a ``{{.Field}}`` template, or the table."""
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


def image_filter(filters: tuple[str, ...]) -> Callable[[ImageRecord, dict[str, str]], bool]:
    """``--filter dangling=true|false`` / ``reference=PATTERN`` → a check of (record, row)."""
    checks = []
    for f in filters:
        key, sep, value = f.partition("=")
        if key == "dangling" and value in ("true", "false"):
            want = value == "true"
            checks.append(lambda rec, row, want=want: (not rec.names) == want)
        elif key == "reference" and sep:
            checks.append(lambda rec, row, pat=value: fnmatch.fnmatch(f"{row['Repository']}:{row['Tag']}", pat)
                          or fnmatch.fnmatch(row["Repository"], pat))
        else:
            raise InvalidArgument(f"filter {f!r}: unsupported; use dangling=true|false or reference=PATTERN")
    return lambda rec, row: all(check(rec, row) for check in checks)


def reference_matches(reference: str, row: dict[str, str]) -> bool:
    """Whether *row* is the repository (and tag, if *reference* has one) *reference* names."""
    ref = names.parse(reference, default_tag=None)
    if names.familiar(ref.repository) != row["Repository"]:
        return False
    return ref.tag is None or ref.tag == row["Tag"]


@image.command("inspect")
@click.argument("refs", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", default=None, help="A {{.Field}} template.")
def inspect(refs: tuple[str, ...], fmt: str | None) -> None:
    """Show details of images as JSON."""
    store = _store()
    docs = [show.inspect_doc(store, store.resolve(ref)) for ref in refs]
    if fmt:
        for doc in docs:
            click.echo(show.render_template(fmt, doc))
    else:
        click.echo(json.dumps(docs, indent=4))


@click.command("history")
@click.argument("ref")
@click.option("-q", "--quiet", is_flag=True, help="Only show image IDs.")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output.")
@click.option("-H", "--human", default=True, type=bool, show_default=True, help="Human readable sizes and dates.")
@click.option("--format", "fmt", default="table", help="table or json.")
def history(ref: str, quiet: bool, no_trunc: bool, human: bool, fmt: str) -> None:
    """Show the history of an image."""
    store = _store()
    rows = show.history_rows(store, store.resolve(ref))
    if not no_trunc:
        for row in rows:
            if row["ID"] != "<missing>":
                row["ID"] = row["ID"].split(":", 1)[1][:12]
    if quiet:
        click.echo("\n".join(r["ID"] for r in rows))
        return
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row))
        return
    table = []
    for r in rows:
        created_by = r["CreatedBy"] if no_trunc or len(r["CreatedBy"]) <= 45 else r["CreatedBy"][:44] + "…"
        created = _history_created(r["CreatedAt"], human)
        size = show.human_size(r["Size"]) if human else str(r["Size"])
        table.append([r["ID"], created, created_by, size, r["Comment"]])
    click.echo(show.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], table))


def _history_created(text: str, human: bool) -> str:
    if not text or not human:
        return text
    from dockyard.base.clock import parse_rfc3339

    try:
        return show.since(parse_rfc3339(text))
    except ValueError:
        return text


# -- naming and removing --------------------------------------------------------------------------

@click.command("tag")
@click.argument("source")
@click.argument("target")
def tag(source: str, target: str) -> None:
    """Create a tag TARGET that refers to SOURCE."""
    store = _store()
    record = store.resolve(source)
    store.tag(target, record.digest, record.media_type)


@click.command("rmi")
@click.argument("refs", nargs=-1, required=True)
@click.option("-f", "--force", is_flag=True, help="Remove an image even if it has several names or containers.")
def rmi(refs: tuple[str, ...], force: bool) -> None:
    """Remove one or more images."""
    store = _store()
    for ref in refs:
        record = store.resolve(ref)
        canonical = _name_if_tag(ref, record)
        if canonical and len(record.names) > 1:
            store.untag(canonical)
            click.echo(f"Untagged: {names.familiar(canonical)}")
            continue
        if len(record.names) > 1 and not force:
            tags = ", ".join(names.familiar(n) for n in record.names)
            raise Conflict(f"image {record.short_id}: referenced by several names ({tags}); "
                           "remove them by name or use --force")
        users = imagegc.containers_using(store.root, record.id)
        if users and not force:
            raise Conflict(f"image {record.short_id}: in use by container {users[0]!r}; "
                           f"remove it with `dockyard rm {users[0]}` or use --force")
        for name in record.names:
            store.untag(name)
            click.echo(f"Untagged: {names.familiar(name)}")
        store.delete(store.get(record.digest), force=True)
        click.echo(f"Deleted: {record.id}")
    imagegc.collect_garbage(store)


def _name_if_tag(ref: str, record: ImageRecord) -> str | None:
    try:
        canonical = names.normalize(ref)
    except InvalidArgument:
        return None
    return canonical if canonical in record.names else None


@image.command("prune")
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
def prune(force: bool) -> None:
    """Remove untagged images and every blob no image needs."""
    if not force and sys.stdin.isatty():
        click.confirm("WARNING! This will remove all dangling images.\nAre you sure you want to continue?",
                      abort=True)
    store = _store()
    used = imagegc.images_used(store.root)  # docker keeps an untagged image a container runs on
    deleted = [r for r in store.list() if not r.names and str(r.id) not in used]
    for record in deleted:
        store.delete(record)
    freed = imagegc.collect_garbage(store, stale_ingest_age=24 * 3600)
    freed += imagegc.collect_snapshots(store)
    if deleted:
        click.echo("Deleted Images:")
        for record in deleted:
            click.echo(f"deleted: {record.id}")
        click.echo()
    click.echo(f"Total reclaimed space: {show.human_size(freed)}")


# -- making images -------------------------------------------------------------------------------

@image.command("bootstrap")
@click.argument("what", metavar="busybox|debian[:SUITE]")
@click.option("-t", "--tag", "name", help="Name for the image (default busybox:latest or debian:SUITE).")
@click.option("--compression", type=click.Choice(["gzip", "zstd", "none"]), default="gzip", show_default=True)
def bootstrap(what: str, name: str | None, compression: str) -> None:
    """Make a base image from this machine: static busybox, or Debian through debootstrap."""
    kind, _, suite = what.partition(":")
    if kind not in ("busybox", "debian") or (kind == "busybox" and suite):
        raise InvalidArgument(f"image bootstrap {what!r}: unknown base; use busybox or debian[:SUITE]")
    from dockyard.oci import bootstrap as bs
    from dockyard.oci.images import commit_image
    from dockyard.oci.layer import write_layer_blob

    store = _store()
    tmp_root = paths.ensure_dir(store.root / "tmp", 0o700)
    with tempfile.TemporaryDirectory(dir=tmp_root, prefix="bootstrap-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        rootfs.mkdir()
        if kind == "busybox":
            config, name = bs.busybox_rootfs(rootfs), name or "busybox:latest"
        else:
            suite = suite or "bookworm"
            config, name = bs.debian_rootfs(rootfs, suite), name or f"debian:{suite}"
        config = _full_config(config)
        config.setdefault("history", [{"created": rfc3339(store.clock.now()),
                                       "created_by": f"dockyard image bootstrap {what}"}])
        with store.content.lease() as lease:
            layer = write_layer_blob(store.content, rootfs, compression=compression)  # type: ignore[arg-type]
            lease.add(layer.digest)
            commit_image(store, layers=[layer], config=config, name=name)
    click.echo(f"{names.familiar(names.normalize(name))}: {store.resolve(name).id}")


def _full_config(config: dict[str, Any]) -> dict[str, Any]:
    """Accept an image config or just its runtime part (Cmd, Env, …) from the bootstrapper."""
    if "config" in config or not any(k[:1].isupper() for k in config):
        return dict(config)
    return {"config": dict(config)}


@image.command("import")
@click.argument("source", metavar="ROOTFS.tar|-")
@click.argument("name", required=False)
@click.option("-c", "--change", "changes", multiple=True, help="Dockerfile instruction: CMD, ENTRYPOINT, ENV, "
              "WORKDIR, USER, EXPOSE, LABEL.")
@click.option("-m", "--message", default="", help="Commit message for the history.")
def import_(source: str, name: str | None, changes: tuple[str, ...], message: str) -> None:
    """Create an image from a root filesystem tarball (plain, gzip or zstd)."""
    from dockyard.cli.image_changes import apply_changes
    from dockyard.oci.archive import import_rootfs

    store = _store()
    config = {"config": apply_changes({}, changes)} if changes else {}
    if source == "-":
        digest = import_rootfs(store, sys.stdin.buffer, name=name, config=config, message=message)
    else:
        path = Path(source)
        if not path.is_file():
            raise NotFound(f"image import {source!r}: no such file")
        with open(path, "rb") as f:
            digest = import_rootfs(store, f, name=name, config=config, message=message)
    click.echo(str(store.get(digest).id))


# -- moving images -------------------------------------------------------------------------------

@click.command("save")
@click.argument("refs", nargs=-1, required=True)
@click.option("-o", "--output", help="A directory (OCI layout) or FILE.tar; default: a tar on stdout.")
@click.option("--format", "fmt", type=click.Choice(["oci", "docker"]), default="oci", show_default=True,
              help="oci: OCI image layout / oci-archive; docker: the `docker save` archive.")
def save(refs: tuple[str, ...], output: str | None, fmt: str) -> None:
    """Save images to an OCI layout or a tar archive."""
    from dockyard.oci.archive import save as save_images

    store = _store()
    if output:
        save_images(store, refs, Path(output), fmt=fmt)  # type: ignore[arg-type]
        return
    if sys.stdout.isatty():
        raise InvalidArgument("image save: refusing to write a tar to a terminal; use -o FILE or redirect")
    save_images(store, refs, sys.stdout.buffer, fmt=fmt)  # type: ignore[arg-type]
    sys.stdout.buffer.flush()


@click.command("load")
@click.option("-i", "--input", "input_", help="OCI layout directory or tar (OCI or docker); default stdin.")
@click.option("--name", "repository", help="Repository for images that carry only a tag (skopeo's oci:DIR:TAG).")
@click.option("-q", "--quiet", is_flag=True, help="Suppress the load output.")
def load(input_: str | None, repository: str | None, quiet: bool) -> None:
    """Load images from an OCI layout, an oci-archive or a `docker save` archive."""
    from dockyard.oci.archive import load as load_images

    store = _store()
    if input_ and input_ != "-":
        path = Path(input_)
        if not path.exists():
            raise NotFound(f"image load {input_!r}: no such file or directory")
        loaded = load_images(store, path, repository=repository)
    else:
        loaded = load_images(store, sys.stdin.buffer, repository=repository)
    if not quiet:
        for item in loaded:
            if item.name:
                click.echo(f"Loaded image: {names.familiar(item.name)}")
            else:
                click.echo(f"Loaded image ID: {item.image_id or item.digest}")


image.add_command(images, "ls")
image.add_command(images, "list")
image.add_command(tag, "tag")
image.add_command(rmi, "rm")
image.add_command(history, "history")
image.add_command(save, "save")
image.add_command(load, "load")
