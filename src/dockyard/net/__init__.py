"""Networking (the CNI + docker-proxy + embedded-DNS roles): netns per pod, bridges, veths, IPAM,
NAT and port publishing with nftables, user-defined networks with name resolution, reconcile.

The seam is :class:`dockyard.net.api.Net` (see docs/net.md)::

    from dockyard.net import Net
    net = Net.open()
    a = net.attach(pod_id, network="bridge", name="web", ports=["8080:80"])
    ...
    net.detach(pod_id)

Names are imported lazily: the helper processes (``python -m dockyard.net.proxy`` / ``.dns``)
start through this package and must not pay for pyroute2.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Attachment", "Net", "NetConfig", "Network", "PortSpec", "parse_port"]

_LAZY = {
    "Net": ("dockyard.net.api", "Net"),
    "NetConfig": ("dockyard.net.config", "NetConfig"),
    "Attachment": ("dockyard.net.pods", "Attachment"),
    "Network": ("dockyard.net.networks", "Network"),
    "PortSpec": ("dockyard.net.ports", "PortSpec"),
    "parse_port": ("dockyard.net.ports", "parse"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dockyard.net' has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    return getattr(importlib.import_module(module), attr)
