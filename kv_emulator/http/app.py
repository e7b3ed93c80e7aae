"""The vault pipeline: the one WSGI app behind every door (in-process adapters, the test client, a server).

A request runs through named steps in the service's order, each reading and extending one
:class:`~kv_emulator.http.exchange.Exchange`::

    request id -> challenge/auth -> api-version -> route -> authorization -> faults -> throttle -> handler
               -> render -> journal

The first step that raises a Key Vault error ends the run; the error is rendered in the service's shape
(never HTML, never a bare 500) and the request is journaled whatever happened. Transport faults (latency,
a dropped connection, no answer) are handed to the door as data (:mod:`kv_emulator.http.transport`).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from .. import errors
from ..api import HANDLERS, RECORDS
from ..api.context import Reply, RequestContext
from ..api.hsm_backup import polled_without_version
from ..api.security_domain import check_activated
from ..clock import Clock
from ..encoding import MAX_JSON_DEPTH, json_too_deep
from ..identity.directory import Directory
from ..objects.hsm_rbac import normalize_scope
from ..objects.registry import VaultRegistry
from . import api_versions, auth
from .exchange import Exchange
from .faults import FaultInjector, Outcome
from .headers import new_request_id, service_headers
from .journal import Journal, JournalEntry
from .routes import empty_name, route
from .throttling import Throttler, classify
from .transport import TRANSPORT_KEY, InjectedConnectionError, InjectedTimeout, TransportAct

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["KeyVaultApp"]

_JSON = "application/json; charset=utf-8"
#: Set by a server door for hosts that are not vault hosts (``https://localhost:8443``): the vault host to
#: act on, and the resource its challenge names (a parent of the host the client used, for the SDK's check).
VAULT_HOST_KEY = "kv_emulator.vault_host"
CHALLENGE_RESOURCE_KEY = "kv_emulator.challenge_resource"
#: The request's journal entry, for a door that logs one line per request.
ENTRY_KEY = "kv_emulator.journal_entry"
_RBAC_COLLECTIONS = ("secrets", "keys", "certificates")
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
_QUERY_ARGS: dict[str, Any] = {}
"""Parsed query strings by their text: clients repeat the same few (``api-version=7.6``)."""
_QUERY_ARGS_LIMIT = 512


def _query_args(request: Request) -> Any:
    """``request.args`` (an immutable MultiDict), parsed once per distinct query string."""
    query = request.environ.get("QUERY_STRING", "")
    args = _QUERY_ARGS.get(query)
    if args is None:
        if len(_QUERY_ARGS) >= _QUERY_ARGS_LIMIT:
            _QUERY_ARGS.clear()
        args = _QUERY_ARGS[query] = request.args
    return args


class _InjectedFault(Exception):
    """Ends the steps with an injected answer (a status, or a transport fault for the door)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.label)
        self.outcome = outcome


class KeyVaultApp:
    """WSGI application answering Key Vault data-plane requests, built from the parts it needs."""

    def __init__(
        self,
        *,
        vaults: VaultRegistry,
        clock: Clock,
        journal: Journal,
        faults: FaultInjector,
        throttler: Throttler,
        directory: Directory,
    ) -> None:
        self.vaults = vaults
        self.clock = clock
        self.journal = journal
        self.faults = faults
        self.throttler = throttler
        self.directory = directory
        self.tokens = auth.TokenCache()
        self.after_request: list[Callable[[], None]] = []
        """Called once a request is answered and journaled, its vault's lock released (events out)."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        from_door = environ.get(TRANSPORT_KEY)
        # populate_request=False: the environ must not point back at the request (a reference cycle).
        request = Request(environ, populate_request=False)
        exchange = self.identify(request, from_door if isinstance(from_door, TransportAct) else None)
        started = time.perf_counter()
        try:
            for step in self.STEPS:
                step(self, exchange)
        except _InjectedFault as fault:
            exchange.reply = self._fault_reply(fault.outcome, exchange)
        except errors.KeyVaultError as exc:
            exchange.reply = Reply(exc.body(), exc.status)
            exchange.headers = exc.headers
            exchange.entry.error_code = exc.code
        except Exception as exc:  # a bug of ours: answer like the service would, and keep the traceback
            failure = errors.InternalError(exchange.operation or "unknown", exc)
            exchange.reply = Reply(failure.body(), failure.status)
            exchange.entry.error_code = failure.code
            exchange.entry.exception = traceback.format_exc()
        status, headers, payload = self.render(exchange)
        self.record(exchange, time.perf_counter() - started)
        for hook in self.after_request:
            hook()
        if from_door is None:
            self._act_out(exchange.transport)
        start_response(status, headers)
        return [payload]

    # -- the steps ----------------------------------------------------------------------------------

    def identify(self, request: Request, transport: TransportAct | None) -> Exchange:
        """Request id: a fresh ``x-ms-request-id`` and the journal entry every later step fills in.

        Hot values are read once, from the environ: werkzeug's header and host properties recompute on
        every access, and this runs for every request the emulator answers."""
        environ = request.environ
        host = environ.get("HTTP_HOST") or request.host
        transport = transport or TransportAct()
        entry = JournalEntry(
            method=request.method,
            url=f"{request.scheme}://{host}{request.full_path.rstrip('?')}",
            vault=environ.get(VAULT_HOST_KEY) or host,  # a server door names the vault of localhost
            client_request_id=environ.get("HTTP_X_MS_CLIENT_REQUEST_ID"),
            request_id=new_request_id(),
            time=self.clock.time(),
            delay=transport.client_delay,
        )
        environ[ENTRY_KEY] = entry
        return Exchange(request, entry, transport, self.vaults.settings, host=host, args=_query_args(request))

    def challenge(self, exchange: Exchange) -> None:
        """The vault the host names, then the 401 challenge for a request without a bearer token."""
        settings = exchange.settings
        environ = exchange.request.environ
        vault = exchange.vault = self.vaults.for_host(environ.get(VAULT_HOST_KEY) or exchange.host)
        resource = environ.get(CHALLENGE_RESOURCE_KEY)
        token = auth.bearer_token(environ.get("HTTP_AUTHORIZATION"))
        if token is None:
            raise auth.challenge(
                settings.tenant_id, managed_hsm=vault.managed_hsm, cloud=vault.cloud, resource=resource
            )
        exchange.token = token
        if settings.strict_auth:
            claims = auth.verify_token(
                token,
                self.directory,
                tenant_id=settings.tenant_id,
                managed_hsm=vault.managed_hsm,
                now=self.clock.time(),
                cache=self.tokens,
                cloud=vault.cloud,
                resource=resource,
            )
            exchange.entry.caller = self.tokens.claims(token) or claims
        else:
            exchange.entry.caller = self.tokens.claims(token)
        exchange.entry.authorized = True
        vault.network.check(settings.client_ip or environ.get("REMOTE_ADDR"), exchange.entry.caller)  # networkAcls

    def api_version(self, exchange: Exchange) -> None:
        raw = exchange.args.get("api-version")
        if raw is None and exchange.vault is not None and polled_without_version(exchange.vault, exchange.request.path):
            raw = api_versions.LATEST  # a poller GETs the Azure-AsyncOperation URL as given, without a version
        version = api_versions.resolve(raw, strict=exchange.settings.strict_api_version)
        exchange.version = version
        exchange.entry.api_version = version.requested

    def route(self, exchange: Exchange) -> None:
        """The spec operation the method and path name; a Managed HSM answers keys.json and its administration
        operations only. A path with an empty object name is the service's 405 (``PUT /secrets/``)."""
        request = exchange.request
        assert exchange.vault is not None
        managed_hsm = exchange.vault.managed_hsm
        try:
            operation, arguments = route(request.path, request.method, exchange.version, managed_hsm=managed_hsm)
        except WerkzeugMethodNotAllowed:
            raise errors.MethodNotAllowed(request.method) from None
        except NotFound:
            if empty_name(request.path):
                if request.method == "POST" and request.path.lower().startswith("/keys//"):
                    # recorded: POST /keys//create -> 400 (azure-sdk-assets, Java KeyAsyncClientTest.createKeyEmptyName,
                    # 2023-09, api 7.4); keys differ from secrets and certificates here
                    raise errors.BadParameter("Operation not specified") from None
                raise errors.MethodNotAllowed(request.method) from None
            raise errors.RouteNotFound(request.method, request.path) from None
        if managed_hsm and not RECORDS[operation].on_managed_hsm:
            raise errors.RouteNotFound(request.method, request.path)
        exchange.operation = exchange.entry.operation = operation
        exchange.arguments = arguments

    def authorize(self, exchange: Exchange) -> None:
        """RBAC or access policies, when the vault has them on (see objects/authorization.py), with the permission
        and data action the operation's record declares."""
        assert exchange.vault is not None and exchange.operation is not None
        vault, record = exchange.vault, RECORDS[exchange.operation]
        if vault.managed_hsm:  # local RBAC alone (objects/hsm_rbac.py), on when the vault's checks are
            if vault.authorization.rbac is not None:
                scope = exchange.arguments.get("scope")
                scope = normalize_scope(scope) if scope is not None else self._scope(exchange)
                vault.access_control.check(record.hsm_action, exchange.entry.caller, scope, exchange.entry.request_id)
            return
        vault.authorization.check(record.permission, record.action, exchange.entry.caller, self._scope(exchange))

    def inject_faults(self, exchange: Exchange) -> None:
        """The first injected fault that fires for this request: latency, a status, or a transport fault."""
        request = exchange.request
        outcome = self.faults.match(exchange.operation, request.method, request.path, exchange.settings.tenant_id)
        if outcome is None:
            return
        exchange.entry.injected = outcome.label
        if outcome.latency > 0:
            if self.clock.virtual:
                self.clock.advance(outcome.latency)
            else:
                exchange.transport.latency += outcome.latency
        if outcome.status is not None or outcome.transport_error:
            raise _InjectedFault(outcome)

    def throttle(self, exchange: Exchange) -> None:
        """Service limits (when ``throttling`` is on): count the transaction or answer the exact 429."""
        request = exchange.request
        # A bodiless request (most reads) skips werkzeug's stream wrapping.
        environ = request.environ
        has_body = environ.get("CONTENT_LENGTH", "0") not in ("", "0") or (
            "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        )
        exchange.raw_body = request.get_data(cache=False) if has_body else b""
        if json_too_deep(exchange.raw_body):  # before anything parses it: Python's parser would recurse and fail
            # Unverified text: the service's answer to a deeply nested body is not recorded.
            raise errors.BadParameter(
                f"The request body is not valid JSON: it nests arrays and objects deeper than {MAX_JSON_DEPTH} levels."
            )
        settings = exchange.settings
        if not settings.throttling:
            return
        assert exchange.vault is not None and exchange.operation is not None
        name, version = exchange.arguments.get("name"), exchange.arguments.get("version")
        record = RECORDS[exchange.operation]
        transaction, weight = classify(record.throttle, exchange.vault, name, version, lambda: self._json(exchange))
        entry, now = exchange.entry, self.clock.time()
        entry.transaction_class, entry.window_limit = transaction, self.throttler.limit(settings, transaction)
        try:
            self.throttler.admit(settings, exchange.vault.url, transaction, weight, now)
        except errors.Throttled:
            entry.throttled = True
            raise
        finally:
            entry.window_used = self.throttler.used(exchange.vault.url, transaction, now)

    def handle(self, exchange: Exchange) -> None:
        """The vault caught up with the clock (purges, rotations, renewals that came due), then the operation's
        handler, or a loud 501 naming the operation."""
        assert exchange.vault is not None and exchange.operation is not None and exchange.version is not None
        handler = HANDLERS.get(exchange.operation)
        if handler is None:
            raise errors.OperationNotImplemented(exchange.operation)
        check_activated(exchange.vault, exchange.operation)  # a Managed HSM answers little before activation
        exchange.vault.catch_up(self.clock.time())
        context = RequestContext(
            vault=exchange.vault,
            base_url=f"{exchange.request.scheme}://{exchange.host}",
            path=exchange.request.path,
            api_version=exchange.version,
            query=exchange.args,
            raw_body=exchange.raw_body,
            request_id=exchange.entry.request_id,
        )
        try:
            exchange.reply = handler(context, **exchange.arguments)
        except errors.ObjectAlreadyExists as exc:  # the service names the backed-up version by its full id
            raise exc.at(context.base_url) from None

    def render(self, exchange: Exchange) -> tuple[str, list[tuple[str, str]], bytes]:
        """Status line, the service's headers and the body bytes."""
        reply = exchange.reply or Reply(None, 500)
        headers = service_headers(
            request_id=exchange.entry.request_id,
            client_request_id=exchange.entry.client_request_id,
            region=exchange.settings.location,
        )
        headers.extend(exchange.headers)
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
        payload = _COMPACT_JSON.encode(reply.body).encode()
        headers.append(("Content-Type", _JSON))
        headers.append(("Content-Length", str(len(payload))))
        return status, headers, payload

    def record(self, exchange: Exchange, duration: float) -> None:
        """Journal: the status the client saw (0 when the transport failed and it saw none)."""
        entry = exchange.entry
        entry.status = 0 if exchange.transport.error else (exchange.reply.status if exchange.reply else 500)
        entry.duration = duration
        entry.retry_after = _retry_after(exchange)
        self.journal.record(entry)

    STEPS: tuple[Callable[[KeyVaultApp, Exchange], None], ...] = (
        challenge,
        api_version,
        route,
        authorize,
        inject_faults,
        throttle,
        handle,
    )
    """The steps after the request id, in order; each may raise a Key Vault error to answer early.
    (Functions, not bound methods: an app holding its own bound methods would be a reference cycle.)"""

    # -- helpers ------------------------------------------------------------------------------------

    @staticmethod
    def _scope(exchange: Exchange) -> str:
        """The object a request acts on, as an RBAC scope: ``/secrets/name`` (deleted objects included).

        Certificate issuers and contacts belong to the vault, not to a certificate: their scope is the vault's
        (``/certificates/issuers/foo`` is not the certificate ``foo``)."""
        segments = exchange.request.path.strip("/").lower().split("/")
        collection = segments[0].removeprefix("deleted")
        name = exchange.arguments.get("name")
        if collection == "certificates" and len(segments) > 1 and segments[1] in ("issuers", "contacts"):
            return "/"
        return f"/{collection}/{name.lower()}" if name and collection in _RBAC_COLLECTIONS else "/"

    @staticmethod
    def _json(exchange: Exchange) -> dict[str, Any]:
        """The body as a JSON object for classification; ``{}`` when it is none (the handler will say why)."""
        try:
            document = json.loads(exchange.raw_body) if exchange.raw_body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return {}
        return document if isinstance(document, dict) else {}

    @staticmethod
    def _fault_reply(outcome: Outcome, exchange: Exchange) -> Reply:
        exchange.headers = list(outcome.headers)
        if outcome.transport_error:
            exchange.transport.error = outcome.transport_error  # the door fails the way its transport would
            return Reply(None, 503)  # never seen by a client
        status = outcome.status or 500
        body = outcome.body
        if isinstance(body, dict):
            exchange.entry.error_code = body.get("error", {}).get("code")
        if isinstance(body, dict) or body is None:
            return Reply(body, status)
        raw = body.encode() if isinstance(body, str) else bytes(body)
        return Reply(None, status, raw=raw)

    @staticmethod
    def _act_out(transport: TransportAct) -> None:
        """No door took the transport faults: act them out here (a plain WSGI caller such as a test client)."""
        if transport.latency > 0:
            time.sleep(transport.latency)
        if transport.error == "timeout":
            raise InjectedTimeout("kv-emulator: injected timeout (no answer)")
        if transport.error:
            raise InjectedConnectionError("kv-emulator: injected connection failure")


def _retry_after(exchange: Exchange) -> float | None:
    """The wait the answer asked for, in seconds: ``Retry-After`` (seconds) or ``*retry-after-ms``."""
    extra = exchange.reply.headers if exchange.reply else []
    for name, value in [*exchange.headers, *extra]:
        lowered = name.lower()
        try:
            if lowered == "retry-after":
                return float(value)
            if lowered.endswith("retry-after-ms"):
                return float(value) / 1000
        except ValueError:
            return None
    return None
