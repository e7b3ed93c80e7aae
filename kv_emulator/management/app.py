"""Azure Resource Manager as a second WSGI app beside the vault app: the control plane.

Each request goes through ARM's steps: request ids, bearer token for the management audience, route to
the spec's operation, api-version, handler. Every answer is JSON in ARM's error shape when it is an error;
an unexpected exception is ARM's 500 with the traceback kept in the journal; an operation the emulator does
not answer is a loud 501 naming it.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..clock import Clock
from ..errors import KeyVaultError
from ..identity.directory import Directory
from ..objects.registry import VaultRegistry
from . import managed_hsms, objects, platform, roles, routes, vaults, versions
from .auth import authenticate
from .context import ArmReply, ArmRequest
from .errors import ArmError, not_implemented
from .state import ArmState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["MANAGEMENT_HOSTS", "ManagementApp", "is_management_url"]

#: ARM's hosts: the public cloud, Azure China and Azure US Government.
MANAGEMENT_HOSTS = ("management.azure.com", "management.chinacloudapi.cn", "management.usgovcloudapi.net")

HANDLERS: dict[str, Callable[..., ArmReply]] = {
    **platform.HANDLERS,
    **vaults.HANDLERS,
    **objects.HANDLERS,
    **managed_hsms.HANDLERS,
    **roles.HANDLERS,
}


def is_management_url(url: str) -> bool:
    """ARM over https on the default port."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() in MANAGEMENT_HOSTS and parts.port in (None, 443)


class ManagementApp:
    """WSGI application answering Azure Resource Manager requests, built from the parts it needs: the
    vault registry (whose vaults ARM creates and configures), the clock, the directory that signs tokens, and
    ``record`` (called with a journal entry's fields once per request)."""

    def __init__(
        self,
        *,
        vaults: VaultRegistry,
        clock: Clock,
        directory: Directory,
        record: Callable[[dict[str, Any]], None],
    ) -> None:
        self.vaults = vaults
        self.clock = clock
        self.directory = directory
        self.record = record
        self.state = ArmState()
        """Resource groups, vault resources (active and deleted) and role assignments."""

    def reset(self) -> None:
        self.state.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        host = request.headers.get("Host") or request.host
        entry: dict[str, Any] = {
            "method": request.method,
            "url": f"{request.scheme}://{host}{request.full_path.rstrip('?')}",
            "vault": host,
            "client_request_id": request.headers.get("x-ms-client-request-id"),
            "request_id": str(uuid.uuid4()),
            "time": self.clock.time(),
        }
        started = time.perf_counter()
        try:
            reply = self._dispatch(request, entry, f"{request.scheme}://{host}")
        except ArmError as exc:
            reply = ArmReply(exc.body(), exc.status, exc.headers)
            entry["error_code"] = exc.code
        except KeyVaultError as exc:  # a secret or key refused by the vault itself, in ARM's shape (unverified)
            reply = ArmReply({"error": {"code": exc.code, "message": exc.message}}, exc.status)
            entry["error_code"] = exc.code
        except Exception as exc:  # a bug of ours: ARM's 500, with the traceback kept for the test to read
            operation = entry.get("operation") or "an ARM request"
            message = f"kv-emulator failed on {operation}: {type(exc).__name__}: {exc}"
            reply = ArmReply({"error": {"code": "InternalServerError", "message": message}}, 500)
            entry["error_code"] = "InternalServerError"
            entry["exception"] = traceback.format_exc()
        request_id = entry["request_id"]
        headers = [
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("Expires", "-1"),
            ("x-ms-request-id", request_id),
            ("x-ms-correlation-request-id", request.headers.get("x-ms-correlation-request-id") or request_id),
            ("x-ms-routing-request-id", f"{self.vaults.settings.location.upper()}:{request_id}"),
            ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
            ("X-Content-Type-Options", "nosniff"),
            *reply.headers,
        ]
        if request.method in ("GET", "HEAD"):
            headers.append(("x-ms-ratelimit-remaining-subscription-reads", "11999"))
        else:
            headers.append(("x-ms-ratelimit-remaining-subscription-writes", "1199"))
        payload = b"" if reply.body is None else json.dumps(reply.body, separators=(",", ":")).encode()
        if reply.body is not None:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        headers.append(("Content-Length", str(len(payload))))
        if request.method == "HEAD":
            payload = b""
        entry["status"] = reply.status
        entry["duration"] = time.perf_counter() - started
        self.record(entry)
        start_response(f"{reply.status} {HTTP_STATUS_CODES.get(reply.status, 'Unknown')}", headers)
        return [payload]

    def _dispatch(self, request: Request, entry: dict[str, Any], base_url: str) -> ArmReply:
        settings = self.vaults.settings
        caller = authenticate(
            request.headers.get("Authorization"),
            self.directory,
            tenant_id=settings.tenant_id,
            strict=settings.strict_auth,
            now=self.clock.time(),
        )
        entry["caller"], entry["authorized"] = caller, True
        found = routes.match(request.method, request.path)
        if found is None:
            if routes.allowed_methods(request.path):
                raise ArmError(
                    405,
                    "MethodNotAllowed",  # unverified text
                    f"The requested resource does not support http method '{request.method}'.",
                )
            raise not_implemented("(unknown)", request.method, request.path)
        operation, arguments = found
        entry["operation"] = operation
        entry["api_version"] = version = versions.check(operation, request.args.get("api-version"), settings.location)
        handler = HANDLERS.get(operation)
        if handler is None:
            raise not_implemented(operation, request.method, request.path)
        context = ArmRequest(
            vaults=self.vaults,
            clock=self.clock,
            state=self.state,
            operation=operation,
            method=request.method,
            path=request.path,
            base_url=base_url,
            query=request.args,
            api_version=version,
            caller=caller,
            raw_body=request.get_data(cache=False),
        )
        return handler(context, **arguments)
