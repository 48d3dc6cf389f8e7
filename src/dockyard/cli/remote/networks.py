"""``dockyard network ls|create|rm`` against the daemon, printing as the daemonless verbs do.

The daemon lists docker's pre-defined ``host`` and ``none`` too; the daemonless ``ls`` shows the
networks :mod:`dockyard.net` manages, so those two are left out here.
"""

from __future__ import annotations

from typing import Any

import click

from dockyard.base.errors import DockyardError, InvalidArgument
from dockyard.cli import network as local
from dockyard.cli.remote.transport import Client, seg

_PREDEFINED = ("host", "none")


@click.group()
def network() -> None:
    """Manage networks: bridges with a subnet, NAT and name resolution between their containers."""


@network.command()
@click.option("--subnet", help="Subnet in CIDR form (default: a free /24 from the pool).")
@click.option("--gateway", help="Gateway address (default: the subnet's first address).")
@click.option("--internal", is_flag=True, help="No outbound NAT: containers reach only each other.")
@click.option("--label", "labels", multiple=True, help="KEY=VALUE metadata.")
@click.option("-d", "--driver", default="bridge", show_default=True, help="Only 'bridge'.")
@click.argument("name")
@click.pass_obj
def create(client: Client, name: str, subnet: str | None, gateway: str | None, internal: bool,
           labels: tuple[str, ...], driver: str) -> None:
    """Create a network; prints its id."""
    if driver != "bridge":
        raise InvalidArgument(f"--driver {driver!r}: only the bridge driver is supported")
    ipam = {k: v for k, v in (("Subnet", subnet), ("Gateway", gateway)) if v}
    body: dict[str, Any] = {"Name": name, "Driver": "bridge", "Internal": internal,
                            "Labels": local._labels(labels), "IPAM": {"Config": [ipam]}}
    click.echo(client.post("/networks/create", body)["Id"])


@network.command("ls")
@click.option("-q", "--quiet", is_flag=True, help="Only ids.")
@click.option("--no-trunc", is_flag=True, help="Do not truncate ids.")
@click.option("-f", "--filter", "filters", multiple=True, help="name=NAME, label=KEY[=VALUE].")
@click.pass_obj
def ls(client: Client, quiet: bool, no_trunc: bool, filters: tuple[str, ...]) -> None:
    """List networks."""
    class View:  # the attributes cli.network._matches reads
        def __init__(self, doc: dict[str, Any]) -> None:
            self.id, self.name, self.labels = doc["Id"], doc["Name"], doc.get("Labels") or {}

    nets = [View(d) for d in client.get("/networks") if not (d["Name"] in _PREDEFINED and d["Id"] == d["Name"])]
    nets = [n for n in nets if local._matches(n, filters)]
    nets.sort(key=lambda n: n.name)
    if quiet:
        for n in nets:
            click.echo(n.id if no_trunc else n.id[:12])
        return
    rows = [(n.id if no_trunc else n.id[:12], n.name, "bridge", "local") for n in nets]
    head = ("NETWORK ID", "NAME", "DRIVER", "SCOPE")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    for r in [head, *rows]:
        click.echo("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


@network.command("rm")
@click.argument("networks", nargs=-1, required=True)
@click.pass_obj
def rm(client: Client, networks: tuple[str, ...]) -> None:
    """Remove networks (refused while containers use them)."""
    failed = False
    for ref in networks:
        try:
            client.delete(f"/networks/{seg(ref)}")
            click.echo(ref)
        except DockyardError as e:
            click.echo(f"Error: {e}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)
