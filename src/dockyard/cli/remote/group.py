"""The click group of the remote verbs: the daemonless group's global options, remote commands.

:func:`main` runs it as :func:`dockyard.cli.group.main` does (:func:`dockyard.cli.output.invoke`) and
returns None when a verb raised :class:`~.discovery.GoLocal`, so ``cli.main`` runs the command
line daemonless instead.
"""

from __future__ import annotations

import importlib

import click

from dockyard.cli import group as local
from dockyard.cli import output
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
        return output.invoke(cli, argv, obj=Client(socket_path))
    except GoLocal:
        return None
