"""Call the emulator's WSGI app with a captured request: the one seam every in-process adapter uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder, run_wsgi_app

__all__ = ["WsgiReply", "call_app"]


@dataclasses.dataclass
class WsgiReply:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


def call_app(
    app: Any, method: str, url: str, headers: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes | None
) -> WsgiReply:
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
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    code, _, reason = status.partition(" ")
    return WsgiReply(int(code), reason, list(response_headers.items()), b"".join(app_iter))
