"""Async SDK clients (azure-core's ``AioHttpTransport``) reach the emulator without a ``transport=``.

While the emulator runs, ``AioHttpTransport.send`` answers the URLs the emulator claims exactly as
:class:`~.emulator_transport_async.AsyncEmulatorTransport` does (through the same
:func:`~.emulator_transport_async.answer_async`) and sends everything else through aiohttp as before.
Patching the class covers transports built before the emulator started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

from azure.core.pipeline.transport import AioHttpTransport

from .emulator_transport_async import answer_async

__all__ = ["AioHttpInterceptor"]


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
            return await answer_async(app, request)

        self._patch = mock.patch.object(AioHttpTransport, "send", send)
        self._patch.start()

    def stop(self) -> None:
        if self._patch is not None:
            self._patch.stop()
            self._patch = None
