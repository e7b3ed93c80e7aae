"""``/_kv/``: the emulator's test controls over HTTP, for processes that cannot hold the Python object.

JSON in, JSON out. Everything maps onto the in-process API (``emulator.clock``, ``emulator.faults``, ...),
so docs/server.md can say "the same as ``kv.faults.add(...)``". The routes and the schema of every body come
from one OpenAPI document (:mod:`.management_spec`, served at ``/_kv/openapi.json``): a body with an unknown
field or a wrong value is a 400 naming it. With a non-loopback ``--host`` every route but ``health`` needs
``Authorization: Bearer <--admin-token>``.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .. import seed
from .management_routes import IdentityRoutes
from .management_spec import DOCUMENT, MAX_CLOCK_YEAR, operations
from .ui import PREFIX as UI_PREFIX
from .ui import UiApp
from .validate import BodyError, check, parse_time

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["ControlApi"]


def _rules() -> Map:
    """The document's paths as werkzeug rules: ``/{name}`` becomes ``/<name>``; endpoint = operationId."""
    rules = [
        Rule(re.sub(r"\{(\w+)\}", r"<\1>", path), methods=[method.upper()], endpoint=spec["operationId"])
        for path, method, spec in operations()
    ]
    return Map(rules, strict_slashes=False)


_RULES = _rules()
_BODIES: dict[str, Any] = {
    spec["operationId"]: spec["requestBody"]["content"]["application/json"]["schema"]
    for _, _, spec in operations()
    if "requestBody" in spec
}
_READS = ("GET", "HEAD")
_CODES = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_LATEST = datetime(MAX_CLOCK_YEAR, 1, 1, tzinfo=timezone.utc).timestamp()
_FAULT_FIELDS = ("status", "operation", "method", "path", "times", "every", "probability", "latency", "steps", "hits")


def _fault_json(fault: Any) -> dict[str, Any]:
    return {name: getattr(fault, name) for name in _FAULT_FIELDS}


def _entry_json(entry: Any) -> dict[str, Any]:
    data = dataclasses.asdict(entry)
    data.pop("exception", None)
    return data


def _method_text(request: Request) -> str:
    return f"{request.method} {request.path}"


class ControlApi(IdentityRoutes):
    """The ``/_kv/`` control API (a WSGI app) of one :class:`~kv_emulator.server.Server`; Azure Resource Manager's
    emulation is :class:`kv_emulator.management.ManagementApp`."""

    def __init__(self, server: Any) -> None:  # the Server it belongs to
        self.server = server
        self.ui = UiApp(self)
        """``/_kv/ui/``: the web view (HTML, not part of the JSON API or its document)."""

    @property
    def emulator(self) -> Any:
        return self.server.emulator

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(UI_PREFIX):
            return self.ui(environ, start_response)
        request = Request(environ)
        try:
            endpoint, arguments = _RULES.bind_to_environ(environ).match()
            self._authorize(request, str(endpoint))
            body = self._body(request, str(endpoint))
            handler: Callable[..., Any] = getattr(self, f"_{endpoint}")
            result = handler(request, body, **arguments)
            if request.method not in _READS:
                self.server.committed()
            response = (
                result if isinstance(result, Response) else Response(json.dumps(result), mimetype="application/json")
            )
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(set(exc.valid_methods or ()) - {"HEAD"}))
            response = self._error(405, f"{request.path} does not take {request.method}; it takes {allowed}")
        except HTTPException as exc:
            response = self._error(exc.code or 400, exc.description or exc.name)
        except KeyError as exc:  # a name the emulator does not know
            response = self._error(404, f"not found: {exc.args[0] if exc.args else ''}")
        except (ValueError, TypeError, LookupError, OverflowError) as exc:  # the in-process API's own words
            response = self._error(400, str(exc))
        return response(environ, start_response)

    def run(self, endpoint: str, body: dict[str, Any], request: Request) -> Any:
        """Run one route's handler with ``body`` checked against its schema: the web view's forms."""
        schema = _BODIES.get(endpoint)
        if schema is not None:
            try:
                check(body, schema)
            except BodyError as exc:
                raise BadRequest(str(exc)) from None
        result = getattr(self, f"_{endpoint}")(request, body)
        self.server.committed()
        return result

    @staticmethod
    def _error(status: int, message: str) -> Response:
        body = {"error": {"code": _CODES.get(status, str(status)), "message": message}}
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _authorize(self, request: Request, endpoint: str) -> None:
        if endpoint == "health":
            return
        token = self.server.options.admin_token
        if token is None:
            if self.server.options.loopback:
                return
            raise _Forbidden("the management API on a non-loopback --host needs --admin-token")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise _Forbidden("Authorization: Bearer <admin token> required")

    @staticmethod
    def _body(request: Request, endpoint: str) -> dict[str, Any]:
        """The JSON object the route takes, checked against its schema; ``{}`` for no body."""
        raw = request.get_data()
        if not raw.strip():
            body: Any = {}
        else:
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                raise BadRequest("the body is not JSON") from None
        schema = _BODIES.get(endpoint)
        if schema is None:
            if body not in ({}, None):
                raise BadRequest(f"{_method_text(request)} takes no body")
            return {}
        if not isinstance(body, dict):
            raise BadRequest(f"the body of {_method_text(request)} must be a JSON object")
        if "anyOf" in schema:  # the option whose required fields the body has (a state document has "format")
            schema = next((o for o in schema["anyOf"] if set(o.get("required", ())) <= set(body)), schema)
        try:
            check(body, schema)
        except BodyError as exc:
            raise BadRequest(f"{_method_text(request)}: {exc}") from None
        return body

    # -- routes ------------------------------------------------------------------------------------

    def _health(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": "ok",
            "vault_url": self.server.vault_url,
            "url": self.server.url,
            "proxy_url": self.server.proxy_url,
            "persistent": self.server.store is not None,
        }

    def _openapi(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return DOCUMENT

    def _reset(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.reset()
        return {"status": "reset"}

    def _clock(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        clock = self.emulator.clock
        return {"now": clock.now().isoformat(), "time": clock.time(), "frozen": clock.frozen, "virtual": clock.virtual}

    def _clock_advance(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        seconds = float(body.get("seconds", 0)) + 86400 * float(body.get("days", 0))
        if self.emulator.clock.time() + seconds >= _LATEST:
            raise BadRequest(f"the clock cannot move past the year {MAX_CLOCK_YEAR}")
        self.emulator.clock.advance(seconds)
        return self._clock(request, body)

    def _clock_freeze(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.clock.freeze(self._instant(body["at"], "at") if "at" in body else None)
        return self._clock(request, body)

    @staticmethod
    def _instant(text: str, field: str) -> datetime:
        at = parse_time(text)
        if not 0 <= at.timestamp() < _LATEST:
            raise BadRequest(f"{field!r} must be between 1970 and the year {MAX_CLOCK_YEAR}, got {text!r}")
        return at

    def _clock_unfreeze(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.clock.unfreeze()
        return self._clock(request, body)

    def _clock_virtual(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.clock.virtual = body.get("enabled", True)
        return self._clock(request, body)

    def _faults(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_fault_json(fault) for fault in self.emulator.faults]

    @staticmethod
    def _check_headers(body: dict[str, Any]) -> None:
        for name, value in body.get("headers", {}).items():
            if not _HEADER_NAME.match(name) or "\r" in value or "\n" in value:
                raise BadRequest(f"'headers' has a name or value HTTP cannot carry: {name!r}")

    def _faults_add(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self._check_headers(body)
        status = body.pop("status", 503)
        return _fault_json(self.emulator.faults.add(status, **body))

    def _faults_script(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self._check_headers(body)
        return _fault_json(self.emulator.faults.script(body.pop("operation"), body.pop("steps"), **body))

    def _faults_clear(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.faults.clear()
        return {"status": "cleared"}

    def _throttling(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        s = self.emulator.settings
        return {
            "enabled": s.throttling,
            "scale": s.throttle_scale,
            "limits": s.throttle_limits,
            "retry_after": s.throttle_retry_after,
            "retry_after_header": s.throttle_retry_after_header,
        }

    def _throttling_set(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.throttle(
            body.get("enabled", True),
            scale=body.get("scale"),
            limits=body.get("limits"),
            retry_after_header=body.get("retry_after_header"),
            **({"retry_after": body["retry_after"]} if "retry_after" in body else {}),
        )
        return self._throttling(request, body)

    _throttling_set_post = _throttling_set

    def _journal(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_entry_json(entry) for entry in self.emulator.requests]

    def _journal_calls(self, request: Request, body: dict[str, Any]) -> list[dict[str, Any]]:
        calls = self.emulator.requests.calls(request.args.get("operation"))
        return [
            {"operation": call.operation, "statuses": call.statuses, "retries": call.retries, "delays": call.delays}
            for call in calls
        ]

    def _journal_clear(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.emulator.requests.clear()
        return {"status": "cleared"}

    def _audit(self, request: Request, body: dict[str, Any]) -> Response:
        return Response(self.emulator.audit.to_jsonl(), mimetype="application/x-ndjson")

    def _state(self, request: Request, body: dict[str, Any]) -> Any:
        """The vaults as a seed document, or with ``?full=true`` the whole state (docs/state.md)."""
        if request.args.get("full", "").lower() in ("1", "true", "yes"):
            return self.emulator.export_state()
        return seed.dump(self.emulator)

    def _state_put(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the vaults with a seed document (checked whole before anything changes); the clock is set
        only when the document has a ``clock``, else it keeps its time. A state document (``format``)
        replaces the whole state, its clock included."""
        if "format" in body:
            self.emulator.import_state(seed.load_seed(body, source="PUT /_kv/state").state or {})
            self.emulator.identity.identity_header = self.server.identity_header  # the printed env stays valid
            return {"status": "imported", "vaults": len(self.emulator.vaults)}
        clock = body.pop("clock", None)
        at = self._instant(clock["now"], "clock.now") if clock is not None else None
        document = seed.load_seed(body, source="PUT /_kv/state")
        kept = self._clock_state()
        self.emulator.reset()
        if clock is not None:
            self._set_clock(at, frozen=clock.get("frozen", False), virtual=clock.get("virtual"))
        else:
            self._restore_clock(kept)
        seed.apply(self.emulator, document)
        return {"status": "imported", "vaults": len(self.emulator.vaults)}

    def _clock_state(self) -> tuple[float, bool, float, bool]:
        clock = self.emulator.clock
        return clock.time(), clock.frozen, time.time(), abs(clock.time() - time.time()) > 0.001

    def _restore_clock(self, kept: tuple[float, bool, float, bool]) -> None:
        """Put the clock back where it was before a reset (a running clock keeps running)."""
        at, frozen, wall, moved = kept
        if frozen:
            self.emulator.clock.freeze(datetime.fromtimestamp(at, tz=timezone.utc))
        elif moved:
            self._set_clock(datetime.fromtimestamp(at + time.time() - wall, tz=timezone.utc), frozen=False)

    def _set_clock(self, at: datetime | None, *, frozen: bool, virtual: bool | None = None) -> None:
        clock = self.emulator.clock
        clock.freeze(at)
        if not frozen:
            clock.unfreeze()
        if virtual is not None:
            clock.virtual = virtual


class _Forbidden(HTTPException):
    code = 403
