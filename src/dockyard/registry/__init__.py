"""The registry layer: an OCI distribution client (pull/push/login) and an embedded registry server.

Both sides store blobs in the engine's content store (:mod:`dockyard.oci.content`), so a blob
pushed to the embedded registry is the very file the engine unpacks and runs from.

* image references are parsed by :mod:`dockyard.oci.names` (docker's grammar), shared with the engine.
* :mod:`dockyard.registry.client` — auth, transport, pull and push against any v2 registry.
* :mod:`dockyard.registry.server` — the OCI distribution spec v1.1 on ``/v2/`` (aiohttp).
"""
