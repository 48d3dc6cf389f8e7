"""``dockyard login``: prove the credentials work before saving them, as docker does.

The check pings ``/v2/`` and, for a bearer registry, asks its token service for a token with no
scope: distribution, Docker Hub and our own server all refuse wrong credentials there.
"""

from __future__ import annotations

from dockyard.base.errors import Unauthenticated
from dockyard.registry.client.credentials import Credentials
from dockyard.registry.client.settings import ClientSettings
from dockyard.registry.client.transport import RegistrySession, error_for


async def check_login(domain: str, creds: Credentials, *, settings: ClientSettings) -> None:
    async with RegistrySession(domain, settings=settings, credentials=creds) as reg:
        if reg.auth.challenge is None:
            return  # the registry asks for no credentials at all
        if reg.auth.challenge.scheme == "bearer":
            await reg.auth.header(reg.session, ())
            return
        async with reg.request("GET", "/v2/", scopes=(), replayable=False) as resp:
            if resp.status == 401:
                raise Unauthenticated(f"registry {domain}: incorrect username or password")
            if resp.status != 200:
                raise await error_for(resp, f"login to {domain}", domain=domain)
