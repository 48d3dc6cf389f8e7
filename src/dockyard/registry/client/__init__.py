"""The registry client: pull and push images against any OCI distribution registry.

:mod:`.credentials` reads and writes docker's ``config.json``; :mod:`.auth` answers
``WWW-Authenticate`` challenges (basic, bearer tokens); :mod:`.transport` sends requests and turns
HTTP failures into actionable errors; :mod:`.pull` and :mod:`.push` move images between a registry
and the local content store; :mod:`.progress` shows what is happening.

The client uses aiohttp, already the server's library: asyncio gives parallel layer transfers
without threads, and its streaming bodies keep a 1 GB layer at constant memory.
"""
