"""The engine: image → snapshot → bundle → container record → task in the pod's shim.

Daemonless: an :class:`Engine` lives in whichever process needs it (the CLI today, ``dockyard
serve`` later) and keeps nothing in memory that matters.  Durable facts are container records
(:mod:`.store`); live facts (running, pid, exit code) are asked of the pod's shim, which outlives
every engine.  An engine killed at any point leaves either a complete container or a record in
phase ``creating`` whose creator is dead — :meth:`Engine.sweep` removes those, with their mounts,
snapshots, runtime state and shim.
"""

from __future__ import annotations

import os
import signal as signals
import time
from pathlib import Path

from dockyard.base import fsutil, log, paths
from dockyard.base.errors import Conflict, DockyardError, FailedPrecondition, InvalidArgument, Unavailable
from dockyard.base.ids import check_container_name, new_id, random_name
from dockyard.base.record import Mutable
from dockyard.engine import network, rootfs, runtimes, shimclient, userns
from dockyard.engine.options import RunOptions
from dockyard.engine.store import CREATING, READY, REMOVING, ContainerRecord, ContainerStore

_log = log.get("engine")


class Status(Mutable):
    """A container's live state as its shim reports it (docker's words: created/running/exited)."""

    _fields = ("status", "pid", "exit_code", "started_at", "finished_at")
    __slots__ = _fields

    def __init__(self, status: str, pid: int = 0, exit_code: int | None = None, started_at: float | None = None,
                 finished_at: float | None = None) -> None:
        self.status = status
        self.pid = pid
        self.exit_code = exit_code
        self.started_at = started_at
        self.finished_at = finished_at

    @property
    def running(self) -> bool:
        return self.status == "running"


#: The sandbox's process: sleeps until told to stop (pid 1 ignores SIGTERM unless it traps it).
PAUSE = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"

_DOCKER_STATUS = {"created": "created", "running": "running", "stopped": "exited"}


class Engine:
    def __init__(self, *, data_root: Path | None = None, state_dir: Path | None = None) -> None:
        self.data_root = data_root or paths.data_root()
        self.state_dir = state_dir or paths.state_dir()
        paths.ensure_dir(self.data_root)
        paths.ensure_dir(self.state_dir)
        self.store = ContainerStore(self.data_root)
        self._images = None
        self._snapshots = None

    @property
    def images(self):
        if self._images is None:
            from dockyard.oci.images import ImageStore

            self._images = ImageStore(self.data_root)
        return self._images

    @property
    def snapshots(self):
        if self._snapshots is None:
            self._snapshots = rootfs.snapshotter(self.data_root)
        return self._snapshots

    def close(self) -> None:
        self.store.close()
        if self._images is not None:
            self._images.close()
        if self._snapshots is not None:
            self._snapshots.close()

    # ---- paths -----------------------------------------------------------------------------

    def bundle(self, cid: str) -> Path:
        return self.data_root / "containers" / cid

    def log_path(self, cid: str) -> Path:
        return self.bundle(cid) / f"{cid}-json.log"

    def shim(self, rec: ContainerRecord) -> shimclient.ShimClient:
        return shimclient.ShimClient(shimclient.shim_dir(self.state_dir, rec.pod) / "shim.sock")

    # ---- create ----------------------------------------------------------------------------

    def create(self, opts: RunOptions, *, sandbox: bool = False,
               shim: shimclient.PendingShim | None = None) -> ContainerRecord:
        """Create a container.  *shim*: one the caller started early for this new pod (its id
        becomes the container's); used if it fits (no ``--pod``, same runtime), else let go."""
        from dockyard.engine import bundle

        pending = shim
        try:
            opts.validate()
            if sandbox and opts.command is None and opts.entrypoint is None:
                opts.entrypoint, opts.command = ["/bin/sh", "-c", PAUSE], []
            runtime = opts.runtime or runtimes.default_runtime()
            runtime_argv = runtimes.argv(runtime, self.state_dir)
            name = check_container_name(opts.name) if opts.name else random_name()
            if pending is not None and (opts.pod or pending.runtime_argv != runtime_argv):
                pending.abandon()
                pending = None
            cid = pending.pod if pending is not None else new_id()
            pod_rec = self.store.get(opts.pod) if opts.pod else None
            # A new pod: boot its shim right away.  Python needs ~30 ms to start it, time we spend on
            # the image and the rootfs meanwhile.
            if pod_rec is None and pending is None:
                pending = shimclient.PendingShim(self.state_dir, cid, runtime_argv)
            image = self.images.resolve(opts.image)
            manifest, config = self.images.manifest_for(image)
            rec = ContainerRecord(id=cid, name=name, pod=pod_rec.pod if pod_rec else cid, image=opts.image,
                                  image_id=str(image.id), runtime=runtime, options=opts, sandbox=sandbox)
            self.store.insert(rec)
        except BaseException:
            if pending is not None:
                pending.abandon()
            raise
        try:
            join = self._pod_namespaces(pod_rec, opts) if pod_rec else network.setup(self, rec, config)
            id_base = userns.allocate(self.data_root, cid) if self._remapped(opts) else None
            rootfs.prepare(self.snapshots, self.images, manifest, config, cid, self.bundle(cid) / "rootfs",
                           volatile=opts.auto_remove, id_base=id_base)
            bundle.write(self, rec, config, join)
            client, pending = (pending.ready() if pending else self._live_shim(rec, runtime_argv)), None
            self._create_task(client, rec)
            self.store.set_phase(cid, READY)
            rec.phase = READY
        except BaseException:
            if pending is not None:
                pending.abandon()
            self._discard(rec)
            raise
        return rec

    def create_pod(self, name: str, *, image: str = "busybox", hostname: str | None = None,
                   network: str = "none", runtime: str | None = None) -> ContainerRecord:
        """Start a pod sandbox: a pause process holding the network, IPC and UTS namespaces that
        the pod's containers (``RunOptions.pod = name``) join.  Kubernetes' pod, for the node agent."""
        opts = RunOptions(image=image, name=name, hostname=hostname or name, network=network, runtime=runtime,
                          entrypoint=["/bin/sh", "-c", PAUSE], command=[], labels={"io.dockyard.pod": name})
        rec = self.create(opts, sandbox=True)
        try:
            self.start(rec)
        except BaseException:
            self._discard(rec)
            raise
        return rec

    @staticmethod
    def _remapped(opts: RunOptions) -> bool:
        """``--userns private`` as root; a rootless engine always maps (its own uid) anyway."""
        return userns.wanted(opts.userns) and os.geteuid() == 0

    def _pod_namespaces(self, sandbox: ContainerRecord, opts: RunOptions) -> dict[str, str]:
        st = self.status(sandbox)
        if not st.running:
            raise FailedPrecondition(f'pod "{sandbox.name}": its sandbox is {st.status}; start it first')
        kinds = {"network": "net", "ipc": "ipc", "uts": "uts"}
        if opts.share_pid:
            kinds["pid"] = "pid"
        return {k: f"/proc/{st.pid}/ns/{v}" for k, v in kinds.items()}

    def _live_shim(self, rec: ContainerRecord, runtime_argv: list[str]) -> shimclient.ShimClient:
        client = self.shim(rec)
        if not client.alive():
            client = shimclient.spawn(self.state_dir, rec.pod, runtime_argv)
        return client

    def _create_task(self, client: shimclient.ShimClient, rec: ContainerRecord) -> None:
        opts = rec.options
        client.call("create", id=rec.id, bundle=str(self.bundle(rec.id)), log_path=str(self.log_path(rec.id)),
                    terminal=opts.tty, stdin=opts.interactive)
        rows, cols = (opts.console_size or [0, 0]) if opts.tty else (0, 0)
        if rows > 0 and cols > 0:
            # the pty exists from create on: size it before the process can ask (docker's ConsoleSize)
            client.call("resize", id=rec.id, rows=rows, cols=cols)

    def _shim_create(self, rec: ContainerRecord, runtime_argv: list[str]) -> None:
        self._create_task(self._live_shim(rec, runtime_argv), rec)

    # ---- lifecycle ---------------------------------------------------------------------------

    def status(self, rec: ContainerRecord) -> Status:
        if rec.phase == CREATING:
            return Status("creating")
        try:
            state = self.shim(rec).call("state", timeout=10)
        except Unavailable:
            return self._status_from_file(rec)
        info = state["containers"].get(rec.id)
        if info is None:
            return Status("dead")
        return Status(_DOCKER_STATUS.get(info["status"], info["status"]), info.get("pid") or 0,
                      info.get("exit_code"), info.get("started_at"), info.get("finished_at"))

    def _status_from_file(self, rec: ContainerRecord) -> Status:
        """The shim is gone: trust its last word if it saw the container stop, else call it dead."""
        import json

        path = shimclient.shim_dir(self.state_dir, rec.pod) / "state.json"
        try:
            info = json.loads(path.read_text())["containers"][rec.id]
        except (OSError, ValueError, KeyError):
            return Status("dead")
        if info["status"] == "stopped":
            return Status("exited", info.get("pid") or 0, info.get("exit_code"),
                          info.get("started_at"), info.get("finished_at"))
        return Status("dead", info.get("pid") or 0)

    def ensure_created(self, rec: ContainerRecord) -> Status:
        """Give a stopped container a fresh task (created, not started) so it can be attached first."""
        st = self.status(rec)
        if st.status not in ("exited", "dead"):
            return st
        if st.status == "dead":  # its shim died: clear what the runtime still holds for it
            self._runtime_delete(rec)
        # after a reboot the mount is gone while the snapshot (and its upper dir) remain
        rootfs.ensure_mounted(self.snapshots, rec.id, self.bundle(rec.id) / "rootfs",
                              id_base=userns.lookup(self.data_root, rec.id) if self._remapped(rec.options) else None)
        self._shim_create(rec, runtimes.argv(rec.runtime, self.state_dir))
        self.store.bump_restarts(rec.id)
        return Status("created")

    def start(self, rec: ContainerRecord, *, fresh: bool = False) -> None:
        """Start *rec*; *fresh*: the caller has just created it (its task exists, unstarted), so
        there is no state to ask the shim for first."""
        if fresh:
            self.shim(rec).call("start", id=rec.id)
            return
        st = self.ensure_created(rec)
        if st.status == "running":
            return
        if st.status != "created":
            raise FailedPrecondition(f'cannot start container "{rec.name}": it is {st.status}')
        self.shim(rec).call("start", id=rec.id)

    def attach_and_start(self, rec: ContainerRecord, *, stdin: bool = False):
        """Attach to *rec*, just created, and start it: one request to its shim, which starts it
        once attached so that none of its output is missed.  The attached socket, for
        :func:`dockyard.engine.attach.stream`."""
        client = self.shim(rec)
        sock, reply = client.request("attach", id=rec.id, stdin=stdin, start=True, timeout=None)
        if not reply.get("started"):  # a shim from before the flag attached only
            try:
                client.call("start", id=rec.id)
            except BaseException:
                sock.close()
                raise
        return sock

    def kill(self, rec: ContainerRecord, signal: int = signals.SIGKILL) -> None:
        st = self.status(rec)
        if not st.running:
            raise Conflict(f'cannot kill container "{rec.name}": it is not running ({st.status})')
        self.shim(rec).call("kill", id=rec.id, signal=int(signal))

    def wait(self, rec: ContainerRecord, timeout: float | None = None) -> int:
        return self.shim(rec).wait(rec.id, timeout=timeout)

    def stop(self, rec: ContainerRecord, timeout: float = 10.0) -> None:
        if not self.status(rec).running:
            return
        client = self.shim(rec)
        try:
            client.call("kill", id=rec.id, signal=int(self._stop_signal(rec)))
            client.wait(rec.id, timeout=timeout)
            return
        except TimeoutError:
            pass
        except DockyardError as e:
            if not self.status(rec).running:
                return
            _log.debug("stop %s: %s; killing", rec.name, e)
        client.call("kill", id=rec.id, signal=int(signals.SIGKILL))
        client.wait(rec.id, timeout=30)

    def _stop_signal(self, rec: ContainerRecord) -> int:
        try:
            _, config = self.images.manifest_for(self.images.resolve(rec.image_id))
            name = (config.get("config") or {}).get("StopSignal")
        except DockyardError:
            name = None
        if name:
            name = str(name).upper()
            if name.isdigit():
                return int(name)
            sig = getattr(signals, name if name.startswith("SIG") else f"SIG{name}", None)
            if sig is not None:
                return int(sig)
        return int(signals.SIGTERM)

    def restart(self, rec: ContainerRecord, timeout: float = 10.0) -> None:
        self.stop(rec, timeout)
        self.start(rec)

    def rename(self, rec: ContainerRecord, new_name: str) -> None:
        self.store.rename(rec.id, check_container_name(new_name))

    def remove(self, rec: ContainerRecord, *, force: bool = False, exited: bool = False) -> None:
        """Remove a container; a pod sandbox only when it has no members, or with *force* (members too).

        *exited*: the caller saw the container's exit (``run --rm``), so its rootfs is released
        while the shim deletes the task, rather than after."""
        members = [r for r in self.store.in_pod(rec.pod) if r.id != rec.id] if rec.sandbox else []
        if members and not force:
            raise Conflict(f'cannot remove pod sandbox "{rec.name}": containers '
                           f'{", ".join(r.name for r in members)} still use it; remove them or use rm -f')
        if not force:  # with force nothing the shim could say stops the removal: don't ask
            st = self.status(rec)
            if st.status in ("running", "dead") and st.pid:
                raise Conflict(f'cannot remove container "{rec.name}": it is {st.status}; '
                               "stop it first or use rm -f")
        for member in members:
            self._discard(member)
        self._discard(rec, exited=exited and not members)

    def _discard(self, rec: ContainerRecord, *, exited: bool = False) -> None:
        """Remove every trace of *rec*; each step tolerates what earlier failures left.

        With *exited* (no process of it can still use its rootfs: its init is gone, and with it
        its pid namespace) the rootfs is unmounted and its snapshot dropped while the shim runs
        the runtime's delete — the two touch nothing in common (the engine's bundles carry no
        OCI hooks that could look into the rootfs; config.json stays until the delete is done)."""
        self.store.set_phase(rec.id, REMOVING)  # an engine killed from here on leaves it to sweep()
        client, released = self.shim(rec), False
        try:
            sock = client.send("delete", id=rec.id, force=True, timeout=30)
        except DockyardError as e:
            _log.debug("shim delete %s: %s", rec.id, e)
            self._runtime_delete(rec)
        else:
            try:
                if exited:
                    rootfs.release(self.snapshots, rec.id, self.bundle(rec.id) / "rootfs")
                    released = True
                try:
                    client.reply(sock)
                except DockyardError as e:
                    _log.debug("shim delete %s: %s", rec.id, e)
                    self._runtime_delete(rec)
            finally:
                sock.close()
        pod = self.store.in_pod(rec.pod)
        if all(r.id == rec.id for r in pod):
            self._drop_shim_dir(rec)
        network.release(self, rec)
        if not released:
            rootfs.release(self.snapshots, rec.id, self.bundle(rec.id) / "rootfs")
        userns.release(self.data_root, rec.id)
        fsutil.rmtree(self.bundle(rec.id), ignore_errors=True)
        self.store.delete(rec.id)

    def _runtime_delete(self, rec: ContainerRecord) -> None:
        import subprocess

        try:
            argv = runtimes.argv(rec.runtime, self.state_dir)
        except DockyardError:
            return
        subprocess.run([*argv, "delete", "--force", rec.id], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)

    def _drop_shim_dir(self, rec: ContainerRecord) -> None:
        workdir = shimclient.shim_dir(self.state_dir, rec.pod)
        pid_file = workdir / "shim.pid"
        try:
            pid = int(pid_file.read_text())
            if _is_shim(pid):
                os.kill(pid, signals.SIGKILL)
        except (OSError, ValueError):
            pass
        fsutil.rmtree(workdir, ignore_errors=True)

    # ---- listing, sweeping -----------------------------------------------------------------

    def get(self, ref: str) -> ContainerRecord:
        return self.store.get(ref)

    def list(self, *, include_sandboxes: bool = True) -> list[ContainerRecord]:
        self.sweep()
        return self.store.list(include_sandboxes=include_sandboxes)

    def sweep(self) -> list[str]:
        """Remove containers whose create was interrupted (creator dead, phase still creating), and
        ``--rm`` containers that exited with no CLI attached to remove them (``run -d --rm``)."""
        swept = []
        for rec in self.store.list(include_sandboxes=True):
            if (rec.phase == CREATING and not _alive(rec.creator_pid)) or rec.phase == REMOVING:
                _log.info("sweeping interrupted create or removal of %s", rec.name)
            elif not (rec.options.auto_remove and self.status(rec).status in ("exited", "dead")):
                continue
            self._discard(rec)
            swept.append(rec.id)
        network.reconcile(self)
        return swept

    def write_etc(self, rec: ContainerRecord) -> dict[str, str]:
        """/etc/hostname, /etc/hosts and /etc/resolv.conf for the container, bind-mounted in."""
        opts = rec.options
        host = opts.network == "host"
        hostname = os.uname().nodename if host else (opts.hostname or rec.id[:12])
        files = {
            "hostname": f"{hostname}\n",
            "hosts": _read("/etc/hosts") if host else
                     f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n",
            "resolv.conf": _read("/etc/resolv.conf") if host else "",
        }
        files.update(network.etc_files(self, rec, hostname))
        out = {}
        for fname, text in files.items():
            # Plain writes: these files are regenerated from the record whenever they are needed,
            # and an fsync each would cost more than starting the container.
            path = self.bundle(rec.id) / fname
            path.write_text(text)
            out[f"/etc/{fname}"] = str(path)
        return out


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_shim(pid: int) -> bool:
    try:
        return b"dockyard.engine.shim" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def parse_signal(text: str | int) -> int:
    if isinstance(text, int) or str(text).isdigit():
        return int(text)
    name = str(text).upper()
    sig = getattr(signals, name if name.startswith("SIG") else f"SIG{name}", None)
    if not isinstance(sig, signals.Signals):
        raise InvalidArgument(f"signal {text!r}: unknown; use a name like TERM or a number")
    return int(sig)


def now() -> float:
    return time.time()
