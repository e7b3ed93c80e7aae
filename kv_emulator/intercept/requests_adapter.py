"""Sync SDK clients (``requests``) reach the emulator through ``responses``.

Our own ``RequestsMock`` answers vault hosts with a callback into the WSGI app and passes every other
request on untouched. Users' own ``responses`` mocks keep working beside it: while the emulator runs,
vault traffic that a user's mock sees first is handed to the emulator instead of refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from unittest import mock

import requests
import responses
from requests.adapters import HTTPAdapter

from .wsgi_call import call_app

if TYPE_CHECKING:
    from requests import PreparedRequest

__all__ = ["RequestsInterceptor"]

_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS")
_ANY_URL = re.compile(r".*")
# The responses method every mock instance answers through, before anyone patched it.
_UNPATCHED_ON_REQUEST = responses.RequestsMock._on_request


class RequestsInterceptor:
    def __init__(self, app_for: Callable[[str], Any]) -> None:
        self._app_for = app_for
        self._mock: responses.RequestsMock | None = None
        self._foreign_patch: Any = None

    def start(self) -> None:
        # Passing through to whatever HTTPAdapter.send is now keeps an outer mock (or emulator) in the chain.
        own = responses.RequestsMock(
            assert_all_requests_are_fired=False,
            real_adapter_send=HTTPAdapter.send,  # type: ignore[arg-type]  # same signature, looser stubs
        )
        claimed = [self._claimed]  # decided per request, so environment changes after start() count
        for method in _METHODS:
            own.add_callback(method, _ANY_URL, callback=self._answer, content_type=None, match=claimed)
        own.add_passthru(_ANY_URL)
        own.start()
        self._mock = own

        previous = responses.RequestsMock._on_request
        app_for = self._app_for

        def on_request(mock_self: responses.RequestsMock, adapter: Any, request: Any, **kwargs: Any) -> Any:
            # Our own mock, and any vault URL a foreign mock sees, are answered by our mock; the rest goes
            # down the chain (an outer emulator's hook, then responses itself).
            if mock_self is own or app_for(str(request.url)) is not None:
                return _UNPATCHED_ON_REQUEST(own, adapter, request, **kwargs)
            return previous(mock_self, adapter, request, **kwargs)

        self._foreign_patch = mock.patch.object(responses.RequestsMock, "_on_request", on_request)
        self._foreign_patch.start()

    def stop(self) -> None:
        if self._foreign_patch is not None:
            self._foreign_patch.stop()
            self._foreign_patch = None
        if self._mock is not None:
            self._mock.stop(allow_assert=False)
            self._mock = None

    def _claimed(self, request: PreparedRequest) -> tuple[bool, str]:
        """A responses matcher: does the emulator answer this URL?"""
        return self._app_for(str(request.url)) is not None, "not a URL kv-emulator answers"

    def _answer(self, request: PreparedRequest) -> tuple[int, dict[str, str], bytes] | Exception:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        elif body is not None and not isinstance(body, bytes):
            body = b"".join(part.encode() if isinstance(part, str) else part for part in body)  # type: ignore[union-attr]
        headers = {name: value if isinstance(value, str) else value.decode() for name, value in request.headers.items()}
        app = self._app_for(str(request.url))
        reply = call_app(app, str(request.method), str(request.url), headers, body)
        if reply.latency:
            time.sleep(reply.latency)
        if reply.transport_error == "timeout":
            return requests.exceptions.ReadTimeout(f"kv-emulator: injected read timeout for {request.url}")
        if reply.transport_error:
            return requests.exceptions.ConnectionError(f"kv-emulator: injected connection failure for {request.url}")
        return reply.status, dict(reply.headers), reply.body
