"""Adapters that carry captured SDK requests to the WSGI app and answers back. No logic of their own."""

from __future__ import annotations

from .aiohttp_adapter import AioHttpInterceptor
from .requests_adapter import RequestsInterceptor
from .transport_adapter import RequestsTransportInterceptor
from .wsgi_call import WsgiReply, call_app

__all__ = ["AioHttpInterceptor", "RequestsInterceptor", "RequestsTransportInterceptor", "WsgiReply", "call_app"]
