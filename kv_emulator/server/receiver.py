"""``kv-emulator receive``: a webhook that accepts Event Grid deliveries and prints each event as a JSON line.

It answers both validation handshakes (the Event Grid schema's ``validationResponse`` echo and the
CloudEvents ``OPTIONS`` abuse protection), so ``POST /_kv/events/subscriptions`` with its URL succeeds: a
stand-in for an Azure Function or a Logic App while trying the events API by hand (docs/events.md).
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

__all__ = ["Receiver"]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def do_OPTIONS(self) -> None:
        """The CloudEvents webhook handshake: allow the origin that asks."""
        origin = self.headers.get("WebHook-Request-Origin", "*")
        self._answer(200, b"", [("WebHook-Allowed-Origin", origin), ("WebHook-Allowed-Rate", "*")])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            payload: Any = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            self._answer(400, b'{"error": "the body is not JSON"}')
            return
        events = payload if isinstance(payload, list) else [payload]
        if self.headers.get("aeg-event-type") == "SubscriptionValidation":
            code = events[0].get("data", {}).get("validationCode") if events and isinstance(events[0], dict) else None
            self._answer(200, json.dumps({"validationResponse": code}).encode())
            return
        self.server.show(events)
        self._answer(200, b"")

    def _answer(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: stdout carries the events, one JSON line each."""


class Receiver(ThreadingHTTPServer):
    """An HTTP server on ``(host, port)`` that writes every delivered event to ``out``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], out: TextIO | None = None) -> None:
        super().__init__(address, _Handler)
        self.out = out or sys.stdout
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host}:{port}/api/events"

    def show(self, events: list[Any]) -> None:
        with self._lock:
            for event in events:
                self.out.write(json.dumps(event) + "\n")
            self.out.flush()
