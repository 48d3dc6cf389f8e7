"""``dockyard-runc``: runc's command line, parsed by hand because argparse alone costs more to
import than runc takes to start a container.

Flags may come before or after the container id (``--flag value`` or ``--flag=value``), as
urfave/cli accepts them for runc.  Errors print one line on stderr and exit 1; with ``--log`` they
are also appended to the log file, as JSON records when ``--log-format json`` (what containerd
and our engine read back).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

USAGE = """usage: dockyard-runc [--root DIR] [--log FILE] [--log-format text|json] COMMAND [options] [ID]
commands: create start state kill delete run exec ps list spec features"""

# command → {flag: takes_value}; short aliases map to long names.
FLAGS: dict[str, dict[str, bool]] = {
    "create": {"bundle": True, "pid-file": True, "console-socket": True, "no-pivot": False,
               "no-new-keyring": False, "preserve-fds": True},
    "run": {"bundle": True, "pid-file": True, "console-socket": True, "no-pivot": False, "detach": False,
            "no-new-keyring": False, "preserve-fds": True, "keep": False},
    "start": {}, "state": {}, "kill": {"all": False}, "delete": {"force": False},
    "exec": {"process": True, "console-socket": True, "pid-file": True, "detach": False, "tty": False,
             "cwd": True, "env": True, "user": True, "cap": True, "no-new-privs": False,
             "additional-gids": True, "preserve-fds": True},
    "ps": {"format": True}, "list": {"format": True, "quiet": False}, "spec": {"bundle": True, "rootless": False},
    "features": {},
}
SHORT = {"b": "bundle", "d": "detach", "f": "force", "a": "all", "p": "process", "t": "tty", "e": "env",
         "u": "user", "c": "cap", "q": "quiet", "g": "additional-gids"}
REPEATED = {"env", "cap", "additional-gids"}
GLOBAL = {"root": True, "log": True, "log-format": True, "debug": False, "systemd-cgroup": False,
          "rootless": True, "criu": True}


class UsageError(Exception):
    pass


def parse(argv: list[str], table: dict[str, bool], *, stop_at_positional: bool = False
          ) -> tuple[dict[str, Any], list[str]]:
    opts: dict[str, Any] = {}
    pos: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            pos += argv[i:]
            break
        if arg.startswith("-") and len(arg) > 1 and not (stop_at_positional and pos):
            name, eq, value = arg.lstrip("-").partition("=")
            name = SHORT.get(name, name) if not arg.startswith("--") else name
            if name in ("h", "help"):
                raise UsageError(USAGE)
            if name not in table:
                raise UsageError(f"flag provided but not defined: {arg}")
            if table[name] and not eq:
                if i >= len(argv):
                    raise UsageError(f"flag needs an argument: {arg}")
                value, i = argv[i], i + 1
            val: Any = value if table[name] else value.lower() not in ("false", "0") if eq else True
            if name in REPEATED:
                opts.setdefault(name, []).append(val)
            else:
                opts[name] = val
        else:
            pos.append(arg)
            if stop_at_positional and len(pos) == 1 and table is GLOBAL:
                pos += argv[i:]
                break
    return opts, pos


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    gopts: dict[str, Any] = {}
    try:
        gopts, rest = parse(argv, GLOBAL, stop_at_positional=True)
        if not rest:
            raise UsageError(USAGE)
        cmd, args = rest[0], rest[1:]
        if cmd not in FLAGS:
            raise UsageError(f"unknown command {cmd!r}\n{USAGE}")
        opts, pos = parse(args, FLAGS[cmd], stop_at_positional=cmd == "exec")
        from dockyard.runtime import commands

        return _exit(getattr(commands, "cmd_" + cmd.replace("-", "_"))(gopts, opts, pos))
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2 if str(e) != USAGE else 0
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if os.environ.get("DOCKYARD_RUNC_DEBUG"):
            raise
        _report(gopts, e)
        return 1


def _exit(code: int) -> int:
    """Skip interpreter teardown (~9 ms of module cleanup) once the work is done."""
    if __name__ == "__main__" or (sys.argv and sys.argv[0].endswith("dockyard-runc")):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _report(gopts: dict[str, Any], err: Exception) -> None:
    from dockyard.runtime.errors import describe

    msg = describe(err)
    sys.stderr.write(f"dockyard-runc: {msg}\n")
    if gopts.get("log"):
        try:
            with open(gopts["log"], "a") as f:
                if gopts.get("log-format") == "json":
                    from dockyard.runtime.jsonlite import dumps
                    from dockyard.runtime.state import now_rfc3339

                    f.write(dumps({"level": "error", "msg": msg, "time": now_rfc3339()}) + "\n")
                else:
                    f.write(f"level=error msg={msg!r}\n")
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
