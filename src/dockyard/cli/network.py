"""``dockyard network``: create, ls, inspect, rm, connect, disconnect, prune — docker's verbs and output.

A thin shell over :class:`dockyard.net.Net`, opened the way the engine opens it
(:func:`dockyard.engine.network.net`, so ``DOCKYARD_NET_*`` select the same instance), and over
the engine's records to turn container names into the pod ids ``dockyard.net`` knows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import click

from dockyard.base.clock import rfc3339
from dockyard.cli import output


def _engine():
    from dockyard.engine.engine import Engine

    return Engine()


def _net(engine):
    from dockyard.engine import network

    return network.net(engine)


def parse_labels(items: tuple[str, ...]) -> dict[str, str]:
    """``--label KEY=VALUE`` (or ``KEY``, an empty value) items → a dict."""
    return dict(item.partition("=")[::2] for item in items)


@click.group()
def network() -> None:
    """Manage networks: bridges with a subnet, NAT and name resolution between their containers."""


#: ``network create``'s flags and NAME argument, daemonless and remote
create_options = output.options(
    click.option("--subnet", help="Subnet in CIDR form (default: a free /24 from the pool)."),
    click.option("--gateway", help="Gateway address (default: the subnet's first address)."),
    click.option("--internal", is_flag=True, help="No outbound NAT: containers reach only each other."),
    click.option("--label", "labels", multiple=True, help="KEY=VALUE metadata."),
    click.option("-d", "--driver", default="bridge", show_default=True, help="Only 'bridge'."),
    click.argument("name"),
)

#: ``network ls``' flags, daemonless and remote
ls_options = output.options(
    click.option("-q", "--quiet", is_flag=True, help="Only ids."),
    click.option("--no-trunc", is_flag=True, help="Do not truncate ids."),
    click.option("-f", "--filter", "filters", multiple=True, help="name=NAME, label=KEY[=VALUE]."),
)


@network.command()
@create_options
def create(name: str, subnet: str | None, gateway: str | None, internal: bool, labels: tuple[str, ...],
           driver: str) -> None:
    """Create a network; prints its id."""
    from dockyard.base.errors import InvalidArgument

    if driver != "bridge":
        raise InvalidArgument(f"--driver {driver!r}: only the bridge driver is supported")
    n = _net(_engine()).create_network(name, subnet=subnet, gateway=gateway, internal=internal,
                                       labels=parse_labels(labels))
    click.echo(n.id)


@network.command("ls")
@ls_options
def ls(quiet: bool, no_trunc: bool, filters: tuple[str, ...]) -> None:
    """List networks."""
    echo_networks(_net(_engine()).networks(), filters, quiet=quiet, no_trunc=no_trunc)


def echo_networks(nets: Iterable[Any], filters: tuple[str, ...], *, quiet: bool, no_trunc: bool) -> None:
    """``network ls``' output of *nets* (with ``id``, ``name``, ``labels``) that pass *filters*, by name;
    the remote ``network ls`` prints the daemon's networks through here too."""
    kept = sorted((n for n in nets if network_matches(n, filters)), key=lambda n: n.name)
    if quiet:
        for n in kept:
            click.echo(n.id if no_trunc else n.id[:12])
        return
    rows = [{"id": n.id if no_trunc else n.id[:12], "name": n.name, "driver": driver_of(n), "scope": "local"}
            for n in kept]
    output.echo_table([("NETWORK ID", "id"), ("NAME", "name"), ("DRIVER", "driver"), ("SCOPE", "scope")], rows)


def driver_of(n: Any) -> str:
    """docker's driver column: the network's own, else ``host``/``null`` for the predefined two."""
    return getattr(n, "driver", None) or {"host": "host", "none": "null"}.get(n.name, "bridge")


def network_matches(n: Any, filters: tuple[str, ...]) -> bool:
    """Whether network *n* (``name``, ``labels``) passes ``--filter name=…`` / ``label=KEY[=VALUE]``."""
    for f in filters:
        key, _, value = f.partition("=")
        if key == "name" and value not in n.name:
            return False
        if key == "label":
            k, sep, v = value.partition("=")
            if k not in n.labels or (sep and n.labels[k] != v):
                return False
    return True


def doc(n, net) -> dict:
    """docker network inspect's JSON for one network."""
    if n.driver != "bridge":  # host, none: no addresses, no bridge
        return {"Name": n.name, "Id": n.id, "Created": rfc3339(n.created, nanos=True), "Scope": "local",
                "Driver": n.driver, "EnableIPv6": False, "IPAM": {"Driver": "default", "Options": None, "Config": []},
                "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
                "ConfigOnly": False, "Containers": {}, "Options": {}, "Labels": {}}
    prefix = n.subnet.rpartition("/")[2]
    containers = {}
    for pod_id, ip in n.containers.items():
        box = net.ctx.store.sandbox(pod_id)
        containers[pod_id] = {"Name": box.name if box else "", "EndpointID": "", "MacAddress": "",
                              "IPv4Address": f"{ip}/{prefix}", "IPv6Address": ""}
    return {
        "Name": n.name, "Id": n.id, "Created": rfc3339(n.created, nanos=True), "Scope": "local",
        "Driver": "bridge", "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": n.subnet, "Gateway": n.gateway}]},
        "Internal": n.internal, "Attachable": True, "Ingress": False, "ConfigFrom": {"Network": ""},
        "ConfigOnly": False, "Containers": containers,
        "Options": {"com.docker.network.bridge.name": n.bridge}, "Labels": n.labels,
    }


@network.command()
@click.option("-f", "--format", "fmt", help="Print one {{.Field}} path instead (e.g. {{.IPAM.Config}}).")
@click.argument("networks", nargs=-1, required=True)
def inspect(networks: tuple[str, ...], fmt: str | None) -> None:
    """Show networks as JSON."""
    from dockyard.cli.inspectfmt import echo_docs

    net = _net(_engine())
    echo_docs([doc(net.inspect_network(ref, make=False), net) for ref in networks], fmt)


@network.command("rm")
@click.argument("networks", nargs=-1, required=True)
def rm(networks: tuple[str, ...]) -> None:
    """Remove networks (refused while containers use them)."""
    output.echo_each(networks, _net(_engine()).remove_network)


def _container(engine, ref: str):
    from dockyard.base.errors import FailedPrecondition
    from dockyard.engine import network as glue

    rec = engine.get(ref)
    if not glue.uses_net(rec.options):
        raise FailedPrecondition(f'container "{rec.name}": its network is {rec.options.network!r}; only '
                                 "containers on bridge or a user network can be connected")
    return rec


@network.command()
@click.option("--alias", "aliases", multiple=True, help="Another name for the container on this network.")
@click.option("--ip", help="The container's IPv4 address on this network.")
@click.argument("network_name", metavar="NETWORK")
@click.argument("container")
def connect(network_name: str, container: str, aliases: tuple[str, ...], ip: str | None) -> None:
    """Connect a container to a network (another interface in its namespace)."""
    engine = _engine()
    rec = _container(engine, container)
    _net(engine).connect(network_name, rec.id, aliases=aliases, ip=ip)
    _refresh(engine, rec)


@network.command()
@click.option("-f", "--force", is_flag=True, help="Ignored (docker compatibility).")
@click.argument("network_name", metavar="NETWORK")
@click.argument("container")
def disconnect(network_name: str, container: str, force: bool) -> None:
    """Disconnect a container from a network."""
    engine = _engine()
    rec = _container(engine, container)
    _net(engine).disconnect(network_name, rec.id)
    _refresh(engine, rec)


def _refresh(engine, rec) -> None:
    from dockyard.engine import network as glue

    glue.refresh_resolv_conf(engine, rec, rec.id)


@network.command()
@click.option("-f", "--force", is_flag=True, help="Do not prompt for confirmation.")
@click.option("--filter", "filters", multiple=True, help="label=KEY[=VALUE], until=SECONDS.")
def prune(force: bool, filters: tuple[str, ...]) -> None:
    """Remove networks no container uses (bridge, host and none stay)."""
    from dockyard.net.networks import PREDEFINED

    if not force and not click.confirm("WARNING! This will remove all custom networks not used by at least "
                                       "one container.\nAre you sure you want to continue?", default=False):
        return
    until = next((float(f.partition("=")[2]) for f in filters if f.startswith("until=")), None)
    labels = tuple(f for f in filters if f.startswith("label="))
    net = _net(_engine())
    gone = []
    for n in sorted(net.networks(), key=lambda n: n.name):
        if n.name in PREDEFINED or n.containers or not network_matches(n, labels):
            continue
        if until is not None and n.created > time.time() - until:
            continue
        net.remove_network(n.name)
        gone.append(n.name)
    if gone:
        click.echo("Deleted Networks:")
        for name in gone:
            click.echo(name)
