"""Which WSGI app answers a request that reached the server, and what the pipeline needs to know about it.

The same apps as in-process (``Emulator.app_for``), plus what only a server has: ``/_kv/`` management, its
own App Service identity endpoint, and vaults reached as ``https://localhost:<port>`` (the default vault)
or ``https://<name>.localhost:<port>``, whose challenge names ``https://localhost:<port>``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hosts import VAULT_SUFFIX, parse_host
from ..http.app import CHALLENGE_RESOURCE_KEY, VAULT_HOST_KEY
from ..identity.app import APP_SERVICE_HEADER_KEY
from .replies import json_error_app

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = ["IDENTITY_PATH", "MANAGEMENT_PREFIX", "Router"]

MANAGEMENT_PREFIX = "/_kv/"
#: The path of the App Service managed-identity endpoint on the proxy port (``IDENTITY_ENDPOINT``).
IDENTITY_PATH = "/msi/token"


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
        passthrough: bool = True,
    ) -> None:
        self.emulator = emulator
        self.management = management
        self.identity_header = identity_header
        self._direct_port = direct_port
        self.passthrough = passthrough

    def emulates_host(self, host: str) -> bool:
        """Whether a CONNECT to ``host`` is answered by the emulator (else tunnelled or refused)."""
        return self.emulator.app_for(f"https://{host}/") is not None

    def route(self, environ: WSGIEnvironment, *, tunnel: str | None, proxy: bool) -> tuple[str, WSGIApplication]:
        """(a label for the log line, the app), after adding what the pipeline needs to ``environ``."""
        path: str = environ.get("PATH_INFO", "/")
        scheme: str = environ["wsgi.url_scheme"]
        host: str = environ.get("HTTP_HOST") or tunnel or "localhost"
        absolute = str(environ.get("REQUEST_URI", "")).startswith(("http://", "https://"))
        own = tunnel is None and not absolute  # addressed to this listener itself, not proxied
        if own and (path == MANAGEMENT_PREFIX.rstrip("/") or path.startswith(MANAGEMENT_PREFIX)):
            return "management", self.management
        if own and proxy and path == IDENTITY_PATH:
            environ[APP_SERVICE_HEADER_KEY] = self.identity_header
            return "identity", self.emulator.identity_app
        if own and not proxy and parse_host(host) is None:
            return "vault", self._local_vault(environ, host.lower())
        if scheme == "https" and parse_host(host) is not None:
            return "vault", self.emulator.app
        url = f"{scheme}://{host}{path}"
        app = self.emulator.app_for(url)
        if app is self.emulator.identity_app or app is self.emulator.graph:
            return "identity", app  # Entra ID, IMDS and Graph change nothing to persist (Graph's POSTs are reads)
        if app is self.emulator.app:
            return "vault", app
        if app is not None:
            return "service", app  # ARM, attestation: the same emulator's other planes
        if absolute and proxy and scheme == "http":
            if self.passthrough:
                from .forward import forward

                return "forward", forward
            return "refused", json_error_app(
                403, "Forbidden", f"kv-emulator does not emulate {host} and --no-passthrough refuses other hosts"
            )
        return "refused", json_error_app(
            404, "NotFound", f"kv-emulator: no emulated service at {scheme}://{host}{path}"
        )

    def _local_vault(self, environ: WSGIEnvironment, host: str) -> WSGIApplication:
        """``https://<name>.localhost:<port>``: vault <name>, challenged for ``https://localhost:<port>``;
        any other host (``localhost``, ``127.0.0.1``, a compose service name): the default vault."""
        name, port = _split_host(host)
        vault = self.emulator.settings.vault_name
        parent = host
        if name.endswith(".localhost"):
            vault = name.removesuffix(".localhost").split(".")[-1]
            parent = f"localhost:{port or self._direct_port()}"
        address = parse_host(vault.split("://", 1)[1].split("/")[0]) if "://" in vault else None
        environ[VAULT_HOST_KEY] = address.dns_name if address else f"{vault}.{VAULT_SUFFIX}"
        environ[CHALLENGE_RESOURCE_KEY] = f"https://{parent}"
        return self.emulator.app  # type: ignore[no-any-return,unused-ignore]
