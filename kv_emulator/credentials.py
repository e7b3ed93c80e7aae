"""Credentials that hand the SDK a bearer token for the emulator, sync and async.

They satisfy azure-core's ``TokenCredential`` / ``AsyncTokenCredential`` protocols. The emulator accepts
any non-empty bearer token by default, so the token only has to look like one.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials import AccessToken

from .clock import wall_time

__all__ = ["AsyncEmulatorCredential", "EmulatorCredential"]

_LIFETIME = 3600


class EmulatorCredential:
    """A sync ``TokenCredential`` for the emulator's tenant."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.requests: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requests.append((scopes, kwargs))
        # azure-core compares expiry with the machine's clock, so this is wall time, not the emulator's.
        tenant = kwargs.get("tenant_id") or self.tenant_id
        return AccessToken(f"kv-emulator-token.{tenant}", int(wall_time()) + _LIFETIME)

    def close(self) -> None:
        """Nothing to release; present for parity with azure-identity credentials."""

    def __enter__(self) -> EmulatorCredential:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class AsyncEmulatorCredential:
    """An ``AsyncTokenCredential`` for the emulator's tenant."""

    def __init__(self, tenant_id: str) -> None:
        self._sync = EmulatorCredential(tenant_id)

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
