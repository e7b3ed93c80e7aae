"""Plain-HTTP proxy requests to hosts the emulator does not answer, forwarded unchanged (``HTTP_PROXY``).

Only for clients that send all plain HTTP through the proxy (to reach IMDS); ``--no-passthrough`` refuses
them instead. ``http.client`` carries the request; hop-by-hop headers are dropped both ways. A request
``http.client`` refuses to send is a 400 with its reason, an upstream that fails or answers garbage a 502.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .replies import json_error_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["forward"]

_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length",
}  # fmt: skip


def forward(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    target = str(environ.get("REQUEST_URI", ""))
    try:
        parts = urlsplit(target)
        port = parts.port or 80
    except ValueError as exc:
        message = f"kv-emulator cannot forward to {target!r}: {exc}"
        return json_error_app(400, "BadRequest", message)(environ, start_response)
    if parts.scheme != "http" or not parts.hostname:
        return json_error_app(400, "BadRequest", "kv-emulator forwards absolute http:// URLs only")(
            environ, start_response
        )
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    body = environ["wsgi.input"].read()
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    connection = http.client.HTTPConnection(parts.hostname, port, timeout=30)
    try:
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body or None, headers=headers)
        except ValueError as exc:  # http.client.InvalidURL too: a method, path or header it will not send
            message = f"kv-emulator cannot forward this request to {parts.netloc}: {exc}"
            return json_error_app(400, "BadRequest", message)(environ, start_response)
        response = connection.getresponse()
        payload = response.read()
        answer = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        answer.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status} {response.reason}", answer)
        return [payload]
    except (OSError, http.client.HTTPException) as exc:
        message = f"kv-emulator could not reach {parts.netloc}: {exc or type(exc).__name__}"
        return json_error_app(502, "BadGateway", message)(environ, start_response)
    finally:
        connection.close()
