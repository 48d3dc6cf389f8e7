"""The ``dockyard`` click group: global options and lazy subcommands (``main.COMMANDS``).

Kept apart from :mod:`dockyard.cli.main` so that ``dockyard run`` can start a container without
importing click at all (:mod:`dockyard.cli.fastrun`); every other command line comes here.
"""

from __future__ import annotations

import importlib
import os

import click

from dockyard import __version__
from dockyard.cli import output
from dockyard.cli.main import COMMANDS


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("dockyard"):
                raise click.UsageError(f"'{cmd_name}' is not built yet in this version of dockyard") from e
            raise
        return getattr(module, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-v", "--version", prog_name="dockyard")
@click.option("--root", envvar="DOCKYARD_ROOT", help="Data root (default /var/lib/dockyard as root).")
@click.option("--state", envvar="DOCKYARD_STATE", help="State dir for sockets and runtime state.")
@click.option("--log-level", default="warning", show_default=True, help="debug, info, warning or error.")
def cli(root: str | None, state: str | None, log_level: str) -> None:
    """Build, ship and run containers: docker's verbs, no daemon needed."""
    if root:
        os.environ["DOCKYARD_ROOT"] = root
    if state:
        os.environ["DOCKYARD_STATE"] = state
    from dockyard.base import log

    log.setup(log_level.upper())


def main(argv: list[str] | None = None) -> int:
    """Parse *argv* with click and run the command; its exit code."""
    return output.invoke(cli, argv)
