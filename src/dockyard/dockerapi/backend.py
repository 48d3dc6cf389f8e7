"""The synchronous engine behind the asyncio API: a thread pool, one Engine per worker thread.

The engine, the image store and the builder block (SQLite, the shim's socket, the runtime), so
every call runs in a worker thread.  Each thread keeps its own :class:`Engine` (its own SQLite
connections): a connection shared across threads would serialise every request behind one lock.
Long waits on a container (``wait``, attach streams) do not hold a thread: they talk to the
shim's socket asynchronously (:mod:`.shimio`).

The backend also knows which requests are long-lived streams (:func:`long_lived`: attach, wait,
``logs -f``, events, stats): at shutdown they are ended at once (:meth:`Backend.end_streams`)
rather than counted as requests in flight — they would otherwise hold the daemon for its whole
grace period, e.g. the ``wait`` that ``docker run -d`` leaves behind on a running container.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from dockyard.dockerapi.events import EventBus

T = TypeVar("T")


@dataclass
class Settings:
    data_root: Path
    state_dir: Path
    #: worker threads for blocking calls; `docker stop` holds one for up to its timeout
    threads: int = 16


@dataclass
class Backend:
    settings: Settings
    events: EventBus = field(default_factory=EventBus)

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.settings.threads, thread_name_prefix="engine")
        self._local = threading.local()
        self._engines: list[Any] = []
        self._lock = threading.Lock()
        #: container id → task removing it once it exits (HostConfig.AutoRemove)
        self.reapers: dict[str, asyncio.Task] = {}
        #: container id → event set when the container is removed (wait?condition=removed)
        self.removed: dict[str, asyncio.Event] = {}
        #: container id → (rows, cols) of a resize that came while it was not running (the next start applies it)
        self.console_sizes: dict[str, tuple[int, int]] = {}
        #: exec id → the exec's state (kept in memory, as dockerd does)
        self.execs: dict[str, Any] = {}
        #: request tasks serving long-lived streams; cancelled at shutdown
        self.streams: set[asyncio.Task] = set()
        self.closing = False
        #: a shim booted ahead of the next create (engine.shimspawn.SpareShim), made on first use,
        #: and the runtime argv the last create used (what the next spare is started for)
        self._spare: Any = None
        self._spare_argv: list[str] | None = None

    @property
    def data_root(self) -> Path:
        return self.settings.data_root

    @property
    def state_dir(self) -> Path:
        return self.settings.state_dir

    def engine(self):
        """This thread's engine (call from worker threads only)."""
        eng = getattr(self._local, "engine", None)
        if eng is None:
            from dockyard.engine.engine import Engine

            eng = Engine(data_root=self.data_root, state_dir=self.state_dir)
            self._local.engine = eng
            with self._lock:
                self._engines.append(eng)
        return eng

    def images(self):
        return self.engine().images

    def create(self, engine, opts):
        """``engine.create(opts)`` with the spare shim when it fits (worker threads only).

        The spare's Python booted while the daemon had nothing to do, so this create need not
        wait ~25 ms for a shim; :meth:`refill_spare` starts the next one."""
        from dockyard.base.errors import DockyardError
        from dockyard.engine import runtimes
        from dockyard.engine.shimspawn import SpareShim

        argv = None
        if not opts.pod:
            try:
                argv = runtimes.argv(opts.runtime or runtimes.default_runtime(), self.state_dir)
            except DockyardError:
                pass  # create reports it
        with self._lock:
            if self._spare is None:
                self._spare = SpareShim(self.state_dir)
            spare = self._spare
            if argv is not None:
                self._spare_argv = argv
        return engine.create(opts, shim=spare.take(argv) if argv is not None else None)

    def refill_spare(self) -> None:
        """Start a spare shim for the runtime the last create used (worker threads only).

        Called once a container has exited and been dealt with, not on a request's path:
        posix_spawn holds the GIL until the child has exec'd (a few ms on a busy machine)."""
        argv = self._spare_argv
        if argv is None or self.closing or self._spare is None:
            return
        try:
            self._spare.refill(argv)
        except OSError as e:
            from dockyard.base import log

            log.get("dockerapi").warning("could not start a spare shim: %s", e)

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kw))

    async def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run ``fn(engine, *args)`` in a worker thread with that thread's engine."""
        return await self.run(lambda: fn(self.engine(), *args, **kw))

    @contextlib.contextmanager
    def streaming(self) -> Iterator[None]:
        """Mark the current request as a long-lived stream, which shutdown ends without waiting."""
        task = asyncio.current_task()
        assert task is not None
        if self.closing:
            task.cancel()  # arrived on a kept-alive connection after shutdown began: end it too
        self.streams.add(task)
        try:
            yield
        finally:
            self.streams.discard(task)

    async def end_streams(self, timeout: float = 2.0) -> int:
        """Cancel every long-lived stream (their handlers close the shim and client sides)."""
        self.closing = True
        tasks = [t for t in self.streams if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        return len(tasks)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._spare is not None:
            self._spare.close()
        with self._lock:
            for eng in self._engines:
                try:
                    eng.close()
                except Exception:
                    pass


def long_lived(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
               ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Decorate a handler whose response is a stream that lasts as long as the container/client."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        with request.app[BACKEND].streaming():
            return await handler(request)

    return wrapper


#: where the app keeps its backend (``request.app[BACKEND]``)
BACKEND = web.AppKey("backend", Backend)
