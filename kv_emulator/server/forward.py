"""Plain-HTTP proxy requests to hosts the emulator does not answer, forwarded unchanged (``HTTP_PROXY``).

Only for clients that send all plain HTTP through the proxy (to reach IMDS); ``--no-passthrough`` refuses
them instead. ``http.client`` carries the request; hop-by-hop headers are dropped both ways.
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
    parts = urlsplit(str(environ.get("REQUEST_URI", "")))
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
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    try:
        connection.request(environ["REQUEST_METHOD"], target, body=body or None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        answer = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        answer.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status} {response.reason}", answer)
        return [payload]
    except OSError as exc:
        message = f"kv-emulator could not reach {parts.netloc}: {exc}"
        return json_error_app(502, "BadGateway", message)(environ, start_response)
    finally:
        connection.close()
