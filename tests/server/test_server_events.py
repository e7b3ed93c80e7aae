"""Event Grid in server mode: ``/_kv/events`` subscribes a real webhook, which receives the validation
handshake and then the events that requests through the proxy cause, on the server's clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

import kv_emulator
from kv_emulator.server import Server, ServerOptions

API = {"api-version": "2026-04-01"}
TOKEN = {"Authorization": "Bearer token"}


class Receiver(BaseHTTPRequestHandler):
    """A webhook: answers Event Grid's validation handshake, records every delivery."""

    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        events = body if isinstance(body, list) else [body]
        answer = b""
        for event in events:
            if event["eventType"] == "Microsoft.EventGrid.SubscriptionValidationEvent":
                answer = json.dumps({"validationResponse": event["data"]["validationCode"]}).encode()
            else:
                self.server.received.append({"event": event, "headers": dict(self.headers)})  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Any]:
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    receiver.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=receiver.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield receiver
    receiver.shutdown()
    receiver.server_close()


@pytest.fixture
def server(tmp_path: Any) -> Iterator[Server]:
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, write_runtime=False)
    with Server(kv_emulator.Emulator(), options) as running:
        yield running


def kv(server: Server, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{server.proxy_url}/_kv/{path}", timeout=10, **kwargs)


def through_proxy(server: Server, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        f"{server.vault_url}{path}",
        params=API,
        headers=TOKEN,
        proxies={"https": server.proxy_url},
        verify=str(server.ca_path),
        timeout=10,
        **kwargs,
    )


def test_a_webhook_subscribed_over_the_management_api_gets_the_vaults_events(server: Server, webhook: Any) -> None:
    endpoint = f"http://127.0.0.1:{webhook.server_address[1]}/events"
    created = kv(server, "POST", "events/subscriptions", json={"endpoint": endpoint, "name": "rotation"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "rotation"

    assert through_proxy(server, "PUT", "/secrets/db-password", json={"value": "v1"}).status_code == 200
    [delivery] = webhook.received
    assert delivery["event"]["eventType"] == "Microsoft.KeyVault.SecretNewVersionCreated"
    assert delivery["event"]["subject"] == "db-password"
    assert delivery["headers"]["aeg-event-type"] == "Notification"

    expires = int(server.emulator.clock.time()) + 40 * 86400
    body = {"value": "v2", "attributes": {"exp": expires}}
    assert through_proxy(server, "PUT", "/secrets/db-password", json=body).status_code == 200
    assert kv(server, "POST", "clock/advance", json={"days": 11}).status_code == 200  # 29 days before exp
    types = [d["event"]["eventType"] for d in webhook.received]
    assert types == [
        "Microsoft.KeyVault.SecretNewVersionCreated",
        "Microsoft.KeyVault.SecretNewVersionCreated",
        "Microsoft.KeyVault.SecretNearExpiry",
    ]

    listed = kv(server, "GET", "events").json()
    assert [e["eventType"] for e in listed["published"]] == [t for t in types]
    assert listed["subscriptions"][0]["received"] == 3
    detail = kv(server, "GET", "events/subscriptions/rotation").json()
    assert [e["eventType"] for e in detail["received"]] == types
    assert kv(server, "DELETE", "events/subscriptions/rotation").status_code == 200
    assert kv(server, "GET", "events/subscriptions/rotation").status_code == 404
    assert through_proxy(server, "PUT", "/secrets/other", json={"value": "v"}).status_code == 200
    assert len(webhook.received) == 3  # unsubscribed: nothing more delivered


def test_bad_subscriptions_are_refused_with_a_400(server: Server) -> None:
    assert (
        kv(server, "POST", "events/subscriptions", json={"types": ["Microsoft.KeyVault.SecretExpired"]}).status_code
        == 400
    )
    refused = kv(server, "POST", "events/subscriptions", json={"endpoint": "ftp://example/x"})
    assert refused.status_code == 400 and "endpoint" in refused.json()["error"]["message"].lower()
    unknown = kv(server, "POST", "events/subscriptions", json={"endpoint": "http://127.0.0.1:9/", "handler": "x"})
    assert unknown.status_code == 400
    assert kv(server, "GET", "events").json() == {"published": [], "subscriptions": []}
