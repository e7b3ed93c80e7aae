"""``EmulatorTransport``: an azure-core ``HttpTransport`` that answers from an emulator, for ``transport=``.

``SecretClient(url, credential, transport=EmulatorTransport(emulator))`` sends that one client's requests
straight to the emulator's WSGI app: nothing is patched and nothing leaves the process. The fast door that
``Emulator.start()`` installs (:mod:`.transport_adapter`) answers through the same :func:`answer`, so a
client with this transport and a client under ``emulate()`` see one pipeline: the 401 challenge, faults,
throttling and the journal alike. Responses are the ones ``RequestsTransport`` returns, built around a
complete ``requests.Response``; injected transport faults raise the errors ``RequestsTransport`` raises.
"""

from __future__ import annotations

import datetime
import time
from typing import Any, Protocol

import requests
from azure.core.configuration import ConnectionConfiguration
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import HttpTransport
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from ..clock import Clock
from .azure_core_private import (
    RequestsTransportResponse,
    RestRequestsTransportResponse,
    handle_non_stream_rest_response,
    is_rest,
)
from .sleeps import spend
from .wsgi_call import WsgiReply, azure_request_body, call_app

__all__ = ["Emulated", "EmulatorTransport", "answer", "not_answered"]

_NO_COOKIES = RequestsCookieJar()  # shared and always empty: the emulator sets no cookies


class Emulated(Protocol):
    """What a transport needs of an emulator (``kv_emulator.Emulator`` is one): who answers a URL, and the
    clock the SDK's sleeps are spent on in virtual time."""

    @property
    def clock(self) -> Clock: ...

    def app_for(self, url: str) -> Any: ...


def not_answered(url: str) -> ServiceRequestError:
    """The error for a URL the emulator does not answer: the transport never sends it to the network."""
    return ServiceRequestError(
        f"kv-emulator: {url} is not a URL this emulator answers, and EmulatorTransport sends nothing to the "
        "network (vault, Managed HSM, Entra ID, Microsoft Graph, ARM and attestation URLs are answered)"
    )


class EmulatorTransport(HttpTransport):
    """A sync azure-core transport that answers every request from ``emulator`` (``kv_emulator.Emulator``).

    Pass it as ``transport=`` to one client (or credential); the emulator need not be started. Keyword
    arguments are azure-core's ``ConnectionConfiguration`` (e.g. ``data_block_size`` for streamed bodies).
    A URL the emulator does not answer raises ``ServiceRequestError``: nothing reaches the network.
    """

    def __init__(self, emulator: Emulated, **kwargs: Any) -> None:
        self.emulator = emulator
        self.connection_config = ConnectionConfiguration(**kwargs)

    def send(self, request: Any, **kwargs: Any) -> Any:
        app = self.emulator.app_for(request.url)
        if app is None:
            raise not_answered(request.url)
        block_size = self.connection_config.data_block_size
        return answer(app, request, block_size=block_size, stream=bool(kwargs.get("stream")))

    def sleep(self, duration: float) -> None:
        """The retry policy's and pollers' waits: recorded for the journal, spent on the clock in virtual time."""
        if not spend(duration, self.emulator.clock, self.emulator.clock.virtual):
            time.sleep(duration)

    def open(self) -> None:
        return None  # no connection to open

    def close(self) -> None:
        return None

    def __enter__(self) -> EmulatorTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<EmulatorTransport for {self.emulator!r}>"


def answer(app: Any, request: Any, *, block_size: int, stream: bool) -> Any:
    """Run an azure-core request through ``app`` and return what ``RequestsTransport.send`` would."""
    reply = call_app(app, request.method, request.url, request.headers, azure_request_body(request))
    if reply.latency:
        time.sleep(reply.latency)
    if reply.transport_error == "timeout":
        timeout = requests.exceptions.ReadTimeout(f"kv-emulator: injected read timeout for {request.url}")
        raise ServiceResponseTimeoutError(timeout, error=timeout)
    if reply.transport_error:
        failure = requests.exceptions.ConnectionError(f"kv-emulator: injected connection failure for {request.url}")
        raise ServiceRequestError(failure, error=failure)
    response = _response(request, reply)
    if is_rest(request):
        wrapped = RestRequestsTransportResponse(request=request, internal_response=response, block_size=block_size)
        if not stream:
            handle_non_stream_rest_response(wrapped)
        return wrapped
    return RequestsTransportResponse(request, response, block_size)


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
