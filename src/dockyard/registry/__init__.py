"""The registry layer: an OCI distribution client (pull/push/login) and an embedded registry server.

Both sides store blobs in the engine's content store (:mod:`dockyard.oci.content`), so a blob
pushed to the embedded registry is the very file the engine unpacks and runs from.

* :mod:`dockyard.registry.reference` — image references parsed exactly as docker parses them.
* :mod:`dockyard.registry.client` — auth, transport, pull and push against any v2 registry.
* :mod:`dockyard.registry.server` — the OCI distribution spec v1.1 on ``/v2/`` (aiohttp).
"""
