"""User-defined networks: create, ls, inspect, rm, and the rules each one gets."""

from __future__ import annotations

import ipaddress

import pytest

from dockyard.base.errors import AlreadyExists, Conflict, InvalidArgument, NotFound, PermissionDenied
from dockyard.net import bridge, nat

pytestmark = pytest.mark.privileged


def test_create_inspect_ls_rm(net) -> None:
    n = net.create_network("front", labels={"app": "shop"})
    assert ipaddress.IPv4Network(n.subnet).prefixlen == 24
    assert n.gateway == str(next(ipaddress.IPv4Network(n.subnet).hosts()))
    assert bridge.link_exists(n.bridge)
    assert net.inspect_network(n.id[:12]).name == "front"  # by id prefix too
    assert {x.name for x in net.networks()} == {"bridge", "host", "none", "front"}
    assert f"ip saddr {n.subnet}" in nat.rules(net.config.instance)
    net.remove_network("front")
    assert not bridge.link_exists(n.bridge)
    assert f"ip saddr {n.subnet}" not in nat.rules(net.config.instance)
    with pytest.raises(NotFound, match="front"):
        net.inspect_network("front")


def test_conflicts_and_bad_input(net) -> None:
    default = net.inspect_network("bridge")
    with pytest.raises(AlreadyExists):
        net.create_network("bridge")
    with pytest.raises(Conflict, match="overlaps network 'bridge'"):
        net.create_network("dup", subnet=default.subnet)
    with pytest.raises(InvalidArgument):
        net.create_network("host")
    with pytest.raises(InvalidArgument):
        net.create_network("bad", subnet="10.1.2.3/24")
    net.create_network("busy")
    net.attach("a" * 64, network="busy")
    with pytest.raises(Conflict, match="active endpoints"):
        net.remove_network("busy")
    for name in ("bridge", "host", "none", default.id[:12]):
        with pytest.raises(PermissionDenied, match="pre-defined network and cannot be removed"):
            net.remove_network(name)


def test_predefined_networks_listed_without_making_the_bridge(make_net) -> None:
    net = make_net()  # a fresh root: nothing used yet
    rows = {n.name: n for n in net.networks()}
    assert {name: n.driver for name, n in rows.items()} == {"bridge": "bridge", "host": "host", "none": "null"}
    assert not bridge.link_exists(net.config.default_bridge)  # listing is not a first use
    assert {n.id for n in net.networks()} == {n.id for n in rows.values()}  # stable
    assert all(len(n.id) == 64 for n in rows.values())
    assert net.inspect_network("host") == rows["host"] and net.inspect_network(rows["none"].id[:12]).name == "none"
    assert not bridge.link_exists(net.config.default_bridge)
    planned = net.inspect_network("bridge", make=False)  # `network inspect`: shown, not made
    assert planned.id == rows["bridge"].id and planned.subnet == net.config.default_subnet
    assert not bridge.link_exists(net.config.default_bridge)
    made = net.inspect_network("bridge")  # the first use makes it, under the id already listed
    assert (made.id, made.subnet) == (planned.id, planned.subnet) and bridge.link_exists(made.bridge)
    assert [n.name for n in net.networks()].count("bridge") == 1


def test_internal_network_is_not_masqueraded(net) -> None:
    n = net.create_network("private", internal=True)
    rules = nat.rules(net.config.instance)
    assert f'ip saddr {n.subnet} oifname != "{n.bridge}" masquerade' not in rules
    assert f'iifname "{n.bridge}" oifname != "{n.bridge}" drop' in rules


def test_forwarding_is_on_once_a_bridge_exists(net) -> None:
    assert bridge.FORWARD.read_text().strip() == "1"


def test_a_second_data_root_on_the_same_subnet_is_told_what_to_change(net, tmp_path) -> None:
    from dockyard.net import Net, NetConfig

    taken = net.inspect_network("bridge").subnet
    other = Net(NetConfig(data_root=tmp_path / "root2", state_dir=tmp_path / "state2",
                          instance=net.config.instance + "b", default_subnet=taken,
                          default_bridge=net.config.instance + "b"))
    try:
        with pytest.raises(Conflict, match=r"another dockyard data root or instance; .*DOCKYARD_NET_INSTANCE"):
            other.inspect_network("bridge")
        assert not bridge.link_exists(net.config.instance + "b")  # nothing made
    finally:
        other.purge()
        other.close()
