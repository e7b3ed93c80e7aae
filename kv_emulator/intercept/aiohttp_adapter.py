"""Async SDK clients (azure-core's ``AioHttpTransport``) reach the emulator without a ``transport=``.

While the emulator runs, ``AioHttpTransport.send`` answers vault hosts in-process and sends everything
else through aiohttp as before. Patching the class covers transports built before the emulator started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest import mock

import aiohttp
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest._http_response_impl_async import AsyncHttpResponseImpl
from azure.core.utils import CaseInsensitiveDict

from .wsgi_call import WsgiReply, azure_request_body, call_app

__all__ = ["AioHttpInterceptor"]


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


class AioHttpInterceptor:
    def __init__(self, app_for: Callable[[str], Any]) -> None:
        self._app_for = app_for
        self._patch: Any = None

    def start(self) -> None:
        previous = AioHttpTransport.send
        app_for = self._app_for

        async def send(transport: AioHttpTransport, request: Any, **config: Any) -> Any:
            app = app_for(request.url)
            if app is None:
                return await previous(transport, request, **config)
            reply = call_app(app, request.method, request.url, request.headers, azure_request_body(request))
            if reply.latency:
                await asyncio.sleep(reply.latency)
            if reply.transport_error == "timeout":
                raise ServiceResponseTimeoutError(
                    asyncio.TimeoutError(f"kv-emulator: injected timeout for {request.url}")
                )
            if reply.transport_error:
                failure = aiohttp.ClientConnectionError(f"kv-emulator: injected connection failure for {request.url}")
                raise ServiceRequestError(failure, error=failure)
            return EmulatedAsyncResponse(request, reply)

        self._patch = mock.patch.object(AioHttpTransport, "send", send)
        self._patch.start()

    def stop(self) -> None:
        if self._patch is not None:
            self._patch.stop()
            self._patch = None
