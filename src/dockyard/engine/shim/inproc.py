"""Running ``dockyard-runc`` in a fork of the shim instead of exec'ing a second interpreter.

When the pod's runtime is our own (``dockyard-runc`` of the shim's installation), each runtime
verb would otherwise cost a fresh Python start plus the runtime's imports (~15 ms, three times
per ``run --rm``: create, start, delete).  The shim imports the runtime's modules once, on the
first call, and then ``fork()``s: the child sets up stdio exactly as ``posix_spawn`` would, runs
the runtime's command-line ``main`` and ``_exit``s with its code.  The child is a separate
process, so the runtime's process-wide changes (namespaces, signals, threads, umask) never touch
the shim, and the container's init is still re-parented to the shim (the subreaper) when the
child exits — the same process tree as with an exec'd runtime.

``start`` (without poststart hooks) and ``delete`` of a container whose init the shim has
already reaped need no process of their own — one opens a fifo, the other removes directories —
so :func:`start_here` and :func:`delete_stopped` do them in the shim.

Other runtimes (runc, crun, or a ``dockyard-runc`` from another installation) are exec'd.
"""

from __future__ import annotations

import _signal  # the C core of `signal`, which imports enum (~3 ms of shim start)
import os
import sys

#: The runtime's modules a create/start/delete needs; imported once into the shim (~1 MB RSS),
#: so that no forked runtime imports them afresh (each fork would pay it again).
_PRELOAD = ("dockyard.runtime.cli", "dockyard.runtime.commands", "dockyard.runtime.container",
            "dockyard.runtime.errors", "dockyard.runtime.devices", "dockyard.runtime.seccomp",
            "resource", "zlib", "encodings.utf_8_sig")
_preloaded = False


def runtime_args(argv: list[str]) -> list[str] | None:
    """The runtime's own arguments when *argv* runs this installation's ``dockyard-runc``, else None."""
    here = os.path.dirname(sys.executable)
    if argv and argv[0] == os.path.join(here, "dockyard-runc"):
        return argv[1:]
    # runtimes.binary's fallback for a source tree: [python, -S, -c, "...dockyard.runtime.cli..."]
    if len(argv) >= 4 and argv[0] == sys.executable and argv[1:3] == ["-S", "-c"] \
            and "dockyard.runtime.cli" in argv[3]:
        return argv[4:]
    return None


def preload() -> None:
    global _preloaded
    if _preloaded:
        return
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    from dockyard.runtime import cgroups, seccomp

    importlib.import_module("dockyard.runtime.cgroups.v2" if cgroups.is_v2() else "dockyard.runtime.cgroups.v1")
    try:
        seccomp.lib()  # the dlopen, once
    except OSError:
        pass  # no libseccomp: the create that needs it reports that
    _preloaded = True


def _root(args: list[str]) -> str | None:
    """The runtime's state root from its global options, None if *args* hold anything else."""
    from dockyard.runtime import cli, commands

    gopts, rest = cli.parse(args, cli.GLOBAL, stop_at_positional=True)
    return None if rest else commands.root_dir(gopts)


def start_here(args: list[str], cid: str) -> bool:
    """``start ID`` done right here when no poststart hook is to run: it only opens the init's
    exec fifo and reads the byte the init writes as it goes on to exec.  False: fork as usual."""
    from dockyard.runtime import container, state

    root = _root(args)
    if root is None:
        return False
    st = state.load(root, cid)
    if st.hooks is None or st.hooks.get("poststart"):
        return False
    container.start(root, cid, st)
    return True


def delete_stopped(args: list[str], cid: str) -> bool:
    """``delete ID`` done right here, without a fork, when the init is already gone (the shim
    reaped it) and no poststop hook is to run: only its cgroups and state dir are left to
    remove.  Nothing is killed or waited for — a wait here could reap the shim's own children.
    False means: fork the runtime as for any other verb."""
    from dockyard.runtime import container, state

    root = _root(args)
    if root is None:
        return False
    st = state.load(root, cid)
    if state.status(root, st) != "stopped" or st.hooks is None or st.hooks.get("poststop"):
        return False
    container.delete(root, cid)
    return True


def spawn(prog: str, args: list[str], fds: tuple[int, int, int]) -> int:
    """Fork a child that runs ``dockyard-runc args`` with *fds* as its stdio; return its pid."""
    preload()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        # Undo the shim's event-loop wiring: its wakeup pipe and SIGCHLD handler are not ours.
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        for i, fd in enumerate(fds):
            if fd != i:
                os.dup2(fd, i)
            else:
                os.set_inheritable(fd, True)
        # An exec'd runtime would see only its stdio (the shim's fds are close-on-exec).
        os.closerange(3, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536)
        # Fresh Python streams on the new fds: whatever the shim left buffered is not ours to write.
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives until _exit
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.argv = [prog, *args]
        _name_self(b"dockyard-runc")
        from dockyard.runtime.cli import main

        code = main(args)
    except BaseException as e:  # never return into the shim's loop
        try:
            os.write(2, f"dockyard-runc: {e}\n".encode(errors="replace"))
        except OSError:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)
    return 0  # unreachable


def _name_self(name: bytes) -> None:
    """``ps``/``top`` show the runtime (and a created container's init) as such, not as a shim."""
    import ctypes  # loaded already: the runtime's libc module uses it

    ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)  # PR_SET_NAME
