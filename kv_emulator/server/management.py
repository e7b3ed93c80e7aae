"""``/_kv/``: the emulator's test controls over HTTP, for processes that cannot hold the Python object.

JSON in, JSON out. Everything maps onto the in-process API (``emulator.clock``, ``emulator.faults``, ...),
so docs/server.md can say "the same as ``kv.faults.add(...)``". With a non-loopback ``--host`` every route
but ``health`` needs ``Authorization: Bearer <--admin-token>``.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .. import seed

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["ManagementApp"]

_RULES = Map(
    [
        Rule("/_kv/health", methods=["GET"], endpoint="health"),
        Rule("/_kv/reset", methods=["POST"], endpoint="reset"),
        Rule("/_kv/clock", methods=["GET"], endpoint="clock"),
        Rule("/_kv/clock/advance", methods=["POST"], endpoint="clock_advance"),
        Rule("/_kv/clock/freeze", methods=["POST"], endpoint="clock_freeze"),
        Rule("/_kv/clock/unfreeze", methods=["POST"], endpoint="clock_unfreeze"),
        Rule("/_kv/clock/virtual", methods=["POST"], endpoint="clock_virtual"),
        Rule("/_kv/faults", methods=["GET"], endpoint="faults"),
        Rule("/_kv/faults", methods=["POST"], endpoint="faults_add"),
        Rule("/_kv/faults/script", methods=["POST"], endpoint="faults_script"),
        Rule("/_kv/faults", methods=["DELETE"], endpoint="faults_clear"),
        Rule("/_kv/throttling", methods=["GET"], endpoint="throttling"),
        Rule("/_kv/throttling", methods=["PUT", "POST"], endpoint="throttling_set"),
        Rule("/_kv/journal", methods=["GET"], endpoint="journal"),
        Rule("/_kv/journal/calls", methods=["GET"], endpoint="journal_calls"),
        Rule("/_kv/journal", methods=["DELETE"], endpoint="journal_clear"),
        Rule("/_kv/audit", methods=["GET"], endpoint="audit"),
        Rule("/_kv/identity/principals", methods=["POST"], endpoint="principal_add"),
        Rule("/_kv/identity/managed-identities", methods=["POST"], endpoint="managed_identity_add"),
        Rule("/_kv/identity/roles", methods=["POST"], endpoint="role_assign"),
        Rule("/_kv/identity/access-policies", methods=["POST"], endpoint="access_policy_set"),
        Rule("/_kv/events", methods=["GET"], endpoint="events"),
        Rule("/_kv/events", methods=["DELETE"], endpoint="events_clear"),
        Rule("/_kv/events/subscriptions", methods=["POST"], endpoint="events_subscribe"),
        Rule("/_kv/events/subscriptions/<name>", methods=["GET"], endpoint="events_subscription"),
        Rule("/_kv/events/subscriptions/<name>", methods=["DELETE"], endpoint="events_unsubscribe"),
        Rule("/_kv/state", methods=["GET"], endpoint="state"),
        Rule("/_kv/state", methods=["PUT"], endpoint="state_put"),
    ],
    strict_slashes=False,
)
_READS = ("GET", "HEAD")


def _fault_json(fault: Any) -> dict[str, Any]:
    fields = ("status", "operation", "method", "path", "times", "every", "probability", "latency", "steps", "hits")
    return {name: getattr(fault, name) for name in fields}


def _entry_json(entry: Any) -> dict[str, Any]:
    data = dataclasses.asdict(entry)
    data.pop("exception", None)
    return data


class ManagementApp:
    """The ``/_kv/`` WSGI app of one :class:`~kv_emulator.server.Server`."""

    def __init__(self, server: Any) -> None:  # the Server it belongs to
        self.server = server

    @property
    def emulator(self) -> Any:
        return self.server.emulator

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, arguments = _RULES.bind_to_environ(environ).match()
            self._authorize(request, str(endpoint))
            handler: Callable[..., Any] = getattr(self, f"_{endpoint}")
            result = handler(request, **arguments)
            if request.method not in _READS:
                self.server.committed()
            response = (
                result if isinstance(result, Response) else Response(json.dumps(result), mimetype="application/json")
            )
        except HTTPException as exc:
            response = self._error(exc.code or 400, exc.description or exc.name)
        except KeyError as exc:
            response = self._error(400, f"missing field {exc}")
        except (ValueError, TypeError, LookupError) as exc:
            response = self._error(400, f"{type(exc).__name__}: {exc}")
        return response(environ, start_response)

    @staticmethod
    def _error(status: int, message: str) -> Response:
        codes = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed", 501: "NotImplemented"}
        code = codes.get(status, str(status))
        body = {"error": {"code": code, "message": message}}
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
    def _json(request: Request) -> dict[str, Any]:
        if not request.get_data():
            return {}
        try:
            body = json.loads(request.get_data())
        except ValueError:
            raise BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    # -- routes ------------------------------------------------------------------------------------

    def _health(self, request: Request) -> dict[str, Any]:
        return {
            "status": "ok",
            "vault_url": self.server.vault_url,
            "url": self.server.url,
            "proxy_url": self.server.proxy_url,
            "persistent": self.server.store is not None,
        }

    def _reset(self, request: Request) -> dict[str, Any]:
        self.emulator.reset()
        return {"status": "reset"}

    def _clock(self, request: Request) -> dict[str, Any]:
        clock = self.emulator.clock
        return {"now": clock.now().isoformat(), "time": clock.time(), "frozen": clock.frozen, "virtual": clock.virtual}

    def _clock_advance(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        seconds = float(body.get("seconds", 0)) + 86400 * float(body.get("days", 0))
        self.emulator.clock.advance(seconds)
        return self._clock(request)

    def _clock_freeze(self, request: Request) -> dict[str, Any]:
        at = self._json(request).get("at")
        self.emulator.clock.freeze(datetime.fromisoformat(at) if at else None)
        return self._clock(request)

    def _clock_unfreeze(self, request: Request) -> dict[str, Any]:
        self.emulator.clock.unfreeze()
        return self._clock(request)

    def _clock_virtual(self, request: Request) -> dict[str, Any]:
        self.emulator.clock.virtual = bool(self._json(request).get("enabled", True))
        return self._clock(request)

    def _faults(self, request: Request) -> list[dict[str, Any]]:
        return [_fault_json(fault) for fault in self.emulator.faults]

    def _faults_add(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        status = body.pop("status", 503)
        return _fault_json(self.emulator.faults.add(status, **body))

    def _faults_script(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        return _fault_json(self.emulator.faults.script(body.pop("operation"), body.pop("steps"), **body))

    def _faults_clear(self, request: Request) -> dict[str, Any]:
        self.emulator.faults.clear()
        return {"status": "cleared"}

    def _throttling(self, request: Request) -> dict[str, Any]:
        s = self.emulator.settings
        return {
            "enabled": s.throttling,
            "scale": s.throttle_scale,
            "limits": s.throttle_limits,
            "retry_after": s.throttle_retry_after,
            "retry_after_header": s.throttle_retry_after_header,
        }

    def _throttling_set(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        self.emulator.throttle(
            bool(body.pop("enabled", True)),
            scale=body.pop("scale", None),
            limits=body.pop("limits", None),
            retry_after_header=body.pop("retry_after_header", None),
            **({"retry_after": body.pop("retry_after")} if "retry_after" in body else {}),
        )
        if body:
            raise BadRequest(f"unknown throttling field(s): {', '.join(sorted(body))}")
        return self._throttling(request)

    def _journal(self, request: Request) -> list[dict[str, Any]]:
        return [_entry_json(entry) for entry in self.emulator.requests]

    def _journal_calls(self, request: Request) -> list[dict[str, Any]]:
        calls = self.emulator.requests.calls(request.args.get("operation"))
        return [
            {"operation": call.operation, "statuses": call.statuses, "retries": call.retries, "delays": call.delays}
            for call in calls
        ]

    def _journal_clear(self, request: Request) -> dict[str, Any]:
        self.emulator.requests.clear()
        return {"status": "cleared"}

    def _audit(self, request: Request) -> Response:
        return Response(self.emulator.audit.to_jsonl(), mimetype="application/x-ndjson")

    def _principal_add(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        principal = self.emulator.identity.add_service_principal(
            body.get("client_id"),
            secret=body.get("secret"),
            federated=bool(body.get("federated", False)),
            tenant_id=body.get("tenant_id"),
            object_id=body.get("object_id"),
            display_name=body.get("display_name", ""),
        )
        return {"client_id": principal.client_id, "object_id": principal.object_id, "tenant_id": principal.tenant_id}

    def _managed_identity_add(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        principal = self.emulator.identity.add_managed_identity(body.get("client_id"), object_id=body.get("object_id"))
        return {"client_id": principal.client_id, "object_id": principal.object_id, "tenant_id": principal.tenant_id}

    def _role_assign(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        vault = self.emulator.vault(body.get("vault"))
        assignment = vault.authorization.assign(body["role"], body["principal"], body.get("scope", "/"))
        return dataclasses.asdict(assignment)

    def _access_policy_set(self, request: Request) -> dict[str, Any]:
        body = self._json(request)
        vault = self.emulator.vault(body.get("vault"))
        policy = vault.authorization.set_access_policy(
            body["principal"],
            secrets=body.get("secrets", ()),
            keys=body.get("keys", ()),
            certificates=body.get("certificates", ()),
        )
        return {k: sorted(v) if isinstance(v, set) else v for k, v in dataclasses.asdict(policy).items()}

    def _events(self, request: Request) -> dict[str, Any]:
        """Every published event (Event Grid schema) and the subscriptions, with counts."""
        events = self.emulator.events
        return {"published": events.published, "subscriptions": [s.to_dict() for s in events.subscriptions]}

    def _events_clear(self, request: Request) -> dict[str, Any]:
        self.emulator.events.clear()
        return {"status": "cleared"}

    def _events_subscribe(self, request: Request) -> Response:
        """A webhook subscription (``endpoint`` required over HTTP: a handler cannot travel); the validation
        handshake runs before the answer, so a 201 means the endpoint accepted it."""
        body = self._json(request)
        if not body.get("endpoint"):
            raise BadRequest("an endpoint is required: over HTTP a subscription delivers to a webhook")
        subscription = self.emulator.events.subscribe_json(body)
        return Response(json.dumps(subscription.to_dict()), status=201, mimetype="application/json")

    def _events_subscription(self, request: Request, name: str) -> dict[str, Any]:
        """One subscription with what it received, its dead letters and its delivery errors."""
        return dict(self._subscription(name).to_dict(events=True))

    def _events_unsubscribe(self, request: Request, name: str) -> dict[str, Any]:
        self.emulator.events.unsubscribe(self._subscription(name))
        return {"status": "deleted", "name": name}

    def _subscription(self, name: str) -> Any:
        try:
            return self.emulator.events.subscription(name)
        except KeyError:
            raise NotFound(f"no event subscription named {name!r}") from None

    def _state(self, request: Request) -> Any:
        return seed.dump(self.emulator)

    def _state_put(self, request: Request) -> dict[str, Any]:
        """Import a state in the seed-file format (``kv_seed``); checked whole before anything is reset."""
        document = seed.load_seed(self._json(request), source="PUT /_kv/state")
        self.emulator.reset()
        seed.apply(self.emulator, document)
        return {"status": "imported", "vaults": len(self.emulator.vaults)}


class _Forbidden(HTTPException):
    code = 403


class _NotImplemented(HTTPException):
    code = 501
