"""The engine: containerd's role — image → snapshot → bundle → container → task, one shim per pod.

Concepts, one module each:

* :mod:`.options` — what a caller asks for (``docker run``'s flags as data).
* :mod:`.spec`, :mod:`.defaults`, :mod:`.seccomp` — the OCI ``config.json``, with Docker's security
  defaults (capabilities, seccomp, masked paths, minimal /dev) and no_new_privs on.
* :mod:`.rootfs` — the image's layers as overlay snapshots plus the container's writable layer.
* :mod:`.store` — container records in SQLite (durable); live state belongs to the shim.
* :mod:`.shim` — the per-pod supervisor process; :mod:`.shimclient` talks to it.
* :mod:`.engine` — :class:`~dockyard.engine.engine.Engine`, the lifecycle tying these together.
* :mod:`.attach`, :mod:`.execs`, :mod:`.logs`, :mod:`.stats`, :mod:`.views`, :mod:`.copy` — the verbs.

Importing this package imports nothing else: the shim imports ``dockyard.engine.shim`` and must
stay small.
"""
