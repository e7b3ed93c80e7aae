"""Call the emulator's WSGI app with a captured request: the one seam every in-process door uses.

The request is already parsed (method, URL, headers, body) by the client library that captured it, so
the WSGI environ is assembled from those parts directly, as PEP 3333 lays it out. The door hands the app a
:class:`~kv_emulator.http.transport.TransportAct` and gets it back filled in (latency to wait, a connection
failure or timeout to raise) on the :class:`WsgiReply`, to act out the way its own transport would.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode, urlsplit

from ..http.transport import TRANSPORT_KEY, TransportAct
from ..objects import awaiting
from .sleeps import take_delay

__all__ = ["WsgiReply", "azure_request_body", "build_environ", "call_app"]

_DEFAULT_PORTS = {"https": "443", "http": "80"}


@dataclasses.dataclass
class WsgiReply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    latency: float = 0.0
    """Seconds an injected fault asks the door to wait before answering."""
    transport_error: str | None = None
    """``connection_error`` or ``timeout``: the door raises what its transport would, instead of answering."""


def azure_request_body(request: Any) -> bytes | None:
    """The body of an azure-core ``HttpRequest`` as bytes: ``content`` (azure.core.rest), else the legacy
    ``data``/``body`` (the sync and async transport doors both send it on)."""
    body = getattr(request, "content", None)
    if body is None:
        body = getattr(request, "data", None) or getattr(request, "body", None)
    if isinstance(body, str):
        return body.encode("utf-8")
    return body


def build_environ(
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A PEP 3333 environ for a request a client library has already parsed (a mapping body is a form)."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.hostname or ""
    port = str(parts.port) if parts.port else _DEFAULT_PORTS.get(scheme, "80")
    form = isinstance(body, Mapping)
    data = urlencode(body, doseq=True).encode() if isinstance(body, Mapping) else body or b""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        # PATH_INFO is the percent-decoded path as latin-1 text, as a server passes it.
        "PATH_INFO": unquote_to_bytes(parts.path or "/").decode("latin-1"),
        "QUERY_STRING": parts.query,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if form:
        environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
    for name, value in headers.items() if isinstance(headers, Mapping) else headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key == "HOST":
            environ["HTTP_HOST"] = value
        elif key != "CONTENT_LENGTH":  # the body we hold decides its length
            environ[f"HTTP_{key}"] = value
    return environ


def call_app(
    app: Any,
    method: str,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | Mapping[str, Any] | None,
) -> WsgiReply:
    """Run one request through the app, passing the delay the client slept before it (for the journal)."""
    environ = build_environ(method, url, headers, body)
    awaiting.forget()  # only a sleep straight after an answer may count as waiting for it
    transport = environ[TRANSPORT_KEY] = TransportAct(client_delay=take_delay())
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    app_iter = app(environ, start_response)
    try:
        payload = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    status, response_headers = started
    code, _, reason = status.partition(" ")
    return WsgiReply(
        int(code),
        reason,
        list(response_headers),
        payload,
        latency=transport.latency,
        transport_error=transport.error,
    )
