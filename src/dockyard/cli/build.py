"""``dockyard build``: docker build's flags, BuildKit's progress, no daemon."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def _kv(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        key, eq, value = v.partition("=")
        if not eq:
            # docker: `--build-arg NAME` takes the value from the environment
            if key in os.environ:
                out[key] = os.environ[key]
            continue
        out[key] = value
    return out


def _outputs(values: tuple[str, ...]) -> list[dict[str, str]]:
    outs = []
    for v in values:
        if "=" not in v.split(",", 1)[0]:
            v = f"type=local,dest={v}" if v != "-" else "type=tar,dest=-"
        outs.append(dict(p.split("=", 1) for p in v.split(",") if "=" in p))
    return outs


@click.command()
@click.argument("context", type=click.Path(file_okay=False, path_type=Path))
@click.option("-t", "--tag", "tags", multiple=True, help="Name and optionally a tag (name:tag).")
@click.option("-f", "--file", "dockerfile", type=click.Path(dir_okay=False, path_type=Path),
              help="Dockerfile (default: CONTEXT/Dockerfile).")
@click.option("--build-arg", "build_args", multiple=True, help="Set a build-time variable (NAME=value).")
@click.option("--target", help="Stage to build (default: the last).")
@click.option("--secret", "secrets", multiple=True, help="Secret for RUN --mount=type=secret: id=ID,src=FILE.")
@click.option("--no-cache", is_flag=True, help="Do not use the layer cache.")
@click.option("--pull", is_flag=True, help="Always pull base images from their registry.")
@click.option("--progress", type=click.Choice(["auto", "plain", "tty", "quiet"]), default="auto",
              show_default=True, help="How to show progress.")
@click.option("--push", is_flag=True, help="Push the image to its registry after the build.")
@click.option("-o", "--output", "outputs", multiple=True,
              help="Also export: type=oci|docker,dest=FILE.tar or type=local,dest=DIR.")
@click.option("--iidfile", type=click.Path(dir_okay=False, path_type=Path), help="Write the image ID here.")
@click.option("--label", "labels", multiple=True, help="Set an image label (key=value).")
@click.option("--platform", help="Target platform (os/arch); only this host's is runnable.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the image ID.")
def build(context: Path, tags: tuple[str, ...], dockerfile: Path | None, build_args: tuple[str, ...],
          target: str | None, secrets: tuple[str, ...], no_cache: bool, pull: bool, progress: str,
          push: bool, outputs: tuple[str, ...], iidfile: Path | None, labels: tuple[str, ...],
          platform: str | None, quiet: bool) -> None:
    """Build an image from a Dockerfile and a context directory."""
    from dockyard.build.executor import Builder
    from dockyard.build.options import BuildOptions, parse_secret
    from dockyard.build.progress import Progress

    if progress == "auto":
        progress = "tty" if sys.stderr.isatty() else "plain"
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    opts = BuildOptions(
        context=context, dockerfile=dockerfile, tags=list(tags), build_args=_kv(build_args),
        target=target, secrets=dict(parse_secret(s) for s in secrets), no_cache=no_cache, pull=pull,
        platform=platform, labels=_kv(labels),
        source_date_epoch=float(epoch) if epoch else None)
    outs = _outputs(outputs)
    result = Builder(progress=Progress("quiet" if quiet else progress)).build(opts)
    if outs or push:
        from dockyard.build.output import export, push_image

        for out in outs:
            export(result, out, tags=list(tags))
        if push:
            for t in tags:
                push_image(t)
    if iidfile:
        iidfile.write_text(str(result.image_id))
    click.echo(str(result.image_id) if quiet else f"Successfully built {result.image_id.short}")
