"""The fast door for sync SDK clients: answered at azure-core's ``RequestsTransport``, before ``requests``.

``requests`` (sessions, adapters, proxy lookups) and ``responses`` cost more per call than the emulator
itself, so while an emulator runs, ``RequestsTransport.send`` (and so every subclass that does not override
it) answers the URLs the emulator claims exactly as :class:`~.emulator_transport.EmulatorTransport` does,
through the same :func:`~.emulator_transport.answer`. Everything else, and transports that override
``send``, go the usual way: through ``requests``, where the ``responses`` door (:mod:`.requests_adapter`)
still answers vault hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

from azure.core.pipeline.transport import RequestsTransport

from .emulator_transport import answer

__all__ = ["RequestsTransportInterceptor"]


class RequestsTransportInterceptor:
    def __init__(self, app_for: Callable[[str], Any]) -> None:
        self._app_for = app_for
        self._patch: Any = None

    def start(self) -> None:
        previous = RequestsTransport.send
        app_for = self._app_for

        def send(transport: RequestsTransport, request: Any, **kwargs: Any) -> Any:
            # Multipart bodies (``files``) are left to requests, which encodes them, and the responses door.
            app = app_for(request.url) if not getattr(request, "files", None) else None
            if app is None:
                return previous(transport, request, **kwargs)
            block_size = transport.connection_config.data_block_size
            return answer(app, request, block_size=block_size, stream=bool(kwargs.get("stream")))

        self._patch = mock.patch.object(RequestsTransport, "send", send)
        self._patch.start()

    def stop(self) -> None:
        if self._patch is not None:
            self._patch.stop()
            self._patch = None
