"""IPAM: leases are unique, survive a reopen, and two processes never share an address."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from dockyard.base.errors import InvalidArgument, NotFound, ResourceExhausted
from dockyard.net import ipam
from dockyard.net.store import NetworkRow, Store


def _store(path: Path, subnet: str = "10.250.0.0/24") -> Store:
    store = Store(path)
    if store.network("n") is None:
        store.add_network(NetworkRow("n", "id1", subnet, ipam.default_gateway(subnet), "brx"))
    return store


def test_lowest_free_address_skipping_gateway(tmp_path: Path) -> None:
    store = _store(tmp_path / "net.db")
    assert ipam.allocate(store, "n", "a") == "10.250.0.2"
    assert ipam.allocate(store, "n", "b") == "10.250.0.3"
    assert ipam.allocate(store, "n", "a") == "10.250.0.2"  # same owner, same lease
    ipam.release(store, "n", "a")
    assert ipam.allocate(store, "n", "c") == "10.250.0.2"


def test_leases_survive_a_restart(tmp_path: Path) -> None:
    store = _store(tmp_path / "net.db")
    first = [ipam.allocate(store, "n", f"pod{i}") for i in range(5)]
    store.close()
    again = _store(tmp_path / "net.db")
    assert ipam.leases(again, "n") == {a: f"pod{i}" for i, a in enumerate(first)}
    assert ipam.allocate(again, "n", "new") not in first


def test_exhaustion_and_bad_input(tmp_path: Path) -> None:
    store = _store(tmp_path / "net.db", "10.250.1.0/30")
    ipam.allocate(store, "n", "a")  # .1 is the gateway, .2 the only other host
    with pytest.raises(ResourceExhausted, match="no free address"):
        ipam.allocate(store, "n", "b")
    with pytest.raises(NotFound):
        ipam.allocate(store, "missing", "a")
    with pytest.raises(InvalidArgument):
        ipam.parse_subnet("10.0.0.1/24")
    with pytest.raises(InvalidArgument):
        ipam.allocate(store, "n", "c", want="10.9.9.9")


def _grab(path: str, who: str, n: int, out: multiprocessing.Queue) -> None:
    store = Store(Path(path))
    out.put([ipam.allocate(store, "n", f"{who}-{i}") for i in range(n)])


def test_two_processes_never_hand_out_the_same_address(tmp_path: Path) -> None:
    _store(tmp_path / "net.db").close()
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_grab, args=(str(tmp_path / "net.db"), w, 40, q)) for w in "ab"]
    for p in procs:
        p.start()
    got = q.get(timeout=60) + q.get(timeout=60)
    for p in procs:
        p.join(timeout=30)
    assert len(got) == 80
    assert len(set(got)) == 80
