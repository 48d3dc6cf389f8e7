"""The shim: one small, synchronous process per pod that outlives the engine and the CLI.

It is started by :mod:`dockyard.engine.shimclient` (``python -m dockyard.engine.shim``), detaches
(new session, double fork), becomes the child subreaper, and from then on is the parent of every
process in its pod.  It drives the OCI runtime through its command line, writes container output
to json-file logs, keeps exit codes and times in ``state.json``, and answers requests on a unix
socket (:mod:`.protocol`).  It imports only ``dockyard.base``, itself and the runtime layer (for
``jsonlite``, and to run ``dockyard-runc`` in a fork of itself: :mod:`.inproc`) so that it stays
small in memory: one runs per pod.
"""
