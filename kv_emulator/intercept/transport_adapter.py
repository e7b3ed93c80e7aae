"""The fast door for sync SDK clients: answered at azure-core's ``RequestsTransport``, before ``requests``.

``requests`` (sessions, adapters, proxy lookups) and ``responses`` cost more per call than the emulator
itself, so while an emulator runs, ``RequestsTransport.send`` (and so every subclass that does not override
it) answers the URLs the emulator claims straight from its WSGI app, building the same ``requests.Response``
that the real transport would wrap, and raising the same azure-core errors for injected transport faults.
Everything else, and transports that override ``send``, go the usual way: through ``requests``, where the
``responses`` door (:mod:`.requests_adapter`) still answers vault hosts.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import requests
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline._tools import handle_non_stream_rest_response, is_rest
from azure.core.pipeline.transport import RequestsTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse
from azure.core.rest._requests_basic import RestRequestsTransportResponse
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from .wsgi_call import WsgiReply, azure_request_body, call_app

__all__ = ["RequestsTransportInterceptor"]

_NO_COOKIES = RequestsCookieJar()  # shared and always empty: the emulator sets no cookies


def _response(request: Any, reply: WsgiReply) -> requests.Response:
    """A complete, already-read ``requests.Response``, as ``requests`` would have built it for this answer.

    Built without ``Response.__init__``'s cookie jar (a vault answer sets no cookies, and azure-core never
    reads them): the attributes are those ``__init__`` sets, so every ``requests`` API on it still works.
    """
    response = requests.Response.__new__(requests.Response)
    headers = CaseInsensitiveDict(reply.headers)
    response.__dict__.update(
        _content=reply.body,
        _content_consumed=True,
        _next=None,
        status_code=reply.status,
        headers=headers,
        raw=None,
        url=request.url,
        encoding=get_encoding_from_headers(headers),
        history=[],
        reason=reply.reason,
        cookies=_NO_COOKIES,
        elapsed=datetime.timedelta(0),
        request=None,
    )
    return response


class RequestsTransportInterceptor:
    def __init__(self, app_for: Callable[[str], Any]) -> None:
        self._app_for = app_for
        self._patch: Any = None

    def start(self) -> None:
        previous = RequestsTransport.send
        app_for = self._app_for

        def send(transport: RequestsTransport, request: Any, **kwargs: Any) -> Any:
            app = app_for(request.url) if not getattr(request, "files", None) else None
            if app is None:
                return previous(transport, request, **kwargs)
            reply = call_app(app, request.method, request.url, request.headers, azure_request_body(request))
            if reply.latency:
                time.sleep(reply.latency)
            if reply.transport_error == "timeout":
                timeout = requests.exceptions.ReadTimeout(f"kv-emulator: injected read timeout for {request.url}")
                raise ServiceResponseTimeoutError(timeout, error=timeout)
            if reply.transport_error:
                failure = requests.exceptions.ConnectionError(
                    f"kv-emulator: injected connection failure for {request.url}"
                )
                raise ServiceRequestError(failure, error=failure)
            return _wrap(transport, request, _response(request, reply), stream=bool(kwargs.get("stream")))

        self._patch = mock.patch.object(RequestsTransport, "send", send)
        self._patch.start()

    def stop(self) -> None:
        if self._patch is not None:
            self._patch.stop()
            self._patch = None


def _wrap(transport: RequestsTransport, request: Any, response: requests.Response, *, stream: bool) -> Any:
    """What ``RequestsTransport.send`` returns for this kind of request (azure-core's own wrappers)."""
    block_size = transport.connection_config.data_block_size
    if is_rest(request):
        wrapped = RestRequestsTransportResponse(request=request, internal_response=response, block_size=block_size)
        if not stream:
            handle_non_stream_rest_response(wrapped)
        return wrapped
    return RequestsTransportResponse(request, response, block_size)
