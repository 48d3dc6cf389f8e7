"""The Store conformance suite: every backend must behave as etcd does for what the API server uses."""

from __future__ import annotations

import asyncio

import pytest

from dockyard.cluster.store import Compacted, Event, KeyExists, KeyNotFound, RevisionConflict, Store


def k(store: Store, name: str) -> str:
    return store.prefix + name  # type: ignore[attr-defined]


async def test_create_get_and_revisions_increase(store: Store) -> None:
    a = await store.create(k(store, "a"), b"1")
    b = await store.create(k(store, "b"), b"2")
    assert b.mod_rev > a.mod_rev and a.create_rev == a.mod_rev
    got = await store.get(k(store, "a"))
    assert got is not None and got.value == b"1" and got.mod_rev == a.mod_rev
    assert await store.get(k(store, "missing")) is None
    assert await store.revision() >= b.mod_rev


async def test_create_twice_fails(store: Store) -> None:
    await store.create(k(store, "a"), b"1")
    with pytest.raises(KeyExists):
        await store.create(k(store, "a"), b"2")


async def test_compare_and_swap(store: Store) -> None:
    a = await store.create(k(store, "a"), b"1")
    u = await store.update(k(store, "a"), b"2", expected_rev=a.mod_rev)
    assert u.create_rev == a.create_rev and u.mod_rev > a.mod_rev
    with pytest.raises(RevisionConflict) as err:
        await store.update(k(store, "a"), b"3", expected_rev=a.mod_rev)
    assert err.value.current is not None and err.value.current.value == b"2"
    with pytest.raises(RevisionConflict):
        await store.delete(k(store, "a"), expected_rev=a.mod_rev)
    with pytest.raises(KeyNotFound):
        await store.update(k(store, "nope"), b"x")
    d = await store.delete(k(store, "a"), expected_rev=u.mod_rev)
    assert d.value == b"2" and d.mod_rev > u.mod_rev
    assert await store.get(k(store, "a")) is None
    with pytest.raises(KeyNotFound):
        await store.delete(k(store, "a"))


async def test_two_writers_same_revision_exactly_one_wins(store: Store) -> None:
    a = await store.create(k(store, "a"), b"0")
    results = await asyncio.gather(
        *(store.update(k(store, "a"), str(i).encode(), expected_rev=a.mod_rev) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, RevisionConflict) for r in results if isinstance(r, Exception))


async def test_list_prefix_pagination_and_past_revision(store: Store) -> None:
    for i in range(7):
        await store.create(k(store, f"x/{i}"), str(i).encode())
    await store.create(k(store, "y/0"), b"other")
    items, rev, more = await store.list(k(store, "x/"), limit=3)
    assert [i.value for i in items] == [b"0", b"1", b"2"] and more
    seen = [i.key for i in items]
    await store.update(k(store, "x/5"), b"changed")
    await store.delete(k(store, "x/6"))
    while more:
        items, _, more = await store.list(k(store, "x/"), start_after=seen[-1], limit=3, revision=rev)
        seen += [i.key for i in items]
        assert all(i.value != b"changed" for i in items)  # read at the first page's revision
    assert seen == [k(store, f"x/{i}") for i in range(7)]
    now, _, _ = await store.list(k(store, "x/"))
    assert len(now) == 6 and await store.count(k(store, "x/")) == 6


async def collect(store: Store, prefix: str, after: int, n: int) -> list[Event]:
    out: list[Event] = []

    async def run() -> None:
        async for ev in store.watch(prefix, after_rev=after):
            out.append(ev)
            if len(out) == n:
                return

    await asyncio.wait_for(run(), 10)
    return out


async def test_watch_sees_every_change_in_order(store: Store) -> None:
    start = await store.revision()
    prefix = k(store, "w/")
    watcher = asyncio.create_task(collect(store, prefix, start, 30))
    await asyncio.sleep(0.1)
    for i in range(10):
        await store.create(prefix + str(i), b"v0")
    for i in range(10):
        await store.update(prefix + str(i), b"v1")
    await store.create(k(store, "elsewhere"), b"not watched")
    for i in range(10):
        await store.delete(prefix + str(i))
    events = await watcher
    assert [e.type for e in events] == ["ADDED"] * 10 + ["MODIFIED"] * 10 + ["DELETED"] * 10
    revs = [e.rev for e in events]
    assert revs == sorted(revs) and len(set(revs)) == 30
    assert events[-1].value == b"v1"  # a delete carries the last value


async def test_watch_resumes_from_history_then_compaction_is_gone(store: Store) -> None:
    prefix = k(store, "h/")
    first = await store.create(prefix + "a", b"1")
    for i in range(80):  # more than the SQLite fixture's 50-event cache window
        await store.update(prefix + "a", str(i).encode())
    events = await collect(store, prefix, first.mod_rev, 80)
    assert [e.value for e in events] == [str(i).encode() for i in range(80)]
    await store.compact(first.mod_rev + 40)
    with pytest.raises(Compacted):
        await collect(store, prefix, first.mod_rev, 1)
    with pytest.raises(Compacted):
        await store.list(prefix, revision=first.mod_rev)
    items, _, _ = await store.list(prefix, revision=first.mod_rev + 40)
    assert items[0].value == b"39"  # the 40th update
