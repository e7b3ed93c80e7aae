"""Webhook delivery as Event Grid does it: the validation handshake, then POSTs, retries and dead letters.

Retries follow Event Grid's documented schedule (10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h,
then every 12 h) within the default time to live (24 h) and 30 attempts, on the emulator's clock: nothing
sleeps, a retry is due once the clock reaches it (``clock.advance(hours=1)`` runs the ones due by then).
Status codes Event Grid does not retry (400, 401, 403, 404, 413) dead-letter at once. Posts go out with
``requests``, so a test's own ``responses`` mock or a real server on 127.0.0.1 can answer them.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import requests

from .shapes import format_time
from .subscriptions import Subscription

__all__ = ["RETRY_DELAYS", "Delivery", "post_event", "validate_endpoint"]

RETRY_DELAYS = (10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600)
EVERY_AFTER = 12 * 3600
TIME_TO_LIVE = 24 * 3600
MAX_ATTEMPTS = 30
TIMEOUT = 30.0  # Event Grid waits 30 s for an answer
_SUCCESS = range(200, 205)
_NOT_RETRIED = frozenset({400, 401, 403, 404, 413})
# lastDeliveryOutcome words per status (unverified beyond the documented examples).
_OUTCOMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "TimedOut", 429: "Busy"}
ORIGIN = "eventgrid.azure.net"


def _headers(subscription: Subscription, event_type: str, delivery_count: int | None) -> dict[str, str]:
    headers = {
        "Content-Type": (
            "application/cloudevents+json; charset=utf-8"
            if subscription.schema == "cloudevents"
            else "application/json; charset=utf-8"
        ),
        "aeg-event-type": event_type,
        "aeg-subscription-name": subscription.name.upper(),  # Event Grid sends the name in capitals
        "aeg-data-version": "1",
        "aeg-metadata-version": "1",
    }
    if delivery_count is not None:
        headers["aeg-delivery-count"] = str(delivery_count)
    return headers


def validate_endpoint(subscription: Subscription, topic: str, now: float) -> None:
    """The handshake before any event: ``ValueError`` (and no subscription) unless the endpoint answers it.

    Event Grid schema: a ``SubscriptionValidationEvent`` whose ``validationCode`` must come back as
    ``{"validationResponse": code}``. CloudEvents: the CloudEvents webhook abuse-protection ``OPTIONS``
    request, answered with ``WebHook-Allowed-Origin``.
    """
    url = subscription.endpoint
    assert url is not None
    try:
        if subscription.schema == "cloudevents":
            answer = requests.options(
                url, headers={"WebHook-Request-Origin": ORIGIN, "WebHook-Request-Rate": "120"}, timeout=TIMEOUT
            )
            allowed = answer.headers.get("WebHook-Allowed-Origin", "")
            if answer.status_code in _SUCCESS and allowed in (ORIGIN, "*"):
                return
            problem = f"answered {answer.status_code} with WebHook-Allowed-Origin {allowed!r}"
        else:
            code = str(uuid.uuid4()).upper()
            body = [
                {
                    "id": str(uuid.uuid4()),
                    "topic": topic,
                    "subject": "",
                    "data": {"validationCode": code},
                    "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                    "eventTime": format_time(now),
                    "metadataVersion": "1",
                    "dataVersion": "1",
                }
            ]
            headers = _headers(subscription, "SubscriptionValidation", None)
            answer = requests.post(url, data=json.dumps(body).encode(), headers=headers, timeout=TIMEOUT)
            try:
                echoed = answer.json().get("validationResponse")
            except (ValueError, AttributeError):
                echoed = None
            if answer.status_code in _SUCCESS and echoed == code:
                return
            problem = f"answered {answer.status_code} {answer.text[:200]!r} instead of the validationResponse"
    except requests.RequestException as exc:
        problem = f"could not be reached ({exc})"
    raise ValueError(f"webhook validation failed: {url} {problem}")


def post_event(subscription: Subscription, rendered: dict[str, Any], delivery_count: int) -> tuple[int | None, str]:
    """One delivery attempt: (status or None, outcome word)."""
    url = subscription.endpoint
    assert url is not None
    payload: Any = rendered if subscription.schema == "cloudevents" else [rendered]
    headers = _headers(subscription, "Notification", delivery_count)
    try:
        answer = requests.post(url, data=json.dumps(payload).encode(), headers=headers, timeout=TIMEOUT)
    except requests.Timeout:
        return None, "TimedOut"
    except requests.RequestException:
        return None, "GenericError"
    status = answer.status_code
    if status in _SUCCESS:
        return status, "Succeeded"
    return status, _OUTCOMES.get(status, "GenericError")


@dataclasses.dataclass
class Delivery:
    """One event on its way to one webhook: attempts so far and when the next one is due."""

    subscription: Subscription
    rendered: dict[str, Any]
    published: float
    due: float
    attempts: int = 0
    status: int | None = None
    outcome: str = ""

    def attempt(self) -> bool:
        """Post now (at virtual time ``due``); True when finished (delivered or dead-lettered)."""
        self.status, self.outcome = post_event(self.subscription, self.rendered, self.attempts)
        self.attempts += 1
        if self.outcome == "Succeeded":
            return True
        if self.status in _NOT_RETRIED:
            return self._dead_letter("NonRetriableError")  # reason text unverified
        delay = RETRY_DELAYS[self.attempts - 1] if self.attempts <= len(RETRY_DELAYS) else EVERY_AFTER
        if self.attempts >= MAX_ATTEMPTS:
            return self._dead_letter("MaxDeliveryAttemptsExceeded")
        if self.due + delay > self.published + TIME_TO_LIVE:
            return self._dead_letter("TimeToLiveExceeded")
        self.due += delay
        return False

    def _dead_letter(self, reason: str) -> bool:
        letter = dict(self.rendered)
        letter.update(
            {
                "deadLetterReason": reason,
                "deliveryAttempts": self.attempts,
                "lastDeliveryOutcome": self.outcome,
                "lastHttpStatusCode": self.status or 0,
                "publishTime": format_time(self.published),
                "lastDeliveryAttemptTime": format_time(self.due),
            }
        )
        self.subscription._record_dead_letter(letter)
        return True
