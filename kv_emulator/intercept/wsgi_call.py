"""Call the emulator's WSGI app with a captured request: the one seam every in-process adapter uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder

from ..http.app import DELAY_KEY, LATENCY_KEY, TRANSPORT_ERROR_KEY
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
    environ[DELAY_KEY] = take_delay()
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
        latency=environ.get(LATENCY_KEY, 0.0),
        transport_error=environ.get(TRANSPORT_ERROR_KEY),
    )
