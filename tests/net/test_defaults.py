"""Which network a container gets when nobody says: docker's answer (``bridge``) on both front doors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.dockerapi import translate
from dockyard.engine.network import default_network


def test_cli_default_is_bridge_as_root_none_rootless_and_the_environment_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKYARD_NETWORK", raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert default_network() == "bridge"
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert default_network() == "none"  # no user-mode network stack (slirp4netns/pasta) rootless
    monkeypatch.setenv("DOCKYARD_NETWORK", "host")
    assert default_network() == "host"


@pytest.mark.parametrize("host_config", [{}, {"NetworkMode": ""}, {"NetworkMode": "default"},
                                         {"NetworkMode": "bridge"}])
def test_docker_api_default_network_mode_is_bridge(host_config: dict, tmp_path: Path) -> None:
    p = translate.plan({"Image": "busybox", "HostConfig": host_config}, name=None, volume_dir=tmp_path)
    assert p.options.network == "bridge"


def test_the_default_bridge_subnet_steps_aside_for_a_foreign_route_only() -> None:
    from dockyard.net.networks import pick_default_subnet

    candidates = ("10.88.0.0/16", "172.18.0.0/16", "172.19.0.0/16")
    assert pick_default_subnet(candidates, []) == "10.88.0.0/16"
    assert pick_default_subnet(candidates, [("10.88.0.0/16", False)]) == "172.18.0.0/16"  # podman's network
    assert pick_default_subnet(candidates, [("10.88.0.0/16", False), ("172.18.0.0/24", False)]) == "172.19.0.0/16"
    # our own bridge there (another data root): stay, and let create() say what to change
    assert pick_default_subnet(candidates, [("10.88.0.0/16", True)]) == "10.88.0.0/16"


@pytest.mark.privileged
def test_host_routes_know_our_bridges(net) -> None:
    from dockyard.net.networks import _host_routes

    subnet = net.inspect_network("bridge").subnet
    assert (subnet, True) in _host_routes()
