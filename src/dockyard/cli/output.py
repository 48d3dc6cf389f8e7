"""How the CLI prints and fails, shared by the daemonless verbs and their remote twins (cli/remote).

Docker-style tables (columns padded to the widest cell, three spaces apart), ``--format``
templates (``{{.Field}}``, ``table …``, ``json``), "2 hours" ages and ``Up …``/``Exited (0) …``
status text, the ``Error: …`` line with docker's exit codes, the exception-to-exit-code
mapping of a click group, and :func:`options`, which bundles a verb's click flags so that its
remote twin declares the very same ones.  One home for all of them is what keeps ``dockyard ps`` byte-identical
with and without a daemon (tests/cli/test_remote.py compares the two).

``fail``/``exit_with`` live in :mod:`dockyard.cli.fastrun`, which must stay click-free for the
start-up time of ``dockyard run``; they are re-exported here so that every other module has one
place to import them from.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from dockyard.base.errors import DockyardError
from dockyard.cli.fastrun import ENGINE_ERROR, exit_with, fail

__all__ = ["CONTEXT", "ENGINE_ERROR", "age", "echo_each", "echo_rows", "echo_table", "exit_with", "fail",
           "invoke", "options", "render", "status_text"]

#: click settings of the verbs that take a command line after their arguments (run, create, exec):
#: everything after the image/container is the command's, ``-h`` included.
CONTEXT = {"allow_interspersed_args": False, "help_option_names": ["--help"]}

_FIELD = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")

#: (heading, row key) pairs: a table's columns, left to right
Columns = Sequence[tuple[str, str]]


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator applying click options/arguments *decorators* as if written in this order above
    a command (the first shows first in ``--help``)."""
    def apply(f: Any) -> Any:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


def age(ts: float | None) -> str:
    """How long ago *ts* was, as docker's ``ps`` says it: "3 minutes", "Less than a second"; "" without one."""
    if not ts:
        return ""
    secs = max(0, int(time.time() - ts))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size:
            n = secs // size
            return f"{n} {unit}{'s' if n > 1 else ''}"
    return "Less than a second" if secs < 1 else f"{secs} second{'s' if secs > 1 else ''}"


def status_text(st: Any) -> str:
    """``ps``'s STATUS column from a status with ``status``, ``exit_code``, ``started_at``, ``finished_at``."""
    if st.status == "running":
        return f"Up {age(st.started_at)}"
    if st.status == "exited":
        return f"Exited ({st.exit_code}) {age(st.finished_at)} ago"
    return st.status.capitalize()


def render(fmt: str, row: dict[str, Any]) -> str:
    """*fmt* with every ``{{.Key}}`` replaced by ``row[Key]`` ("" for a key the row lacks)."""
    return _FIELD.sub(lambda m: str(row.get(m.group(1), "")), fmt)


def echo_table(cols: Columns, rows: Sequence[dict[str, Any]]) -> None:
    """Print a heading line and one line per row, each column as wide as its widest cell."""
    widths = [max([len(h)] + [len(str(r[k])) for r in rows]) for h, k in cols]
    line = "   ".join(h.ljust(w) for (h, _), w in zip(cols, widths, strict=True))
    click.echo(line.rstrip())
    for r in rows:
        click.echo("   ".join(str(r[k]).ljust(w) for (_, k), w in zip(cols, widths, strict=True)).rstrip())


def echo_rows(rows: Sequence[dict[str, Any]], cols: Columns, *, fmt: str | None, quiet: bool) -> None:
    """A listing as ``ps`` prints it: ids only (*quiet*), ``--format`` (``json``, a template, ``table``
    + a template for a heading line too), else the *cols* table."""
    if quiet:
        for r in rows:
            click.echo(r["ID"])
        return
    if fmt:
        table = fmt.startswith("table")
        fmt = fmt.removeprefix("table").strip()
        if fmt in ("json", "{{json .}}"):
            for r in rows:
                click.echo(json.dumps(r))
            return
        fmt = fmt.replace("\\t", "\t")
        if table:
            click.echo(render(fmt, {k: k.upper() for k in rows[0]} if rows else {}))
        for r in rows:
            click.echo(render(fmt, r))
        return
    echo_table(cols, rows)


def echo_each(refs: Iterable[str], action: Callable[[str], object]) -> None:
    """``rm``'s loop: *action* on every ref, echoing it; a failure prints ``Error: …`` and the rest
    still run, then the command exits 1."""
    failed = False
    for ref in refs:
        try:
            action(ref)
            click.echo(ref)
        except DockyardError as e:
            click.echo(f"Error: {e}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


def invoke(group: click.Group, argv: list[str] | None, **extra: Any) -> int:
    """Run *group* on *argv* without click's standalone mode; the exit code.

    Our errors print as one ``Error: …`` line with their category's code, click's as click
    shows them; Ctrl-C is 130, a closed pipe 0.  *extra* goes to :meth:`click.Command.main`
    (``obj=`` for the remote group).  Other exceptions propagate."""
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        rv = group.main(args=argv, prog_name="dockyard", standalone_mode=False, **extra)
    except DockyardError as e:
        click.echo(f"Error: {e}", err=True)
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return rv if isinstance(rv, int) else 0
