"""``AsyncEmulatorTransport``: an azure-core ``AsyncHttpTransport`` that answers from an emulator.

The async twin of :class:`~.emulator_transport.EmulatorTransport`, for ``transport=`` on the ``aio``
clients. The door ``Emulator.start()`` installs on ``AioHttpTransport`` (:mod:`.aiohttp_adapter`) answers
through the same :func:`answer_async`; injected transport faults raise what ``AioHttpTransport`` raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.utils import CaseInsensitiveDict

from .azure_core_private import AsyncHttpResponseImpl
from .emulator_transport import Emulated, not_answered
from .sleeps import spend_async
from .wsgi_call import WsgiReply, azure_request_body, call_app

__all__ = ["AsyncEmulatorTransport", "EmulatedAsyncResponse", "answer_async"]


class _Closed:
    """Stands in for aiohttp's response object: there is no connection to release."""

    async def close(self) -> None:
        return None

    def release(self) -> None:
        return None


async def _no_stream(response: Any, pipeline: Any, decompress: bool = True) -> AsyncIterator[bytes]:
    yield response.content


class EmulatedAsyncResponse(AsyncHttpResponseImpl):
    """An azure-core async response whose body is already in memory."""

    def __init__(self, request: Any, reply: WsgiReply) -> None:
        headers = CaseInsensitiveDict(reply.headers)
        super().__init__(
            request=request,
            internal_response=_Closed(),
            status_code=reply.status,
            reason=reply.reason,
            content_type=headers.get("Content-Type"),
            headers=headers,
            stream_download_generator=_no_stream,
        )
        self._content = reply.body


class AsyncEmulatorTransport(AsyncHttpTransport):
    """An async azure-core transport that answers every request from ``emulator`` (``kv_emulator.Emulator``).

    Pass it as ``transport=`` to one ``aio`` client (or credential); the emulator need not be started. A URL
    the emulator does not answer raises ``ServiceRequestError``: nothing reaches the network.
    """

    def __init__(self, emulator: Emulated) -> None:
        self.emulator = emulator

    async def send(self, request: Any, **kwargs: Any) -> Any:
        app = self.emulator.app_for(request.url)
        if app is None:
            raise not_answered(request.url)
        return await answer_async(app, request)

    async def sleep(self, duration: float) -> None:
        """The retry policy's and pollers' waits: recorded for the journal, spent on the clock in virtual time."""
        if not await spend_async(duration, self.emulator.clock, self.emulator.clock.virtual):
            await asyncio.sleep(duration)

    async def open(self) -> None:
        return None  # no connection to open

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> AsyncEmulatorTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"<AsyncEmulatorTransport for {self.emulator!r}>"


async def answer_async(app: Any, request: Any) -> EmulatedAsyncResponse:
    """Run an azure-core request through ``app`` and return what an async transport would."""
    reply = call_app(app, request.method, request.url, request.headers, azure_request_body(request))
    if reply.latency:
        await asyncio.sleep(reply.latency)
    if reply.transport_error == "timeout":
        raise ServiceResponseTimeoutError(TimeoutError(f"kv-emulator: injected timeout for {request.url}"))
    if reply.transport_error:
        failure = aiohttp.ClientConnectionError(f"kv-emulator: injected connection failure for {request.url}")
        raise ServiceRequestError(failure, error=failure)
    return EmulatedAsyncResponse(request, reply)
