"""``dockyard network ls|create|rm`` against the daemon, printing as the daemonless verbs do.

The daemon lists docker's pre-defined ``host`` and ``none`` too; the daemonless ``ls`` shows the
networks :mod:`dockyard.net` manages, so those two are left out here.
"""

from __future__ import annotations

from typing import Any

import click

from dockyard.base.errors import InvalidArgument
from dockyard.cli import network as local
from dockyard.cli import output
from dockyard.cli.remote.transport import Client, seg

_PREDEFINED = ("host", "none")


@click.group()
def network() -> None:
    """Manage networks: bridges with a subnet, NAT and name resolution between their containers."""


@network.command()
@local.create_options
@click.pass_obj
def create(client: Client, name: str, subnet: str | None, gateway: str | None, internal: bool,
           labels: tuple[str, ...], driver: str) -> None:
    """Create a network; prints its id."""
    if driver != "bridge":
        raise InvalidArgument(f"--driver {driver!r}: only the bridge driver is supported")
    ipam = {k: v for k, v in (("Subnet", subnet), ("Gateway", gateway)) if v}
    body: dict[str, Any] = {"Name": name, "Driver": "bridge", "Internal": internal,
                            "Labels": local.parse_labels(labels), "IPAM": {"Config": [ipam]}}
    click.echo(client.post("/networks/create", body)["Id"])


@network.command("ls")
@local.ls_options
@click.pass_obj
def ls(client: Client, quiet: bool, no_trunc: bool, filters: tuple[str, ...]) -> None:
    """List networks."""
    class View:  # the attributes cli.network.echo_networks reads
        def __init__(self, doc: dict[str, Any]) -> None:
            self.id, self.name, self.labels = doc["Id"], doc["Name"], doc.get("Labels") or {}

    nets = [View(d) for d in client.get("/networks") if not (d["Name"] in _PREDEFINED and d["Id"] == d["Name"])]
    local.echo_networks(nets, filters, quiet=quiet, no_trunc=no_trunc)


@network.command("rm")
@click.argument("networks", nargs=-1, required=True)
@click.pass_obj
def rm(client: Client, networks: tuple[str, ...]) -> None:
    """Remove networks (refused while containers use them)."""
    output.echo_each(networks, lambda ref: client.delete(f"/networks/{seg(ref)}"))
