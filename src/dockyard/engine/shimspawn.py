"""Starting a pod's shim: a detached ``python -S -m dockyard.engine.shim`` that says ``ok`` when it listens.

Kept apart from :mod:`.shimclient` so that it imports nothing but ``os`` and ``sys``: ``dockyard
run`` spawns the shim before it imports the engine (~20 ms), so that Python boots the shim on
the other core while this process imports, resolves the image and prepares the rootfs.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.engine.shimclient import ShimClient


def shim_dir(state_dir: str | os.PathLike[str], pod: str) -> str:
    """``<state dir>/shims/<pod id[:24]>`` — the prefix keeps socket paths under 108 bytes."""
    return os.path.join(state_dir, "shims", pod[:24])


class PendingShim:
    """A shim that is starting: the engine does other work (the rootfs) while Python boots it."""

    def __init__(self, state_dir: str | os.PathLike[str], pod: str, runtime_argv: list[str]) -> None:
        import dockyard
        from dockyard.runtime import jsonlite

        self.pod = pod
        self.runtime_argv = list(runtime_argv)
        self.workdir = shim_dir(state_dir, pod)
        os.makedirs(self.workdir, mode=0o711, exist_ok=True)
        src = os.path.dirname(os.path.dirname(os.path.realpath(dockyard.__file__)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = src
        r, w = os.pipe()
        # -S: the shim needs nothing from site-packages; skipping site keeps it small and quick.
        # -P: nor the caller's working directory on sys.path (the shim chdirs to / first thing).
        argv = [sys.executable, "-S", "-P", "-m", "dockyard.engine.shim", "--pod", pod, "--dir",
                self.workdir, "--runtime", jsonlite.dumps(self.runtime_argv), "--ready-fd", str(w)]
        # posix_spawn, not subprocess (~2 ms of imports on every `dockyard run`); the write end is
        # made inheritable for the spawn only, and the shim starts a session of its own.
        try:
            os.set_inheritable(w, True)
            self.pid = os.posix_spawn(sys.executable, argv, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
        except BaseException:
            os.close(r)
            raise
        finally:
            os.close(w)
        self._ready: int | None = r

    def _client(self) -> ShimClient:
        from pathlib import Path

        from dockyard.engine.shimclient import ShimClient

        return ShimClient(Path(self.workdir) / "shim.sock")

    def ready(self) -> ShimClient:
        from dockyard.base.errors import Internal

        if self._ready is None:
            raise Internal(f"shim for pod {self.pod}: already collected")
        fd, self._ready = self._ready, None
        try:
            with os.fdopen(fd, "rb") as f:
                line = f.readline().decode(errors="replace").strip()
        finally:
            os.waitpid(self.pid, 0)  # the shim's first process exits once it has forked the shim
        if line != "ok":
            raise Internal(f"shim for pod {self.pod}: failed to start ({line or 'no answer'})")
        return self._client()

    def abandon(self) -> None:
        """The create failed before the shim got work: tell it to go (it would also idle out)."""
        from dockyard.base.errors import DockyardError

        try:
            client = self._client() if self._ready is None else self.ready()
            client.call("shutdown", timeout=10)
        except DockyardError:
            pass


class SpareShim:
    """One shim started ahead of the next new pod, for a long-lived engine (``dockyard serve``).

    Booting a shim's Python takes ~30 ms, most of a short container's create; a daemon can pay
    it between requests instead.  :meth:`take` hands over the spare if it was started for the
    same runtime and is young enough (a shim without a container exits after a minute idle);
    :meth:`refill` starts the next.  Thread-safe: the API's worker threads share one.
    """

    #: older spares are let go: the shim exits 60 s after its start if it never gets a container
    MAX_AGE = 40.0

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        import _thread

        self.state_dir = state_dir
        self._lock = _thread.allocate_lock()
        self._spare: PendingShim | None = None
        self._born = 0.0
        self._closed = False

    def take(self, runtime_argv: list[str]) -> PendingShim | None:
        import time

        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None:
            return None
        # Its directory gone means the state dir was wiped (a reboot's tmpfs, a test): that shim
        # has ended itself, seeing its socket vanish.
        if spare.runtime_argv != list(runtime_argv) or time.monotonic() - self._born > self.MAX_AGE \
                or not os.path.isdir(spare.workdir):
            spare.abandon()
            return None
        return spare

    def refill(self, runtime_argv: list[str]) -> None:
        """Start a spare for *runtime_argv* unless one is waiting already."""
        import time

        from dockyard.base.ids import new_id

        with self._lock:
            if self._spare is not None or self._closed:
                return
            self._spare = PendingShim(self.state_dir, new_id(), runtime_argv)
            self._born = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            spare, self._spare = self._spare, None
        if spare is not None:
            spare.abandon()
