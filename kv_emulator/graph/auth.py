"""Graph's front door: a bearer token for ``https://graph.microsoft.com``, or Graph's 401s.

As the vault and ARM do, any bearer token is accepted by default, but a JWT issued for another audience (a
vault token, say) is refused as Graph refuses it. With ``strict_auth`` the token must also be one the
emulator's directory signed and still valid.
"""

from __future__ import annotations

from typing import Any

import jwt

from ..hosts import GRAPH_HOSTS
from ..identity.directory import Directory
from .errors import GraphError

__all__ = ["GRAPH_APP_ID", "GRAPH_AUDIENCES", "authenticate"]

#: Microsoft Graph's own application id: the audience of v2 tokens for Graph.
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_AUDIENCES = frozenset(
    {GRAPH_APP_ID, *(f"https://{host}" for host in GRAPH_HOSTS), *(f"https://{host}/" for host in GRAPH_HOSTS)}
)
# What Graph sends with its 401s (unverified: seen in client logs, not in a recording).
_CHALLENGE = [
    (
        "WWW-Authenticate",
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
        f'client_id="{GRAPH_APP_ID}"',
    )
]


def _unauthorized(message: str) -> GraphError:
    return GraphError(401, "InvalidAuthenticationToken", message, headers=_CHALLENGE)


def authenticate(authorization: str | None, directory: Directory, *, strict: bool, now: float) -> dict[str, Any]:
    """The caller's claims (empty for an opaque token outside strict mode), or Graph's 401."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        # seen: microsoftgraph/msgraph-sample-reactspa#54, 2020
        raise _unauthorized("Access token is empty.")
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        if strict:  # seen: microsoftgraph/msgraph-training-dotnet#31, 2021 (a token that is not a JWT)
            raise _unauthorized("CompactToken parsing failed with error code: 80049217") from None
        return {}
    if str(claims.get("aud", "")) not in GRAPH_AUDIENCES:
        # seen: microsoftgraph/microsoft-graph-docs#16208, 2022
        raise _unauthorized("Access token validation failure. Invalid audience.")
    if strict:
        try:
            directory.verify(token)
        except jwt.PyJWTError:
            raise _unauthorized("Access token validation failure.") from None  # unverified
        if float(claims.get("exp", 0)) <= now:
            raise _unauthorized("Lifetime validation failed, the token is expired.")  # unverified
    return claims
