"""The challenge: a request without a bearer token gets a 401 before anything else is looked at.

The SDK's first request to a vault carries no token and no body; the 401's ``WWW-Authenticate`` tells it
which tenant and resource to get a token for. By default any non-empty bearer token is then accepted, and
so is a token on a request that was never challenged (the SDK caches challenges across clients).
"""

from __future__ import annotations

from ..errors import KeyVaultError
from .headers import HSM_RESOURCE, VAULT_RESOURCE, challenge_header

__all__ = ["MissingToken", "bearer_token"]


class MissingToken(KeyVaultError):
    status = 401
    code = "Unauthorized"
    verified = True  # recorded 2026-04 (Azure/azure-sdk-assets, Python keys recordings, vault and mhsm)

    def __init__(self, tenant_id: str, *, managed_hsm: bool = False) -> None:
        super().__init__("AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.")
        self.managed_hsm = managed_hsm
        resource = HSM_RESOURCE if managed_hsm else VAULT_RESOURCE
        self.headers = [("WWW-Authenticate", challenge_header(tenant_id, resource))]

    def body(self) -> dict[str, object] | None:
        return None if self.managed_hsm else super().body()  # a Managed HSM's 401 has an empty body


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
