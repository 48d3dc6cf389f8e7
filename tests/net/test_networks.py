"""User-defined networks: create, ls, inspect, rm, and the rules each one gets."""

from __future__ import annotations

import ipaddress

import pytest

from dockyard.base.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from dockyard.net import bridge, nat

pytestmark = pytest.mark.privileged


def test_create_inspect_ls_rm(net) -> None:
    n = net.create_network("front", labels={"app": "shop"})
    assert ipaddress.IPv4Network(n.subnet).prefixlen == 24
    assert n.gateway == str(next(ipaddress.IPv4Network(n.subnet).hosts()))
    assert bridge.link_exists(n.bridge)
    assert net.inspect_network(n.id[:12]).name == "front"  # by id prefix too
    assert {x.name for x in net.networks()} == {"bridge", "front"}
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
    net.attach("a" * 64)
    with pytest.raises(Conflict, match="active endpoints"):
        net.remove_network("bridge")


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
