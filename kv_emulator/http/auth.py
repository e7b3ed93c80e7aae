"""The challenge: a request without a bearer token gets a 401 before anything else is looked at.

The SDK's first request to a vault carries no token and no body; the 401's ``WWW-Authenticate`` tells it
which tenant and resource to get a token for. By default any non-empty bearer token is then accepted, and
so is a token on a request that was never challenged (the SDK caches challenges across clients).
"""

from __future__ import annotations

from typing import Any

import jwt

from ..errors import KeyVaultError
from ..identity.directory import Directory
from .headers import HSM_RESOURCE, VAULT_RESOURCE, challenge_header

__all__ = ["InvalidToken", "MissingToken", "bearer_token", "caller_claims", "verify_token"]


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


class InvalidToken(KeyVaultError):
    """strict_auth: a token the vault does not accept. 401 with the challenge, so the SDK can start over.

    The ``AKV100xx`` texts follow the service's pattern; only the audience one is close to a recorded text.
    """

    status = 401
    code = "Unauthorized"

    def __init__(self, message: str, tenant_id: str, *, managed_hsm: bool = False) -> None:
        super().__init__(message)
        resource = HSM_RESOURCE if managed_hsm else VAULT_RESOURCE
        self.headers = [("WWW-Authenticate", challenge_header(tenant_id, resource))]


def caller_claims(token: str) -> dict[str, Any] | None:
    """Who a JWT says the caller is (oid, appid, tid, ...), without checking it; None for other tokens."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return {k: claims[k] for k in ("oid", "appid", "tid", "upn", "iss", "xms_mirid") if k in claims}


def verify_token(token: str, directory: Directory, *, tenant_id: str, managed_hsm: bool, now: float) -> dict[str, Any]:
    """strict_auth: signature, issuer, audience, tenant and lifetime, as the vault checks them."""
    resource = HSM_RESOURCE if managed_hsm else VAULT_RESOURCE

    def refuse(message: str) -> InvalidToken:
        return InvalidToken(message, tenant_id, managed_hsm=managed_hsm)

    try:
        claims = directory.verify(token)
    except jwt.PyJWTError:
        raise refuse("AKV10010: Signature validation failed.") from None  # unverified text
    audience = str(claims.get("aud", "")).rstrip("/")
    if audience != resource:
        raise refuse(f"AKV10022: Invalid audience. Expected {resource}, found: {audience}.")
    issuer = directory.issuer(tenant_id)
    if claims.get("iss") != issuer or claims.get("tid") != tenant_id:
        raise refuse(f"AKV10032: Invalid issuer. Expected one of {issuer}, found {claims.get('iss')}.")  # unverified
    if not claims.get("nbf", 0) <= now < claims.get("exp", 0):
        raise refuse("AKV10013: Token is expired or not yet valid.")  # unverified text
    return claims
