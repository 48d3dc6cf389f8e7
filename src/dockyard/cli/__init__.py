"""The ``dockyard`` command: docker-style verbs over every layer.

Subcommands load lazily (see :mod:`dockyard.cli.main`), so ``dockyard run`` imports the engine but
not the registry, the builder or the cluster.
"""
