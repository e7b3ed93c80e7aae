"""The identity endpoints azure-identity calls, as one WSGI app: Entra ID, IMDS and App Service.

Entra ID (``https://login.microsoftonline.com``): instance discovery, the tenant's OpenID configuration,
JWKS, and the token endpoint for client secrets, client certificates (the assertion is verified) and
federated (workload identity) assertions. Managed identity: IMDS at ``http://169.254.169.254`` and the
App Service / Functions endpoint named by ``IDENTITY_ENDPOINT``. Responses carry what azure-identity and
MSAL read (research/sdk-clients.md §7).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..hosts import CHINA, US_GOVERNMENT, cloud_of_login_host
from .directory import Directory, IdentityError, Principal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = [
    "APP_SERVICE_HEADER_KEY",
    "ENTRA_HOSTS",
    "IMDS_HOST",
    "IdentityApp",
    "app_service_endpoint",
    "is_identity_url",
]

_PUBLIC_ALIASES = ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net")
#: Entra ID of the public cloud (and its aliases), Azure China and Azure US Government.
ENTRA_HOSTS = (*_PUBLIC_ALIASES, CHINA.login_host, US_GOVERNMENT.login_host)
IMDS_HOST = "169.254.169.254"
#: The managed identity endpoints of IMDS (``/metadata/identity/oauth2/token``); nothing else there is claimed.
IMDS_IDENTITY_PATH = "/metadata/identity/"
_AUTHORITY = "https://login.microsoftonline.com"
#: WSGI environ key a server door sets on requests to its App Service endpoint: the header value it expects.
APP_SERVICE_HEADER_KEY = "kv_emulator.app_service_header"

_ENTRA = Map(
    [
        Rule("/common/discovery/instance", endpoint="instance"),
        Rule("/<tenant>/v2.0/.well-known/openid-configuration", endpoint="openid"),
        Rule("/<tenant>/.well-known/openid-configuration", endpoint="openid"),
        Rule("/<tenant>/discovery/v2.0/keys", endpoint="jwks"),
        Rule("/<tenant>/discovery/keys", endpoint="jwks"),
        Rule("/<tenant>/oauth2/v2.0/token", methods=["POST"], endpoint="token"),
        Rule("/<tenant>/oauth2/token", methods=["POST"], endpoint="token"),
    ],
    strict_slashes=False,
)


def is_identity_url(url: str) -> bool:
    """URLs of the identity endpoints: Entra ID over https, IMDS over http, and this environment's
    App Service endpoint (``IDENTITY_ENDPOINT``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host in ENTRA_HOSTS:
        return True
    if parts.scheme == "http" and host == IMDS_HOST:
        return parts.path.startswith(IMDS_IDENTITY_PATH)  # the rest of IMDS (instance metadata) is not ours
    endpoint = app_service_endpoint()
    return bool(endpoint) and url.startswith(str(endpoint).split("?")[0])


def app_service_endpoint() -> str | None:
    """The App Service / Functions managed identity endpoint of this environment, if one is set."""
    return os.environ.get("IDENTITY_ENDPOINT") or os.environ.get("MSI_ENDPOINT")


class IdentityApp:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            status, body = self._dispatch(request)
        except IdentityError as exc:
            status, body = exc.status, exc.body()
        except HTTPException as exc:
            status = exc.code or 404
            body = {
                "error": "invalid_request",
                "error_description": f"kv-emulator: no identity endpoint {request.path}",
            }
        response = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> tuple[int, dict[str, Any]]:
        host = request.host.split(":")[0].lower()
        if host == IMDS_HOST:
            return self._imds(request)
        served = request.environ.get(APP_SERVICE_HEADER_KEY)
        if served is not None:  # a server door's own App Service endpoint, with the header it handed out
            return self._app_service(request, expected=served)
        endpoint = app_service_endpoint()
        if endpoint and request.url.startswith(endpoint.split("?")[0]):
            return self._app_service(request)
        adapter = _ENTRA.bind(host, url_scheme="https")
        name, arguments = adapter.match(request.path, method=request.method)
        tenant = arguments.get("tenant", "common")
        if tenant in ("common", "organizations", "consumers"):
            tenant = self.directory.default_tenant
        if name == "instance":
            return 200, _instance_discovery(request.args.get("authorization_endpoint"), tenant)
        if name == "openid":
            return 200, _openid_configuration(tenant, f"https://{request.host}")
        if name == "jwks":
            return 200, self.directory.jwks()
        return self._token(request, tenant)

    # -- Entra ID token endpoint --------------------------------------------------------------------

    def _token(self, request: Request, tenant: str) -> tuple[int, dict[str, Any]]:
        form = request.form
        if form.get("grant_type") != "client_credentials":
            raise IdentityError(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        client_id = form.get("client_id", "")
        principal = self.directory.principal(client_id, tenant)
        if principal is None:
            raise IdentityError(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
                f"'{tenant}'. This can happen if the application has not been installed by the administrator "
                "of the tenant or consented to by any user in the tenant.",
                700016,
            )
        self._authenticate(principal, form, request.url)
        scope = (form.get("scope") or "").split()
        default = cloud_of_login_host(request.host).vault_resource
        resource = scope[0].removesuffix("/.default") if scope else default
        token, lifetime = self.directory.issue(principal, resource, tenant)
        return 200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}

    def _authenticate(self, principal: Principal, form: Any, token_url: str) -> None:
        secret, assertion = form.get("client_secret"), form.get("client_assertion")
        registered = not self.directory.open
        if secret is not None:
            if registered and secret != principal.secret:
                raise IdentityError(
                    401,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request "
                    "is the client secret value, not the client secret ID, for a secret added to app "
                    f"'{principal.client_id}'.",
                    7000215,
                )
            return
        if assertion is None:
            raise IdentityError(
                401,
                "invalid_client",
                "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or "
                "'client_secret'.",
                7000218,
            )
        if principal.certificate is not None:
            try:
                jwt.decode(
                    assertion,
                    principal.certificate.public_key(),  # type: ignore[arg-type]
                    algorithms=["RS256", "PS256"],
                    audience=token_url.split("?")[0],
                    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
                )
            except jwt.PyJWTError:
                raise IdentityError(
                    401, "invalid_client", "AADSTS700027: Client assertion contains an invalid signature.", 700027
                ) from None
            return
        if registered and not principal.federated:
            raise IdentityError(
                401,
                "invalid_client",
                "AADSTS700027: Client assertion contains an invalid signature.",  # no certificate registered
                700027,
            )
        try:  # federated (workload identity) and open mode: the assertion must at least be a JWT
            jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise IdentityError(
                400, "invalid_request", "AADSTS50027: JWT token is invalid or malformed.", 50027
            ) from None

    # -- managed identity ---------------------------------------------------------------------------

    def _imds(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.headers.get("Metadata", "").lower() != "true":
            raise IdentityError(400, "invalid_request", "Required metadata header not specified")
        identity = self.directory.managed_identity(request.args.get("client_id"), request.args.get("object_id"))
        if identity is None:
            raise IdentityError(400, "invalid_request", "Identity not found")
        return 200, self._managed_token(identity, request.args.get("resource", ""), seconds_as_text=True)

    def _app_service(self, request: Request, expected: str | None = None) -> tuple[int, dict[str, Any]]:
        expected = expected or os.environ.get("IDENTITY_HEADER") or os.environ.get("MSI_SECRET")
        given = request.headers.get("X-IDENTITY-HEADER") or request.headers.get("secret")
        if expected and given != expected:
            raise IdentityError(401, "invalid_request", "The identity header is missing or does not match.")
        identity = self.directory.managed_identity(
            request.args.get("client_id") or request.args.get("clientid"), request.args.get("principal_id")
        )
        if identity is None:
            raise IdentityError(400, "invalid_request", "Identity not found")
        return 200, self._managed_token(identity, request.args.get("resource", ""), seconds_as_text=False)

    def _managed_token(self, identity: Principal, resource: str, *, seconds_as_text: bool) -> dict[str, Any]:
        token, lifetime = self.directory.issue(identity, resource or "https://vault.azure.net")
        expires_on = int(self.directory.clock.time()) + lifetime
        body: dict[str, Any] = {
            "access_token": token,
            "client_id": identity.client_id,
            "expires_in": str(lifetime) if seconds_as_text else lifetime,
            "expires_on": str(expires_on),
            "ext_expires_in": str(lifetime) if seconds_as_text else lifetime,
            "not_before": str(expires_on - lifetime),
            "resource": resource,
            "token_type": "Bearer",
        }
        return body


def _openid_configuration(tenant: str, authority: str = _AUTHORITY) -> dict[str, Any]:
    """The configuration of the authority asked (each cloud's Entra ID names its own endpoints)."""
    base = f"{authority}/{tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "issuer": f"{authority}/{tenant}/v2.0",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "tenant_region_scope": "NA",
    }


def _instance_discovery(authorization_endpoint: str | None, tenant: str) -> dict[str, Any]:
    host = urlsplit(authorization_endpoint).netloc if authorization_endpoint else "login.microsoftonline.com"
    return {
        "tenant_discovery_endpoint": f"https://{host}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [
            {
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": list(_PUBLIC_ALIASES),
            },
            {"preferred_network": CHINA.login_host, "preferred_cache": CHINA.login_host, "aliases": [CHINA.login_host]},
            {
                "preferred_network": US_GOVERNMENT.login_host,
                "preferred_cache": US_GOVERNMENT.login_host,
                "aliases": [US_GOVERNMENT.login_host],
            },
        ],
    }
