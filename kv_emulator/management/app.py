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
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from ..http.journal import JournalEntry
from . import platform, roles, routes, vaults, versions
from .auth import authenticate
from .context import ArmReply, ArmRequest
from .errors import ArmError, not_implemented
from .state import ArmState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..emulator import Emulator

__all__ = ["MANAGEMENT_HOSTS", "ManagementApp", "is_management_url"]

#: ARM's hosts: the public cloud, Azure China and Azure US Government.
MANAGEMENT_HOSTS = ("management.azure.com", "management.chinacloudapi.cn", "management.usgovcloudapi.net")

HANDLERS: dict[str, Callable[..., ArmReply]] = {**platform.HANDLERS, **vaults.HANDLERS, **roles.HANDLERS}


def is_management_url(url: str) -> bool:
    """ARM over https on the default port."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() in MANAGEMENT_HOSTS and parts.port in (None, 443)


class ManagementApp:
    """WSGI application answering Azure Resource Manager requests for one :class:`~kv_emulator.Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.state = ArmState()
        """Resource groups, vault resources (active and deleted) and role assignments."""

    def reset(self) -> None:
        self.state.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        host = request.headers.get("Host") or request.host
        entry = JournalEntry(
            method=request.method,
            url=f"{request.scheme}://{host}{request.full_path.rstrip('?')}",
            vault=host,
            client_request_id=request.headers.get("x-ms-client-request-id"),
            request_id=str(uuid.uuid4()),
            time=self.emulator.clock.time(),
        )
        started = time.perf_counter()
        headers: list[tuple[str, str]] = []
        try:
            reply = self._dispatch(request, entry, f"{request.scheme}://{host}")
        except ArmError as exc:
            reply = ArmReply(exc.body(), exc.status, exc.headers)
            entry.error_code = exc.code
        except Exception as exc:  # a bug of ours: ARM's 500, with the traceback kept for the test to read
            reply = ArmReply(
                {
                    "error": {
                        "code": "InternalServerError",
                        "message": f"kv-emulator failed on {entry.operation or 'an ARM request'}: "
                        f"{type(exc).__name__}: {exc}",
                    }
                },
                500,
            )
            entry.error_code = "InternalServerError"
            entry.exception = traceback.format_exc()
        correlation = request.headers.get("x-ms-correlation-request-id") or entry.request_id
        headers = [
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("Expires", "-1"),
            ("x-ms-request-id", entry.request_id),
            ("x-ms-correlation-request-id", correlation),
            ("x-ms-routing-request-id", f"{self.emulator.settings.location.upper()}:{entry.request_id}"),
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
        entry.status = reply.status
        entry.duration = time.perf_counter() - started
        self.emulator.requests.record(entry)
        start_response(f"{reply.status} {HTTP_STATUS_CODES.get(reply.status, 'Unknown')}", headers)
        return [payload]

    def _dispatch(self, request: Request, entry: JournalEntry, base_url: str) -> ArmReply:
        settings = self.emulator.settings
        entry.caller = authenticate(
            request.headers.get("Authorization"),
            self.emulator.identity,
            tenant_id=settings.tenant_id,
            strict=settings.strict_auth,
            now=self.emulator.clock.time(),
        )
        entry.authorized = True
        found = routes.match(request.method, request.path)
        if found is None:
            allowed = routes.allowed_methods(request.path)
            if allowed:
                raise ArmError(
                    405,
                    "MethodNotAllowed",  # unverified text
                    f"The requested resource does not support http method '{request.method}'.",
                )
            raise not_implemented("(unknown)", request.method, request.path)
        operation, arguments = found
        entry.operation = operation
        entry.api_version = versions.check(operation, request.args.get("api-version"), settings.location)
        handler = HANDLERS.get(operation)
        if handler is None:
            raise not_implemented(operation, request.method, request.path)
        context = ArmRequest(
            emulator=self.emulator,
            state=self.state,
            operation=operation,
            method=request.method,
            path=request.path,
            base_url=base_url,
            query=request.args,
            api_version=entry.api_version,
            caller=entry.caller or {},
            raw_body=request.get_data(cache=False),
        )
        return handler(context, **arguments)
