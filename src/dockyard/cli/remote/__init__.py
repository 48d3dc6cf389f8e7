"""The CLI as a client of ``dockyard serve``: podman's model, the same verbs with or without a daemon.

:mod:`.discovery` decides, in well under a millisecond and before click is imported, whether a
command line goes to a daemon (``DOCKYARD_HOST=unix://…`` or the state dir's ``dockyard.sock``)
or runs daemonless as before.  The rest is imported only when a daemon answers: :mod:`.transport`
(HTTP over the unix socket, errors back into our categories), :mod:`.streams` (docker's framed
and hijacked streams), :mod:`.containers`, :mod:`.run`, :mod:`.images`, :mod:`.networks` (the
verbs, printing through the daemonless CLI's own formatting functions) and :mod:`.group` (the
click group holding them).  A verb or flag without a remote version runs daemonless against the
same data root: a command is never half remote.
"""
