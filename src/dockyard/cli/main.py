"""Entry point of the ``dockyard`` command.

Every subcommand lives in its own module and is imported only when invoked: the CLI is on the hot
path of ``dockyard run``, and importing every layer would cost more than starting a container.
Layers add their verbs to ``COMMANDS`` (name → ``module:attribute`` of a click command).
The click group itself is in :mod:`dockyard.cli.group`; ``run`` goes to :mod:`dockyard.cli.fastrun`
first, which gives it back to click for anything it does not parse itself.
"""

from __future__ import annotations

import sys

from dockyard.base.errors import DockyardError

COMMANDS: dict[str, str] = {
    # images (oci)
    "image": "dockyard.cli.image:image",
    "images": "dockyard.cli.image:images",
    "tag": "dockyard.cli.image:tag",
    "rmi": "dockyard.cli.image:rmi",
    "save": "dockyard.cli.image:save",
    "load": "dockyard.cli.image:load",
    "history": "dockyard.cli.image:history",
    # registry
    "pull": "dockyard.cli.registry:pull",
    "push": "dockyard.cli.registry:push",
    "login": "dockyard.cli.registry:login",
    "logout": "dockyard.cli.registry:logout",
    "registry": "dockyard.cli.registry:registry",
    # containers (engine)
    "run": "dockyard.cli.container:run",
    "create": "dockyard.cli.container:create",
    "start": "dockyard.cli.container:start",
    "ps": "dockyard.cli.container:ps",
    "logs": "dockyard.cli.container:logs",
    "exec": "dockyard.cli.container:exec_",
    "stop": "dockyard.cli.container:stop",
    "kill": "dockyard.cli.container:kill",
    "rm": "dockyard.cli.container:rm",
    "wait": "dockyard.cli.container:wait",
    "inspect": "dockyard.cli.container:inspect",
    "top": "dockyard.cli.container:top",
    "stats": "dockyard.cli.container:stats",
    "restart": "dockyard.cli.container:restart",
    "rename": "dockyard.cli.container:rename",
    "cp": "dockyard.cli.container:cp",
    "container": "dockyard.cli.container:container",
    "network": "dockyard.cli.network:network",
    # build
    "build": "dockyard.cli.build:build",
    "serve": "dockyard.cli.serve:serve",
    # cluster
    "apiserver": "dockyard.cli.cluster:apiserver",
    "kubeconfig": "dockyard.cli.cluster:kubeconfig",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # A daemon serving this state dir (or DOCKYARD_HOST) gets the command line: cli/remote.
    from dockyard.cli.remote import discovery

    if (rv := discovery.dispatch(args)) is not None:
        return rv
    # `run` is the hot path: parsed by hand, without click's ~20 ms of imports, unless it needs click.
    if args[:1] == ["run"]:
        from dockyard.cli import fastrun

        try:
            rv = fastrun.main(args[1:])
        except DockyardError as e:
            sys.stderr.write(f"Error: {e}\n")
            return e.exit_code
        except (KeyboardInterrupt, EOFError):
            sys.stderr.write("\nAborted.\n")
            return 130
        except BrokenPipeError:
            return 0
        if rv is not None:
            return rv
    from dockyard.cli import group

    return group.main(argv)


def __getattr__(name: str):
    """``cli`` and ``LazyGroup`` live in :mod:`dockyard.cli.group` now (imported on demand: click)."""
    if name in ("cli", "LazyGroup"):
        from dockyard.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
