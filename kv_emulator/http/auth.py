"""The challenge: a request without a bearer token gets a 401 before anything else is looked at.

The SDK's first request to a vault carries no token and no body; the 401's ``WWW-Authenticate`` tells it
which tenant and resource to get a token for. By default any non-empty bearer token is then accepted, and
so is a token on a request that was never challenged (the SDK caches challenges across clients). With
``strict_auth`` the token must be one the emulated Entra ID signed, for this vault's audience and tenant.
"""

from __future__ import annotations

from typing import Any

import jwt

from ..errors import InvalidToken, MissingToken
from ..hosts import PUBLIC, Cloud
from ..identity.directory import Directory
from .headers import challenge_header

__all__ = ["TokenCache", "bearer_token", "caller_claims", "challenge", "verify_token"]


def challenge(tenant_id: str, *, managed_hsm: bool, cloud: Cloud = PUBLIC, resource: str | None = None) -> MissingToken:
    """The 401 a request without a token gets (a Managed HSM's has an empty body).

    ``resource``: what a server door names instead of the vault resource (``https://localhost:<port>``)."""
    return MissingToken(_challenge_header(tenant_id, managed_hsm, cloud, resource), empty_body=managed_hsm)


def _resource(managed_hsm: bool, cloud: Cloud, resource: str | None) -> str:
    return resource or (cloud.hsm_resource if managed_hsm else cloud.vault_resource)


def _challenge_header(tenant_id: str, managed_hsm: bool, cloud: Cloud, resource: str | None = None) -> str:
    """The challenge names the vault's own cloud: its resource and its login authority."""
    return challenge_header(tenant_id, _resource(managed_hsm, cloud, resource), cloud.authority)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def caller_claims(token: str) -> dict[str, Any] | None:
    """Who a JWT says the caller is (oid, appid, tid, ...), without checking it; None for other tokens."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return {k: claims[k] for k in ("oid", "appid", "tid", "upn", "iss", "xms_mirid") if k in claims}


class TokenCache:
    """What was learned from a token, kept by its exact text: a client sends the same token for an hour,
    and decoding (or verifying) a JWT costs more than the rest of a request. Bounded; per emulator."""

    _LIMIT = 1024

    def __init__(self) -> None:
        self._claims: dict[str, dict[str, Any] | None] = {}
        self._verified: dict[str, dict[str, Any] | jwt.PyJWTError] = {}

    def claims(self, token: str) -> dict[str, Any] | None:
        """:func:`caller_claims`, cached (a fresh copy each time: journal entries own theirs)."""
        if token not in self._claims:
            if len(self._claims) >= self._LIMIT:
                self._claims.clear()
            self._claims[token] = caller_claims(token)
        claims = self._claims[token]
        return dict(claims) if claims is not None else None

    def verified(self, token: str, directory: Directory) -> dict[str, Any]:
        """The token's claims once its signature checked out (``jwt.PyJWTError`` if it did not), cached."""
        if token not in self._verified:
            if len(self._verified) >= self._LIMIT:
                self._verified.clear()
            try:
                self._verified[token] = directory.verify(token)
            except jwt.PyJWTError as exc:
                self._verified[token] = exc
        outcome = self._verified[token]
        if isinstance(outcome, jwt.PyJWTError):
            raise outcome
        return dict(outcome)


def verify_token(
    token: str,
    directory: Directory,
    *,
    tenant_id: str,
    managed_hsm: bool,
    now: float,
    cache: TokenCache | None = None,
    cloud: Cloud = PUBLIC,
    resource: str | None = None,
) -> dict[str, Any]:
    """strict_auth: signature, issuer, audience, tenant and lifetime, as the vault checks them.

    The signature check may come from ``cache``; the lifetime is checked against ``now`` every time.
    ``resource``: the audience a server door's challenge named instead of the vault resource.
    """
    override = resource
    resource = _resource(managed_hsm, cloud, override)

    def refuse(message: str) -> InvalidToken:
        return InvalidToken(message, _challenge_header(tenant_id, managed_hsm, cloud, override))

    try:
        claims = cache.verified(token, directory) if cache is not None else directory.verify(token)
    except jwt.PyJWTError:
        raise refuse("AKV10010: Signature validation failed.") from None  # unverified text
    audience = str(claims.get("aud", "")).rstrip("/")
    if audience != resource:
        raise refuse(f"AKV10022: Invalid audience. Expected {resource}, found: {audience}.")
    issuer = cloud.issuer(tenant_id)
    if claims.get("iss") != issuer or claims.get("tid") != tenant_id:
        raise refuse(f"AKV10032: Invalid issuer. Expected one of {issuer}, found {claims.get('iss')}.")  # unverified
    if not claims.get("nbf", 0) <= now < claims.get("exp", 0):
        raise refuse("AKV10013: Token is expired or not yet valid.")  # unverified text
    return claims
