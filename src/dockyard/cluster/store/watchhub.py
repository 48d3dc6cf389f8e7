"""The watch cache: recent events kept in memory and fanned out to every watcher.

A backend publishes each committed change here in revision order.  A watcher from revision R gets
the cached events after R, then live ones; when R is older than the cache's window, the backend's
own history fills the gap (SQLite's revision log, etcd's watch) — and when that is compacted too,
:class:`Compacted` tells the client to re-list (``410 Gone``).  Holding events (not objects) keeps
memory proportional to the window, not to the number of objects stored.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from dockyard.cluster.store.store import Event

History = Callable[[str, int, int], Awaitable[list[Event]]]

#: A watcher that falls this far behind is cut off, as the real server does with slow clients.
MAX_PENDING = 100_000


class WatchHub:
    def __init__(self, *, window: int = 10_000) -> None:
        self._events: deque[Event] = deque(maxlen=window)
        self._watchers: set[_Watcher] = set()
        self.last_rev = 0

    def publish(self, event: Event) -> None:
        self._events.append(event)
        self.last_rev = event.rev
        for w in list(self._watchers):
            if event.key.startswith(w.prefix):
                w.queue.put_nowait(event)

    def oldest_cached(self) -> int:
        """Events with rev > this are all in the cache."""
        return self._events[0].rev - 1 if self._events else self.last_rev

    async def watch(self, prefix: str, after_rev: int, history: History) -> AsyncIterator[Event]:
        w = _Watcher(prefix)
        self._watchers.add(w)  # register first so nothing published meanwhile is missed
        try:
            upto = self.last_rev
            if after_rev < self.oldest_cached():
                backlog = await history(prefix, after_rev, self.oldest_cached())
                backlog += [e for e in self._events if e.key.startswith(prefix)]
            else:
                backlog = [e for e in self._events if e.rev > after_rev and e.key.startswith(prefix)]
            sent = after_rev
            for event in backlog:
                if event.rev > sent and event.rev <= upto:
                    sent = event.rev
                    yield event
            while True:
                event = await w.queue.get()
                if event.rev > sent:
                    sent = event.rev
                    yield event
        finally:
            self._watchers.discard(w)


class _Watcher:
    __slots__ = ("prefix", "queue")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.queue: asyncio.Queue[Event] = asyncio.Queue(MAX_PENDING)
