"""The Docker Engine API (dockerd's role) over dockyard's engine, images, builder and networks.

One module per area of the API, each registering its routes on the aiohttp app:

* :mod:`.system` — ``/_ping``, ``/version``, ``/info``, ``/system/df``, API version negotiation;
* :mod:`.containers`, :mod:`.streams` (attach, logs), :mod:`.archive` (``docker cp``), :mod:`.execs`;
* :mod:`.images`, :mod:`.build`, :mod:`.networks`, :mod:`.volumes`, :mod:`.events`;
* :mod:`.errors` — Docker's error body ``{"message": …}`` with the status codes clients expect;
* :mod:`.backend` — the blocking engine behind a thread pool (the engine is synchronous);
* :mod:`.daemon` — the composition root of ``dockyard serve``.

Routes answer with and without a ``/vX.Y`` prefix (:mod:`.routing`).
"""
