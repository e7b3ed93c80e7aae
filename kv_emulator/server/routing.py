"""Which WSGI app answers a request that reached the server, and what the pipeline needs to know about it.

The same apps as in-process (``Emulator.app_for``), plus what only a server has: ``/_kv/`` management, its
own App Service identity endpoint, and vaults reached as ``https://localhost:<port>`` (the default vault)
or ``https://<name>.localhost:<port>``, whose challenge names ``https://localhost:<port>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..hosts import VAULT_SUFFIX, parse_host
from ..http.app import CHALLENGE_RESOURCE_KEY, VAULT_HOST_KEY
from ..identity.app import APP_SERVICE_HEADER_KEY

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["IDENTITY_PATH", "MANAGEMENT_PREFIX", "Router", "json_error_app"]

MANAGEMENT_PREFIX = "/_kv/"
#: The path of the App Service managed-identity endpoint on the proxy port (``IDENTITY_ENDPOINT``).
IDENTITY_PATH = "/msi/token"
_LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")


def json_error_app(status: int, code: str, message: str) -> WSGIApplication:
    """A WSGI app answering one error in the Key Vault error shape."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 502: "Bad Gateway"}.get(status, "Error")
        start_response(
            f"{status} {reason}",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def _split_host(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        name, _, rest = host.partition("]")
        return name + "]", rest.removeprefix(":") or None
    name, _, port = host.partition(":")
    return name, port or None


class Router:
    """Picks the app for each request; one per server, shared by its listeners."""

    def __init__(  # emulator: a kv_emulator.Emulator, a layer above the doors
        self,
        emulator: Any,
        management: WSGIApplication,
        *,
        identity_header: str,
        direct_port: Callable[[], int],
    ) -> None:
        self.emulator = emulator
        self.management = management
        self.identity_header = identity_header
        self._direct_port = direct_port

    def emulates_host(self, host: str) -> bool:
        """Whether a CONNECT to ``host`` is answered by the emulator (else tunnelled or refused)."""
        return self.emulator.app_for(f"https://{host}/") is not None

    def route(self, environ: WSGIEnvironment, *, tunnel: str | None, proxy: bool) -> tuple[str, WSGIApplication]:
        """(a label for the log line, the app), after adding what the pipeline needs to ``environ``."""
        path: str = environ.get("PATH_INFO", "/")
        scheme: str = environ["wsgi.url_scheme"]
        host: str = environ.get("HTTP_HOST") or tunnel or "localhost"
        absolute = str(environ.get("REQUEST_URI", "")).startswith(("http://", "https://"))
        name, _ = _split_host(host.lower())
        local = tunnel is None and not absolute and (name in _LOCAL_NAMES or name.endswith(".localhost"))
        if local and (path == MANAGEMENT_PREFIX.rstrip("/") or path.startswith(MANAGEMENT_PREFIX)):
            return "management", self.management
        if local and proxy and path == IDENTITY_PATH:
            environ[APP_SERVICE_HEADER_KEY] = self.identity_header
            return "identity", self.emulator.identity_app
        if local and not proxy:
            return "vault", self._local_vault(environ, name)
        if scheme == "https" and parse_host(host) is not None:
            return "vault", self.emulator.app
        url = f"{scheme}://{host}{path}"
        app = self.emulator.app_for(url)
        if app is self.emulator.identity_app:
            return "identity", app
        if app is not None:
            return "vault", app
        return "refused", json_error_app(
            404,
            "NotFound",
            f"kv-emulator: no emulated service at {scheme}://{host}{path}",  # unverified
        )

    def _local_vault(self, environ: WSGIEnvironment, name: str) -> WSGIApplication:
        """``https://localhost:<port>``: the default vault; ``https://<name>.localhost:<port>``: vault <name>."""
        vault = self.emulator.settings.vault_name
        if name.endswith(".localhost"):
            vault = name.removesuffix(".localhost").split(".")[-1]
        if "://" in vault:
            address = parse_host(vault.split("://", 1)[1].split("/")[0])
            dns_name = address.dns_name if address else vault
        else:
            dns_name = f"{vault}.{VAULT_SUFFIX}"
        environ[VAULT_HOST_KEY] = dns_name
        environ[CHALLENGE_RESOURCE_KEY] = f"https://localhost:{self._direct_port()}"
        return self.emulator.app
