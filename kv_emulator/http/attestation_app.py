"""The emulated attestation authority over HTTP, at its own host (``https://kv-emulator.attest.azure.net``).

Code that fetches its attestation token over HTTP works unchanged, as do the Azure SDKs' own key release
tests, which call a test attestation service: ``GET /generate-test-token`` answers ``{"token": "<JWT>"}``
with the claim ``"sdk-test": true``. Its OpenID metadata (``/.well-known/openid-configuration``) and
signing keys (``/certs``, a JWKS with the certificate in ``x5c``) let a client verify the tokens, as with
Microsoft Azure Attestation. It answers that service's SGX calls too (policies get/set/reset, attest
OpenEnclave and SgxEnclave: objects/attestation_service.py), as the Azure SDKs' attestation clients send
them. The tokens are the authority's own, so release policies naming it hold.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..objects import attestation_service as service
from ..objects.attestation import DEFAULT_AUTHORITY, AttestationAuthority

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["ATTESTATION_HOST", "AttestationApp", "is_attestation_url"]

ATTESTATION_HOST = urlsplit(DEFAULT_AUTHORITY).hostname or ""

_ROUTES = Map(
    [
        Rule("/.well-known/openid-configuration", endpoint="openid", methods=["GET"]),
        Rule("/certs", endpoint="certs", methods=["GET"]),
        Rule("/generate-test-token", endpoint="test_token", methods=["GET"]),
        Rule("/policies/<kind>", endpoint="policy", methods=["GET", "PUT"]),
        Rule("/policies/<kind>:reset", endpoint="reset", methods=["POST"]),
        Rule("/attest/<any(OpenEnclave, SgxEnclave):kind>", endpoint="attest", methods=["POST"]),
    ],
    strict_slashes=False,
)


def is_attestation_url(url: str) -> bool:
    """The authority's URLs: https on the default port of its host."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() == ATTESTATION_HOST and parts.port in (None, 443)


class AttestationApp:
    """A WSGI app over the authority (made on first use, so it is asked for, not held)."""

    def __init__(self, authority: Callable[[], AttestationAuthority]) -> None:
        self._authority = authority

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, arguments = _ROUTES.bind_to_environ(environ).match()
        except HTTPException as exc:
            # The shape of Microsoft Azure Attestation's errors; the text is ours (unverified).
            status = exc.code or 404
            body = {"error": {"code": "NotFound" if status == 404 else "MethodNotAllowed", "message": exc.description}}
            return _json(body, status)(environ, start_response)
        authority = self._authority()
        if endpoint in ("policy", "reset", "attest"):
            return _service(authority, endpoint, request, arguments["kind"])(environ, start_response)
        base = f"{request.scheme}://{request.host}".removesuffix(":443")
        if endpoint == "openid":
            answer: dict[str, Any] = {
                "issuer": authority.issuer,
                "jwks_uri": f"{base}/certs",
                "response_types_supported": ["token", "none"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["iss", "iat", "exp", "nbf", "jti", "x-ms-runtime"],
            }
        elif endpoint == "certs":
            answer = {"keys": [_signing_jwk(authority)]}
        else:
            answer = {"token": authority.issue_token({"sdk-test": True}).jwt}
        return _json(answer, 200)(environ, start_response)


def _service(authority: AttestationAuthority, endpoint: str, request: Request, kind: str) -> Response:
    """The service's calls: a JSON answer, or its error shape with the status the model chose."""
    try:
        if endpoint == "attest":
            try:
                body = json.loads(request.get_data(as_text=True) or "null")
            except ValueError:
                body = None
            answer = service.attest(authority, kind, body)
        elif endpoint == "reset":
            answer = service.reset_policy(authority, kind, request.get_data(as_text=True))
        elif request.method == "PUT":
            answer = service.set_policy(authority, kind, request.get_data(as_text=True))
        else:
            answer = service.get_policy(authority, kind)
    except service.AttestationServiceError as exc:
        return _json({"error": {"code": exc.code, "message": exc.message}}, exc.status)
    return _json(answer, 200)


def _signing_jwk(authority: AttestationAuthority) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(authority.public_key, as_dict=True)
    der = authority.certificate.public_bytes(serialization.Encoding.DER)
    return {
        "kty": "RSA",
        "kid": authority.kid,
        "use": "sig",
        "alg": "RS256",
        "n": jwk["n"],
        "e": jwk["e"],
        "x5c": [base64.b64encode(der).decode()],
    }


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
