"""The click group of the remote verbs: the daemonless group's global options, remote commands.

:func:`main` mirrors :func:`dockyard.cli.group.main` (same error lines, same exit codes) and
returns None when a verb raised :class:`~.discovery.GoLocal`, so ``cli.main`` runs the command
line daemonless instead.
"""

from __future__ import annotations

import importlib

import click

from dockyard.base.errors import DockyardError
from dockyard.cli import group as local
from dockyard.cli.remote.discovery import GoLocal
from dockyard.cli.remote.transport import Client

#: verb → "module:attribute" under dockyard.cli.remote (discovery.VERBS lists the same verbs)
COMMANDS = {
    "run": "run:run", "ps": "containers:ps", "logs": "containers:logs", "stop": "containers:stop",
    "kill": "containers:kill", "rm": "containers:rm", "start": "containers:start", "wait": "containers:wait",
    "inspect": "containers:inspect", "exec": "containers:exec_", "images": "images:images",
    "pull": "images:pull", "tag": "images:tag", "rmi": "images:rmi", "network": "networks:network",
}


class RemoteGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(f"dockyard.cli.remote.{module_name}"), attr)


cli = RemoteGroup("dockyard", params=local.cli.params, callback=local.cli.callback,
                  context_settings=local.cli.context_settings, help=local.cli.help)


def main(argv: list[str], socket_path: str) -> int | None:
    """Run *argv* against the daemon on *socket_path*; its exit code, or None to go daemonless."""
    try:
        rv = cli.main(args=argv, prog_name="dockyard", standalone_mode=False, obj=Client(socket_path))
    except GoLocal:
        return None
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
