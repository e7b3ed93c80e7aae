"""Fault injection: make chosen requests fail the way a real vault or network can, on demand.

A fault matches requests by operation name, HTTP method and/or path, and fires for the next N matches,
every Nth, or with a seeded probability. It can answer with a status and body (408, 429, 500, 502, 503,
504, or a CAE claims challenge), add latency, or fail at the connection level as the transport would.
``script("GetSecret", [503, 503, "ok"])`` plays a sequence for one operation. Faults are checked after the
challenge and routing, so the SDK's bodiless first request is never the one that fails.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import json
import random
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .routes import OPERATIONS
from .transport import CONNECTION_ERROR, TIMEOUT

__all__ = ["CONNECTION_ERROR", "TIMEOUT", "Fault", "FaultInjector", "Outcome"]

_TRANSIENT_MESSAGES = {
    408: ("RequestTimeout", "The request timed out."),
    429: ("Throttled", "Request was not processed because too many requests were received. Reason: Injected"),
    500: ("InternalServerError", "An internal server error occurred."),
    502: ("BadGateway", "The gateway received an invalid response."),
    503: ("ServiceUnavailable", "The service is unavailable."),
    504: ("GatewayTimeout", "The gateway timed out."),
}
_OPERATION_NAMES = frozenset(op.lower() for _, _, op in OPERATIONS)
_DEFAULT_CLAIMS = {"access_token": {"nbf": {"essential": True, "value": "1700000000"}}}


@dataclasses.dataclass
class Outcome:
    """What a fired fault does to one request: the pipeline answers with it, the door acts out the rest."""

    label: str
    status: int | None = None
    body: Any = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    latency: float = 0.0
    transport_error: str | None = None  # CONNECTION_ERROR or TIMEOUT


@dataclasses.dataclass
class Fault:
    """One injected fault. ``hits`` counts how often it fired."""

    status: int | str | None = 503
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    latency: float = 0.0
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    every: int | None = None
    probability: float | None = None
    seed: int | None = None
    claims: dict[str, Any] | None = None
    steps: list[int | str | None] | None = None
    hits: int = 0
    seen: int = 0
    _rng: random.Random = dataclasses.field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.operation is not None and self.operation.lower() not in _OPERATION_NAMES:
            raise ValueError(f"unknown operation {self.operation!r}: use a spec operationId such as 'GetSecret'")
        if self.seed is not None:
            self._rng.seed(self.seed)
        if isinstance(self.status, str) and self.status not in (CONNECTION_ERROR, TIMEOUT):
            raise ValueError(f"status must be an HTTP status, {CONNECTION_ERROR!r} or {TIMEOUT!r}")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be at least 1")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("probability must be between 0 and 1")

    @property
    def exhausted(self) -> bool:
        if self.steps is not None:
            return self.seen >= len(self.steps)
        return self.times is not None and self.hits >= self.times

    def matches(self, operation: str | None, method: str, path: str) -> bool:
        if self.operation is not None and (operation or "").lower() != self.operation.lower():
            return False
        if self.method is not None and method.upper() != self.method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path.lower(), self.path.lower())

    def fire(self) -> bool:
        """Decide, for a matching request, whether the fault fires this time (and count it)."""
        if self.exhausted:
            return False
        self.seen += 1
        if self.steps is not None:
            step = self.steps[self.seen - 1]
            if step in ("ok", None):
                return False
            self.status = step
            self.hits += 1
            return True
        if self.every is not None and self.seen % self.every:
            return False
        if self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def outcome(self, tenant_id: str) -> Outcome:
        label = f"fault {self.status}" if self.status is not None else "fault latency"
        if self.status in (CONNECTION_ERROR, TIMEOUT):
            return Outcome(label, latency=self.latency, transport_error=str(self.status))
        if self.claims is not None:
            return _claims_challenge(self.claims, tenant_id, self.latency)
        if self.status is None:
            return Outcome(label, latency=self.latency)
        status = int(self.status)
        body = self.body
        if body is None and status in _TRANSIENT_MESSAGES:
            code, message = _TRANSIENT_MESSAGES[status]
            body = {"error": {"code": code, "message": message}}
        return Outcome(label, status, body, list(self.headers.items()), self.latency)


def _claims_challenge(claims: dict[str, Any], tenant_id: str, latency: float) -> Outcome:
    """A CAE claims challenge: 401 whose header carries base64url claims the client must satisfy."""
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    header = (
        f'Bearer realm="", authorization_uri="https://login.microsoftonline.com/{tenant_id}/oauth2/authorize", '
        f'error="insufficient_claims", claims="{encoded}"'
    )
    body = {"error": {"code": "Unauthorized", "message": "AKV10032: Token has insufficient claims."}}  # unverified
    return Outcome("fault claims challenge", 401, body, [("WWW-Authenticate", header)], latency)


class FaultInjector:
    """The faults of one emulator: ``emulator.faults.add(503, operation="GetSecret", times=2)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, status: int | str | None = 503, **options: Any) -> Fault:
        """Inject a fault; see :class:`Fault` for the options (times=None means every match, forever)."""
        fault = Fault(status=status, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def latency(self, seconds: float, **options: Any) -> Fault:
        """Delay matching requests by ``seconds`` (virtual seconds when virtual time is on)."""
        options.setdefault("times", None)
        return self.add(None, latency=seconds, **options)

    def connection_error(self, **options: Any) -> Fault:
        """Fail matching requests before any HTTP answer, as a refused connection would."""
        return self.add(CONNECTION_ERROR, **options)

    def claims_challenge(self, claims: dict[str, Any] | None = None, **options: Any) -> Fault:
        """Answer with a CAE claims challenge (401), which the SDK answers by getting a new token."""
        return self.add(401, claims=claims or _DEFAULT_CLAIMS, **options)

    def script(self, operation: str, steps: Sequence[int | str | None], **options: Any) -> Fault:
        """Play ``steps`` for the next requests of ``operation``, one step each: e.g. ``[503, 503, "ok"]``.

        A step is a status, ``"connection_error"``, ``"timeout"``, or ``"ok"``/``None`` to let the request
        through. The script ends after its last step.
        """
        for step in steps:
            if step not in ("ok", None):
                Fault(status=step)  # validates the step now rather than mid-test
        return self.add(None, operation=operation, steps=list(steps), times=None, **options)

    def match(self, operation: str | None, method: str, path: str, tenant_id: str) -> Outcome | None:
        """The outcome of the first fault that fires for this request, if any."""
        with self._lock:
            for fault in self._faults:
                if not fault.exhausted and fault.matches(operation, method, path) and fault.fire():
                    return fault.outcome(tenant_id)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)
