"""``dockyard run`` without click: the hot path of every container start, parsed by hand.

Importing click costs ~20 ms, more than runc takes to start a container, so ``main`` hands a
``run`` command line here first.  :func:`parse` accepts exactly what click's ``run`` accepts for
the flags in :data:`FLAGS` and gives up (returns None) on anything else — ``--help``, an unknown
flag, a bad ``--runtime`` or ``--pids-limit``, a flag this table does not know yet — so that
click parses it and reports errors in its own words.  :func:`execute` is ``run``'s body, shared
by both paths.  ``tests/cli/test_fastrun.py`` checks the table against click's definition.
"""

from __future__ import annotations

import gc
import os
import sys
import types

from dockyard.base.errors import DockyardError

ENGINE_ERROR = 125

#: long name → (click's parameter name, kind): "flag", "one" (a value) or "many" (repeatable).
FLAGS: dict[str, tuple[str, str]] = {
    "rm": ("auto_remove", "flag"), "detach": ("detach", "flag"),
    "env": ("env", "many"), "env-file": ("env_file", "many"), "volume": ("volumes", "many"),
    "tmpfs": ("tmpfs", "many"), "workdir": ("workdir", "one"), "user": ("user", "one"),
    "name": ("name", "one"), "hostname": ("hostname", "one"), "entrypoint": ("entrypoint", "one"),
    "memory": ("memory", "one"), "cpus": ("cpus", "one"), "pids-limit": ("pids_limit", "one"),
    "network": ("network", "one"), "net": ("network", "one"), "publish": ("publish", "many"),
    "publish-all": ("publish_all", "flag"), "network-alias": ("network_alias", "many"), "ip": ("ip", "one"),
    "dns": ("dns", "many"), "read-only": ("read_only", "flag"), "cap-add": ("cap_add", "many"),
    "cap-drop": ("cap_drop", "many"), "security-opt": ("security_opt", "many"), "runtime": ("runtime", "one"),
    "userns": ("userns", "one"), "pod": ("pod", "one"), "sandbox": ("sandbox", "flag"),
    "label": ("labels", "many"), "interactive": ("interactive", "flag"), "tty": ("tty", "flag"),
}
SHORT = {"d": "detach", "e": "env", "v": "volume", "w": "workdir", "u": "user", "h": "hostname",
         "m": "memory", "p": "publish", "P": "publish-all", "l": "label", "i": "interactive", "t": "tty"}
RUNTIMES = ("dockyard", "runc", "crun")


class _Fallback(Exception):
    """Something this parser does not handle: let click do it."""


class _Kw(dict):
    """click's keyword arguments; a key this table lacks (a flag added to click only) means fall back."""

    def __missing__(self, key: str):
        raise _Fallback(key)


def parse(argv: list[str]) -> tuple[str, list[str], _Kw] | None:
    """``run`` arguments → (image, command, click-style kwargs), or None to let click parse them."""
    from dockyard.engine.network import default_network  # here: it imports pathlib, see _main

    kw = _Kw()
    for name, kind in FLAGS.values():
        kw[name] = False if kind == "flag" else () if kind == "many" else None
    kw["network"] = default_network()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            if arg == "--":
                return None  # rare; click knows what it means here
            return arg, argv[i:], kw
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name not in FLAGS:
                return None
            dest, kind = FLAGS[name]
            if kind == "flag":
                if eq:
                    return None
                kw[dest] = True
                continue
            if not eq:
                if i >= len(argv):
                    return None
                value, i = argv[i], i + 1
            if not _store(kw, dest, kind, value):
                return None
            continue
        # a cluster of short options: flags, then at most one taking a value (the rest or the next arg)
        for j, ch in enumerate(arg[1:], 1):
            if ch not in SHORT:
                return None
            dest, kind = FLAGS[SHORT[ch]]
            if kind == "flag":
                kw[dest] = True
                continue
            value = arg[j + 1:]
            if not value:
                if i >= len(argv):
                    return None
                value, i = argv[i], i + 1
            if not _store(kw, dest, kind, value):
                return None
            break
    return None  # no image: click's usage error


def _store(kw: _Kw, dest: str, kind: str, value: str) -> bool:
    if kind == "many":
        kw[dest] = (*kw[dest], value)
        return True
    if dest == "pids_limit":
        try:
            kw[dest] = int(value.strip().replace("_", ""))
        except ValueError:
            return False
        return True
    if dest == "runtime" and value not in RUNTIMES:
        return False
    kw[dest] = value
    return True


def build_options(image: str, command, kw: dict, *, auto_remove: bool = False):
    """click's (or :func:`parse`'s) keyword arguments → the engine's RunOptions."""
    from dockyard.engine import options as o

    env = [e for f in kw["env_file"] for e in o.read_env_file(f)] + list(kw["env"])
    entry = kw["entrypoint"]
    if entry is not None:
        import shlex

        entry = shlex.split(entry)
    return o.RunOptions(
        image=image, command=list(command) or None, entrypoint=entry,
        name=kw["name"], env=env, volumes=list(kw["volumes"]), tmpfs=list(kw["tmpfs"]), workdir=kw["workdir"],
        user=kw["user"], hostname=kw["hostname"],
        memory=o.parse_size(kw["memory"]) if kw["memory"] else None,
        cpus=o.parse_cpus(kw["cpus"]) if kw["cpus"] else None,
        pids_limit=kw["pids_limit"], network=kw["network"], read_only=kw["read_only"],
        cap_add=list(kw["cap_add"]), cap_drop=list(kw["cap_drop"]), security_opt=list(kw["security_opt"]),
        runtime=kw["runtime"], tty=kw["tty"], interactive=kw["interactive"], auto_remove=auto_remove,
        ports=list(kw["publish"]), publish_all=kw["publish_all"], network_aliases=list(kw["network_alias"]),
        ip=kw["ip"], dns=list(kw["dns"]),
        pod=kw["pod"], userns=kw["userns"], labels=dict(item.partition("=")[::2] for item in kw["labels"]),
    )


def main(argv: list[str]) -> int | None:
    """Run ``dockyard run ARGV`` without click; None when click must handle this command line.

    The cyclic garbage collector is off around the setup and the teardown: they make few cycles,
    yet allocate enough to trigger ~20 collections (~3.5 ms).  :func:`execute` turns it back on
    for as long as the container runs."""
    if not gc.isenabled():
        return _main(argv)
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()  # for a caller in this process (tests); `dockyard run` itself ends in os._exit


def _main(argv: list[str]) -> int | None:
    import_pathlib_without_urllib()
    parsed = parse(argv)
    if parsed is None:
        return None
    image, command, kw = parsed
    from dockyard.base import log

    log.setup_deferred("WARNING")  # the click group's default --log-level, once something logs
    try:
        opts = build_options(image, command, kw, auto_remove=kw["auto_remove"])
        sandbox = kw["sandbox"]
    except _Fallback:
        return None
    except DockyardError as e:
        raise fail(e) from None
    return execute(opts, detach=kw["detach"], sandbox=sandbox, shim=early_shim(kw))


def _quote_from_bytes(*args, **kwargs):
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(*args, **kwargs)


def import_pathlib_without_urllib() -> None:
    """``pathlib`` imports ``urllib.parse`` (and with it ``ipaddress``: ~1.7 ms) for one function,
    used only by ``Path.as_uri``, which ``run`` never calls.  So pathlib gets a stand-in module
    whose ``quote_from_bytes`` imports the real one on first call; nothing else sees the stand-in."""
    if "pathlib" in sys.modules or "urllib.parse" in sys.modules:
        return
    stand_in = types.ModuleType("urllib.parse")
    stand_in.quote_from_bytes = _quote_from_bytes  # type: ignore[attr-defined]
    sys.modules["urllib.parse"] = stand_in
    try:
        import pathlib  # noqa: F401
    finally:
        if sys.modules.get("urllib.parse") is stand_in:
            del sys.modules["urllib.parse"]


def early_shim(kw: dict):
    """Start the new pod's shim now, before importing the engine: Python boots it (~25 ms) on
    the other core meanwhile.  None when this run joins a pod or the runtime is unusable —
    create starts one itself then, or reports the error in its own words."""
    if kw["pod"] is not None:
        return None
    from dockyard.base import paths
    from dockyard.base.ids import new_id
    from dockyard.engine import runtimes
    from dockyard.engine.shimspawn import PendingShim

    try:
        state = paths.ensure_dir(paths.state_dir())
        return PendingShim(state, new_id(), runtimes.argv(kw["runtime"] or runtimes.default_runtime(), state))
    except (DockyardError, OSError):
        return None


def fail(e: DockyardError, default: int = ENGINE_ERROR) -> SystemExit:
    sys.stderr.write(f"Error: {e}\n")
    sys.stderr.flush()
    return SystemExit(getattr(e, "exec_failure", 0) or default)


def execute(opts, *, detach: bool, sandbox: bool, shim=None) -> int:
    """``run``'s body: create, attach, start, stream, remove if ``--rm``; the container's exit code.
    *shim*: a :class:`~dockyard.engine.shimspawn.PendingShim` started early for this container."""
    from dockyard.engine import attach
    from dockyard.engine.engine import Engine

    try:
        try:
            engine = Engine()
        except BaseException:
            if shim is not None:
                shim.abandon()
            raise
        rec = engine.create(opts, sandbox=sandbox, shim=shim)  # create owns the shim from here on
    except DockyardError as e:
        raise fail(e) from None
    try:
        if detach:
            engine.start(rec, fresh=True)
            sys.stdout.write(f"{rec.id}\n")
            sys.stdout.flush()
            return 0
        sock = engine.attach_and_start(rec, stdin=opts.interactive)
    except DockyardError as e:
        engine.remove(rec, force=True)
        raise fail(e) from None
    paused = not gc.isenabled()
    if paused:  # main paused it for the setup; a session may last hours: collect meanwhile
        gc.enable()
    code = attach.stream(sock, stdin=opts.interactive, tty=opts.tty, forward=forwarder(engine, rec))
    if paused:
        gc.disable()
    if opts.auto_remove:
        try:
            engine.remove(rec, force=True, exited=code != 255)
        except DockyardError:
            pass  # another engine's sweep got there first
    exit_with(code)
    return code


def forwarder(engine, rec):
    def forward(signum: int) -> None:
        try:
            engine.shim(rec).call("kill", id=rec.id, signal=signum)
        except DockyardError:
            pass

    return forward


def exit_with(code: int) -> None:
    """End ``run``/``start -a``/``exec`` with the container's code.

    As the ``dockyard`` command, skip interpreter teardown: it would checkpoint SQLite's WAL (three
    fsyncs) and unload every module, ~20 ms on the path of each ``dockyard run``.  Everything
    that matters is committed already; the next opener of the database finds the WAL intact.
    """
    if os.path.basename(sys.argv[0]) == "dockyard":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
