"""Call the emulator's WSGI app with a captured request: the one seam every in-process adapter uses.

The adapter hands the app a :class:`~kv_emulator.http.transport.TransportAct` and gets it back filled in
(latency to wait, a connection failure or timeout to raise) on the :class:`WsgiReply`, to act out the way
its own transport would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder

from ..http.transport import TRANSPORT_KEY, TransportAct
from .sleeps import take_delay

__all__ = ["WsgiReply", "call_app"]


@dataclasses.dataclass
class WsgiReply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    latency: float = 0.0
    """Seconds an injected fault asks the adapter to wait before answering."""
    transport_error: str | None = None
    """``connection_error`` or ``timeout``: the adapter raises what its transport would, instead of answering."""


def call_app(
    app: Any,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | None,
) -> WsgiReply:
    """Run one request through the app, passing the delay the client slept before it (for the journal)."""
    parts = urlsplit(url)
    builder = EnvironBuilder(
        method=method,
        base_url=f"{parts.scheme}://{parts.netloc}",
        path=parts.path or "/",
        query_string=parts.query,
        headers=list(headers.items()) if isinstance(headers, Mapping) else list(headers),
        data=body or b"",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    transport = environ[TRANSPORT_KEY] = TransportAct(client_delay=take_delay())
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    app_iter = app(environ, start_response)
    try:
        body = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    status, response_headers = started
    code, _, reason = status.partition(" ")
    return WsgiReply(
        int(code),
        reason,
        list(response_headers),
        body,
        latency=transport.latency,
        transport_error=transport.error,
    )
