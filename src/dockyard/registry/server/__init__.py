"""The embedded registry: OCI distribution spec v1.1 served by aiohttp on ``/v2/``.

Blobs live in the engine's content store (one copy per machine); what the registry adds — which
repository links which blob and manifest, tags, referrers, upload sessions — lives in SQLite at
``data_root/registry.db`` (:mod:`.state`).  Entry point: :func:`.app.make_app` / :func:`.app.serve`.
"""
