"""The one WSGI app behind every door: in-process adapters, the werkzeug test client, a server.

Each request goes through the same steps, in the service's order: vault lookup, challenge, api-version,
route, handler. Every answer is JSON in the Key Vault error shape when it is an error, never HTML, and
every request is recorded in the journal.
"""

from __future__ import annotations

import json
import time
import traceback
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from .. import errors
from ..api import HANDLERS
from . import api_versions, auth
from .context import Reply, RequestContext
from .faults import Outcome
from .headers import service_headers
from .journal import JournalEntry
from .routes import KEY_OPERATIONS, build_map, route
from .throttling import Throttled, classify

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ..emulator import Emulator

__all__ = ["KeyVaultApp"]

_JSON = "application/json; charset=utf-8"

#: WSGI environ keys shared with the in-process adapters (the one way faults reach the transport).
DELAY_KEY = "kv_emulator.delay"
LATENCY_KEY = "kv_emulator.latency"
TRANSPORT_ERROR_KEY = "kv_emulator.transport_error"


def _object_path(path: str, arguments: dict[str, Any]) -> str:
    """The object a request acts on, as an RBAC scope: ``/secrets/name`` (deleted objects included)."""
    collection = path.strip("/").split("/", 1)[0].lower().removeprefix("deleted")
    name = arguments.get("name")
    return f"/{collection}/{name.lower()}" if name and collection in ("secrets", "keys", "certificates") else "/"


class InjectedFault(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.label)
        self.outcome = outcome


class KeyVaultApp:
    """WSGI application answering Key Vault data-plane requests for one :class:`~kv_emulator.Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.url_map = build_map()

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
        extra_headers: list[tuple[str, str]] = []
        entry.delay = environ.get(DELAY_KEY)
        try:
            reply = self._dispatch(request, entry)
        except InjectedFault as fault:
            reply = self._fault_reply(fault.outcome, environ)
            extra_headers = fault.outcome.headers
            entry.error_code = (reply.body or {}).get("error", {}).get("code")
        except errors.KeyVaultError as exc:
            reply = Reply(exc.body(), exc.status)
            entry.error_code = exc.code
            extra_headers = getattr(exc, "headers", [])
        except Exception as exc:  # a bug of ours: answer like the service would, and keep the traceback
            failure = errors.InternalError(entry.operation or "unknown", exc)
            reply = Reply(failure.body(), failure.status)
            entry.error_code = failure.code
            entry.exception = traceback.format_exc()
        status, headers, payload = self._render(reply, entry, extra_headers)
        entry.status = 0 if TRANSPORT_ERROR_KEY in environ else reply.status
        entry.duration = time.perf_counter() - started
        self.emulator.requests.record(entry)
        start_response(status, headers)
        return [payload]

    def _dispatch(self, request: Request, entry: JournalEntry) -> Reply:
        vault = self.emulator.vault_for_host(request.host)
        settings = self.emulator.settings
        token = auth.bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise auth.MissingToken(settings.tenant_id, managed_hsm=vault.managed_hsm)
        if settings.strict_auth:
            claims = auth.verify_token(
                token,
                self.emulator.identity,
                tenant_id=settings.tenant_id,
                managed_hsm=vault.managed_hsm,
                now=self.emulator.clock.time(),
            )
            entry.caller = auth.caller_claims(token) or claims
        else:
            entry.caller = auth.caller_claims(token)
        entry.authorized = True
        version = api_versions.resolve(
            request.args.get("api-version"), strict=self.emulator.settings.strict_api_version
        )
        entry.api_version = version.requested
        operation, arguments = self._route(request)
        entry.operation = operation
        if vault.managed_hsm and operation not in KEY_OPERATIONS:
            entry.operation = None
            raise errors.RouteNotFound(request.method, request.path)  # a Managed HSM has keys only
        vault.authorization.check(operation, entry.caller, _object_path(request.path, arguments))
        outcome = self.emulator.faults.match(operation, request.method, request.path, settings.tenant_id)
        if outcome is not None:
            entry.injected = outcome.label
            self._wait(outcome.latency, request.environ)
            if outcome.status is not None or outcome.transport_error:
                raise InjectedFault(outcome)
        raw_body = request.get_data(cache=False)
        if settings.throttling:
            transaction, weight = classify(operation, vault, arguments.get("name"), arguments.get("version"), raw_body)
            try:
                self.emulator.throttler.admit(settings, vault.name, transaction, weight, self.emulator.clock.time())
            except Throttled:
                entry.throttled = True
                raise
        handler = HANDLERS.get(operation)
        if handler is None:
            raise errors.OperationNotImplemented(operation)
        context = RequestContext(
            operation=operation,
            vault=vault,
            # The Host header verbatim: werkzeug's request.host would drop an explicit ":443".
            base_url=f"{request.scheme}://{entry.vault}",
            path=request.path,
            api_version=version,
            query=request.args,
            raw_body=raw_body,
            clock=self.emulator.clock,
        )
        return handler(context, **arguments)

    def _route(self, request: Request) -> tuple[str, dict[str, Any]]:
        try:
            endpoint, arguments = route(request.path, request.method)
        except WerkzeugMethodNotAllowed as exc:
            raise errors.MethodNotAllowed(request.method, request.path, list(exc.valid_methods or [])) from None
        except NotFound:
            raise errors.RouteNotFound(request.method, request.path) from None
        return endpoint, arguments

    def _wait(self, seconds: float, environ: WSGIEnvironment) -> None:
        """Injected latency: on the emulator's clock in virtual time, else left to the adapter to wait out
        (a sync sleep here would block an async client's event loop)."""
        if seconds <= 0:
            return
        if self.emulator.clock.virtual:
            self.emulator.clock.advance(seconds)
        else:
            environ[LATENCY_KEY] = environ.get(LATENCY_KEY, 0.0) + seconds

    @staticmethod
    def _fault_reply(outcome: Outcome, environ: WSGIEnvironment) -> Reply:
        if outcome.transport_error:
            environ[TRANSPORT_ERROR_KEY] = outcome.transport_error  # the adapter raises the transport's error
            return Reply(None, 503)
        status = outcome.status or 500
        if isinstance(outcome.body, dict) or outcome.body is None:
            return Reply(outcome.body, status)
        raw = outcome.body.encode() if isinstance(outcome.body, str) else bytes(outcome.body)
        return Reply(None, status, raw=raw)

    def _render(
        self, reply: Reply, entry: JournalEntry, extra: list[tuple[str, str]]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        headers = service_headers(
            request_id=entry.request_id,
            client_request_id=entry.client_request_id,
            region=self.emulator.settings.location,
        )
        headers.extend(extra)
        headers.extend(reply.headers)
        status = f"{reply.status} {HTTP_STATUS_CODES.get(reply.status, 'Unknown')}"
        if reply.raw is not None:
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("Content-Type", "text/plain; charset=utf-8"))
            headers.append(("Content-Length", str(len(reply.raw))))
            return status, headers, reply.raw
        if reply.body is None:
            headers.append(("Content-Length", "0"))
            return status, headers, b""
        payload = json.dumps(reply.body, separators=(",", ":")).encode()
        headers.append(("Content-Type", _JSON))
        headers.append(("Content-Length", str(len(payload))))
        return status, headers, payload
