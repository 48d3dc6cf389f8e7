"""Where a command line goes: to the daemon, or daemonless in this process.

``DOCKYARD_HOST=unix:///path`` names a daemon that must answer (an error otherwise: the user
asked for it); ``DOCKYARD_HOST=local`` forces daemonless; unset, the state dir's
``dockyard.sock`` is used if it exists and accepts a connection.  This runs before every
``dockyard run``: the daemonless path costs one ``stat`` (a few µs) and imports nothing but
:mod:`os` and :mod:`socket`'s C module only when a socket file is there.
"""

from __future__ import annotations

import os

from dockyard.base.errors import Unavailable

LOCAL = "local"
SOCKET_NAME = "dockyard.sock"
#: verbs with a remote version; for ``network`` only these subcommands
VERBS = frozenset({"run", "ps", "logs", "stop", "kill", "rm", "start", "wait", "inspect", "exec", "images",
                   "pull", "tag", "rmi", "network"})
NETWORK_VERBS = frozenset({"ls", "create", "rm"})
#: the click group's global options that take a value (main.py's group: --root, --state, --log-level)
_GLOBAL_VALUE = frozenset({"--root", "--state", "--log-level"})


class DaemonUnreachable(Unavailable):
    """``DOCKYARD_HOST`` names a daemon that does not answer."""

    exit_code = 125  # docker's "the daemon/engine failed" code: the command never ran


def split(args: list[str]) -> tuple[dict[str, str], str | None, list[str]]:
    """Global options, the verb (None when help/version/unknown syntax) and its arguments."""
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name in _GLOBAL_VALUE:
            if not eq:
                if i + 1 >= len(args):
                    return opts, None, []
                value, i = args[i + 1], i + 1
            opts[name] = value
            i += 1
            continue
        if arg.startswith("-"):
            return opts, None, []  # --help, --version, a typo: click answers daemonless
        return opts, arg, args[i + 1:]
    return opts, None, []


def remote_verb(verb: str | None, rest: list[str]) -> bool:
    if verb not in VERBS:
        return False
    if verb == "network":
        sub = next((a for a in rest if not a.startswith("-")), None)
        return sub in NETWORK_VERBS and rest[:1] == [sub]
    return True


def default_socket(state_override: str | None = None) -> str:
    """``$STATE/dockyard.sock``: where ``dockyard serve`` listens by default (dockerapi.config)."""
    state = state_override or os.environ.get("DOCKYARD_STATE")
    if not state and os.geteuid() == 0:
        state = "/run/dockyard"  # paths.state_dir's answer for root, without importing pathlib (~8 ms)
    if not state:
        from dockyard.base import paths

        state = str(paths.state_dir())
    return os.path.join(state, SOCKET_NAME)


def target(environ: dict[str, str] | None = None, *, state: str | None = None) -> str | None:
    """The daemon's socket path, or None for daemonless."""
    host = (os.environ if environ is None else environ).get("DOCKYARD_HOST", "")
    if host == LOCAL:
        return None
    if host:
        if not host.startswith("unix://") or len(host) <= len("unix://"):
            raise DaemonUnreachable(f"DOCKYARD_HOST={host}: expected unix:///path/to/dockyard.sock or 'local'")
        path = host[len("unix://"):]
        if not answers(path):
            raise DaemonUnreachable(f"DOCKYARD_HOST={host}: no daemon answers on {path}; start one with "
                                    f"`dockyard serve --socket {path}`, or set DOCKYARD_HOST=local to run "
                                    "daemonless")
        return path
    path = default_socket(state)
    try:
        os.stat(path)
    except OSError:
        return None  # the hot path: no daemon, nothing more to look at
    return path if answers(path) else None  # a stale socket (daemon killed): daemonless


def answers(path: str) -> bool:
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(2)
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class GoLocal(Exception):
    """Raised by a remote verb, before it has sent anything, for flags it cannot carry (``--pod`` …):
    the command line then runs daemonless against the same data root."""


def dispatch(args: list[str]) -> int | None:
    """Run *args* against the daemon if one is meant to serve them; None to go on daemonless."""
    import sys

    opts, verb, rest = split(args)
    if not remote_verb(verb, rest):
        return None
    try:
        path = target(state=opts.get("--state"))
    except DaemonUnreachable as e:
        sys.stderr.write(f"Error: {e}\n")
        return e.exit_code
    if path is None:
        return None
    from dockyard.cli.remote import group

    return group.main(args, path)
