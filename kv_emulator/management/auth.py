"""ARM's front door: a bearer token for ``https://management.azure.com``, or ARM's 401s.

Like the vault, any bearer token is accepted by default, but a JWT issued for another audience (a vault
token, say) is refused as ARM refuses it. With ``strict_auth`` the token must also be one the emulator's
directory signed, for this tenant, and still valid.
"""

from __future__ import annotations

import datetime
from typing import Any

import jwt

from ..identity.directory import Directory
from .errors import ArmError

__all__ = ["MANAGEMENT_AUDIENCES", "authenticate"]

#: The audiences ARM accepts (the public cloud's; sovereign clouds have their own hosts, same rule).
MANAGEMENT_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
    "https://management.chinacloudapi.cn",
    "https://management.core.chinacloudapi.cn",
    "https://management.usgovcloudapi.net",
    "https://management.core.usgovcloudapi.net",
)


def _challenge(tenant_id: str, description: str) -> list[tuple[str, str]]:
    value = (
        f'Bearer authorization_uri="https://login.windows.net/{tenant_id}", error="invalid_token", '
        f'error_description="{description}"'
    )
    return [("WWW-Authenticate", value)]


def _utc(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


def authenticate(
    authorization: str | None, directory: Directory, *, tenant_id: str, strict: bool, now: float
) -> dict[str, Any]:
    """The caller's claims (empty for an opaque token), or ARM's 401."""
    if not authorization:
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
            verified=True,
            headers=_challenge(tenant_id, "The authentication failed because of missing 'Authorization' header."),
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ArmError(
            401,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            verified=True,
            headers=_challenge(tenant_id, "The authentication failed because of invalid 'Authorization' header."),
        )
    invalid = ArmError(
        401,
        "InvalidAuthenticationToken",
        "The access token is invalid.",
        verified=True,
        headers=_challenge(tenant_id, "The access token is invalid."),
    )
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        if strict:
            raise invalid from None
        return {}
    audience = str(claims.get("aud", ""))
    if audience not in MANAGEMENT_AUDIENCES:
        raise ArmError(
            401,
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
            "match with one of the allowed audiences 'https://management.core.windows.net/',"
            "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
            verified=True,
            headers=_challenge(tenant_id, "The access token has been obtained from wrong audience or resource."),
        )
    if strict:
        try:
            directory.verify(token)
        except jwt.PyJWTError:
            raise invalid from None
        issuer = directory.issuer(tenant_id)
        if claims.get("iss") != issuer:
            raise ArmError(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the tenant "
                f"'{issuer}' associated with this subscription. Please use the authority (URL) "
                f"'https://login.windows.net/{tenant_id}' to get the token. Note, if the subscription is "
                "transferred to another tenant there is no impact to the services, but information about new "
                "tenant could take time to propagate (up to an hour). If you just transferred your subscription "
                "and see this error message, please try back later.",
                verified=True,
                headers=_challenge(tenant_id, "The access token is from the wrong issuer."),
            )
        expires = float(claims.get("exp", 0))
        if expires <= now:
            raise ArmError(
                401,
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{_utc(expires)}' is earlier than current UTC time '{_utc(now)}'.",
                verified=True,
                headers=_challenge(tenant_id, "The access token has expired."),
            )
    return {k: claims[k] for k in ("oid", "appid", "tid", "upn", "iss", "name") if k in claims}
