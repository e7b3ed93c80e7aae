"""Adapters that carry captured SDK requests to the WSGI app and answers back. No logic of their own.

``EmulatorTransport``/``AsyncEmulatorTransport`` are the public doors (``transport=``); the patches that
``Emulator.start()`` installs answer through the same functions.
"""

from __future__ import annotations

from .aiohttp_adapter import AioHttpInterceptor
from .emulator_transport import EmulatorTransport
from .emulator_transport_async import AsyncEmulatorTransport
from .requests_adapter import RequestsInterceptor
from .transport_adapter import RequestsTransportInterceptor
from .wsgi_call import WsgiReply, call_app

__all__ = [
    "AioHttpInterceptor",
    "AsyncEmulatorTransport",
    "EmulatorTransport",
    "RequestsInterceptor",
    "RequestsTransportInterceptor",
    "WsgiReply",
    "call_app",
]
