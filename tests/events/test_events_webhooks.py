"""Webhook delivery as Event Grid does it: validation handshake, headers, one event per request, retries on
Event Grid's schedule in the emulator's virtual time, and dead letters. Receivers: the test's own
``responses`` mock, and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime
import http.server
import json
import threading
from typing import ClassVar

import pytest
import requests
import responses
from azure.eventgrid import EventGridEvent, SystemEventNames
from azure.keyvault.certificates import (
    CertificateClient,
    CertificatePolicy,
    CertificatePolicyAction,
    KeyType,
    LifetimeAction,
)
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from events_support import DAY, SECRET_NEW

HOOK = "https://hooks.example.com/keyvault"
ALL_TEN = {getattr(SystemEventNames, n) for n in dir(SystemEventNames) if n.startswith("KeyVault")}


class Receiver:
    """A webhook as a user writes one: answer the validation handshake, then take notifications."""

    def __init__(self, statuses: list[int | Exception] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.notifications: list[tuple[dict[str, str], bytes]] = []
        self.validations = 0

    def __call__(self, request):
        headers = dict(request.headers)
        if request.method == "OPTIONS":  # the CloudEvents handshake
            self.validations += 1
            return 200, {"WebHook-Allowed-Origin": headers["WebHook-Request-Origin"]}, b""
        if headers["aeg-event-type"] == "SubscriptionValidation":
            self.validations += 1
            (event,) = json.loads(request.body)
            return 200, {}, json.dumps({"validationResponse": event["data"]["validationCode"]})
        self.notifications.append((headers, request.body))
        status = self.statuses.pop(0) if self.statuses else 200
        if isinstance(status, Exception):
            return status
        return status, {}, b""

    @property
    def delivery_counts(self) -> list[str]:
        return [headers["aeg-delivery-count"] for headers, _ in self.notifications]


@pytest.fixture
def hook():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        receiver = Receiver()
        mock.add_callback(responses.POST, HOOK, callback=receiver)
        mock.add_callback(responses.OPTIONS, HOOK, callback=receiver)
        yield receiver


def test_validation_then_one_event_per_post_in_the_event_grid_schema(keyvault, secrets, hook):
    subscription = keyvault.events.subscribe(endpoint=HOOK, name="rotate-on-change")
    assert hook.validations == 1 and hook.notifications == []
    made = secrets.set_secret("db-password", "hunter2")

    ((headers, body),) = hook.notifications
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["aeg-event-type"] == "Notification"
    assert headers["aeg-subscription-name"] == "ROTATE-ON-CHANGE"
    assert headers["aeg-delivery-count"] == "0"
    (event,) = json.loads(body)  # an array, one event by default (no batching)
    parsed = EventGridEvent.from_dict(event)
    assert parsed.event_type == SECRET_NEW and parsed.data["Id"] == made.id
    assert subscription.received == [event] and subscription.dead_letters == []


def test_cloudevents_are_posted_one_per_request_after_the_options_handshake(keyvault, secrets, hook):
    keyvault.events.subscribe(endpoint=HOOK, schema="cloudevents")
    assert hook.validations == 1
    made = secrets.set_secret("api-key", "v1")
    ((headers, body),) = hook.notifications
    assert headers["Content-Type"] == "application/cloudevents+json; charset=utf-8"
    event = from_http(HTTPMessage({"content-type": headers["Content-Type"]}, body), JSONFormat())
    assert event.get_type() == SECRET_NEW and event.get_data()["Id"] == made.id


def test_an_endpoint_that_fails_the_handshake_is_refused_at_subscribe(keyvault):
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, HOOK, json={"ok": True})  # 200, but no validationResponse
        with pytest.raises(ValueError, match="webhook validation failed"):
            keyvault.events.subscribe(endpoint=HOOK)
    with pytest.raises(ValueError, match="could not be reached"):
        keyvault.events.subscribe(endpoint="http://127.0.0.1:9/nobody-listens")
    assert keyvault.events.subscriptions == []


def test_retries_follow_event_grids_schedule_on_the_emulators_clock(keyvault, secrets, hook):
    keyvault.clock.freeze()
    hook.statuses = [503, 429, 408, 200]
    subscription = keyvault.events.subscribe(endpoint=HOOK)
    secrets.set_secret("s", "1")
    assert hook.delivery_counts == ["0"]  # no real waiting: the retry is due in 10 s of emulator time
    keyvault.clock.advance(seconds=9)
    assert hook.delivery_counts == ["0"]
    keyvault.clock.advance(seconds=1)
    assert hook.delivery_counts == ["0", "1"]
    keyvault.clock.advance(seconds=30)
    assert hook.delivery_counts == ["0", "1", "2"]
    keyvault.clock.advance(minutes=1)
    assert hook.delivery_counts == ["0", "1", "2", "3"]
    keyvault.clock.advance(days=2)
    assert len(hook.notifications) == 4 and subscription.dead_letters == []
    bodies = {body for _, body in hook.notifications}
    assert len(bodies) == 1  # the same event each time


def test_connection_errors_are_retried_too(keyvault, secrets, hook):
    keyvault.clock.freeze()
    hook.statuses = [requests.ConnectionError("refused"), 200]
    keyvault.events.subscribe(endpoint=HOOK)
    secrets.set_secret("s", "1")
    keyvault.clock.advance(seconds=10)
    assert hook.delivery_counts == ["0", "1"]


def test_an_endpoint_that_keeps_failing_is_dead_lettered_when_the_time_to_live_ends(keyvault, secrets, hook):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    hook.statuses = [500] * 40
    subscription = keyvault.events.subscribe(endpoint=HOOK)
    secrets.set_secret("s", "1")
    keyvault.clock.advance(days=2)
    # 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h: the next 12 h would pass 24 h.
    assert len(hook.notifications) == 11
    (letter,) = subscription.dead_letters
    assert letter["deadLetterReason"] == "TimeToLiveExceeded" and letter["deliveryAttempts"] == 11
    assert letter["lastHttpStatusCode"] == 500 and letter["publishTime"] == "2030-01-01T00:00:00.0000000Z"
    assert letter["lastDeliveryAttemptTime"] == "2030-01-01T22:46:40.0000000Z"
    assert letter["eventType"] == SECRET_NEW and len(subscription.received) == 1


def test_codes_event_grid_does_not_retry_dead_letter_at_once(keyvault, secrets, hook):
    hook.statuses = [400]
    subscription = keyvault.events.subscribe(endpoint=HOOK)
    secrets.set_secret("s", "1")
    keyvault.clock.advance(days=1)
    assert len(hook.notifications) == 1
    (letter,) = subscription.dead_letters
    assert (letter["deliveryAttempts"], letter["lastHttpStatusCode"]) == (1, 400)


def test_a_handler_and_a_webhook_on_one_subscription(keyvault, secrets, hook):
    called = []
    keyvault.events.subscribe(called.append, endpoint=HOOK)
    secrets.set_secret("s", "1")
    assert len(called) == 1 and len(hook.notifications) == 1


# -- a real HTTP server ---------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []
    fetched: ClassVar[list[str]] = []
    vault_url = ""
    credential = None

    def do_POST(self):
        events = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers["aeg-event-type"] == "SubscriptionValidation":
            answer = json.dumps({"validationResponse": events[0]["data"]["validationCode"]}).encode()
        else:
            self.seen.extend(events)
            # A receiver that reads the new value back from the vault, from its own thread.
            client = SecretClient(self.vault_url, self.credential)
            self.fetched.append(client.get_secret(events[0]["subject"]).value)
            answer = b""
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_a_real_local_server_receives_and_can_call_the_vault_back(keyvault, secrets):
    _Handler.seen, _Handler.fetched = [], []
    _Handler.vault_url, _Handler.credential = keyvault.vault_url, keyvault.credential
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        keyvault.events.subscribe(endpoint=f"http://127.0.0.1:{server.server_port}/events")
        secrets.set_secret("from-server", "v1")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert [e["subject"] for e in _Handler.seen] == ["from-server"]
    assert _Handler.fetched == ["v1"]


def _cause_all_ten(keyvault) -> None:
    """One scenario that makes a vault publish every Key Vault event type."""
    now = keyvault.clock.now()
    SecretClient(keyvault.vault_url, keyvault.credential).set_secret("s", "1", expires_on=now + 40 * DAY)
    KeyClient(keyvault.vault_url, keyvault.credential).create_ec_key("k", curve="P-256", expires_on=now + 40 * DAY)
    policy = CertificatePolicy(
        "Self",
        subject="CN=c",
        key_type=KeyType.ec,
        validity_in_months=1,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=5)],
    )
    CertificateClient(keyvault.vault_url, keyvault.credential).begin_create_certificate("c", policy).result()
    keyvault.vault().authorization.set_access_policy("00000000-0000-0000-0000-0000000000aa", keys=["get"])
    keyvault.clock.advance(days=45)


def test_every_event_type_reaches_a_webhook_and_parses_with_azure_eventgrid(keyvault, hook):
    keyvault.clock.freeze()
    keyvault.events.subscribe(endpoint=HOOK)
    _cause_all_ten(keyvault)
    parsed = [EventGridEvent.from_dict(event) for _, body in hook.notifications for event in json.loads(body)]
    assert {event.event_type for event in parsed} == ALL_TEN
    assert all(event.topic.endswith("/vaults/kv-emulator") and event.data["VaultName"] for event in parsed)


def test_every_event_type_reaches_a_webhook_as_a_cloudevent(keyvault, hook):
    keyvault.clock.freeze()
    keyvault.events.subscribe(endpoint=HOOK, schema="cloudevents")
    _cause_all_ten(keyvault)
    parsed = [
        from_http(HTTPMessage({"content-type": headers["Content-Type"]}, body), JSONFormat())
        for headers, body in hook.notifications
    ]
    assert {event.get_type() for event in parsed} == ALL_TEN
    times = [event.get_time() for event in parsed]
    assert times == sorted(times)  # delivered oldest first, each stamped when it fell due


def test_the_json_api_a_server_offers_subscribes_a_webhook_and_reports_what_it_got(keyvault, secrets, hook):
    subscription = keyvault.events.subscribe_json(
        {"endpoint": HOOK, "types": ["SecretNewVersionCreated"], "name": "ci-hook"}
    )
    secrets.set_secret("s", "1")
    described = json.loads(json.dumps(keyvault.events.subscription("ci-hook").to_dict(events=True)))
    assert described["endpoint"] == HOOK and [e["subject"] for e in described["received"]] == ["s"]
    assert described["dead_letters"] == [] and described["errors"] == []
    assert subscription.received == described["received"]
    for bad in ({"handler": "print"}, ["not", "an", "object"], {"types": ["Nope"]}):
        with pytest.raises(ValueError):
            keyvault.events.subscribe_json(bad)
