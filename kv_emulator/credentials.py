"""Credentials that hand the SDK a bearer token for the emulator, sync and async.

They satisfy azure-core's ``TokenCredential`` / ``AsyncTokenCredential`` protocols. Their tokens are real
JWTs from the emulator's directory, issued to the emulator's own app ("kv-emulator"), so they pass the
vault's checks in strict-auth mode too and name a caller in the audit log.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken

from .clock import wall_time
from .identity.directory import Directory, Principal

__all__ = ["EMULATOR_CLIENT_ID", "AsyncEmulatorCredential", "EmulatorCredential"]

#: The client id of the app the emulator's own credentials act as.
EMULATOR_CLIENT_ID = "4b7e0001-0000-4000-8000-6b76656d7531"


class EmulatorCredential:
    """A sync ``TokenCredential`` for the emulator's tenant."""

    def __init__(self, directory: Directory, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._directory = directory
        self.principal = Principal(
            EMULATOR_CLIENT_ID, tenant_id, directory.object_id_for(tenant_id, EMULATOR_CLIENT_ID)
        )
        self.requests: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        """Every ``get_token`` call: (scopes, keyword arguments such as ``tenant_id`` and ``claims``)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requests.append((scopes, kwargs))
        resource = scopes[0].removesuffix("/.default") if scopes else "https://vault.azure.net"
        token, lifetime = self._directory.issue(self.principal, resource, kwargs.get("tenant_id") or self.tenant_id)
        # azure-core compares expiry with the machine's clock, so this is wall time, not the emulator's.
        return AccessToken(token, int(wall_time()) + lifetime)

    def close(self) -> None:
        """Nothing to release; present for parity with azure-identity credentials."""

    def __enter__(self) -> EmulatorCredential:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class AsyncEmulatorCredential:
    """An ``AsyncTokenCredential`` for the emulator's tenant."""

    def __init__(self, directory: Directory, tenant_id: str) -> None:
        self._sync = EmulatorCredential(directory, tenant_id)

    @property
    def requests(self) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        return self._sync.requests

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return self._sync.get_token(*scopes, **kwargs)

    async def close(self) -> None:
        """Nothing to release."""

    async def __aenter__(self) -> AsyncEmulatorCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()
