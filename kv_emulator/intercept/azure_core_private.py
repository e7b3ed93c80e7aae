"""Every private azure-core name kv-emulator uses, in one place, each with why and what breaks without it.

azure-core has no public way to build the response objects its own transports return, so the emulator's
transports reuse azure-core's private wrappers: the SDK then gets exactly the classes it gets from the
network, with their streaming, ``text()`` and ``read()`` behaviour. If a later azure-core renames or
reshapes one of these, importing this module fails (or the transports' tests do) in CI's newest run; the
oldest-versions run (.ci/run, .ci/oldest-constraints.txt) checks the other end of what pyproject accepts.
"""

from __future__ import annotations

# is_rest: tells an ``azure.core.rest.HttpRequest`` from the legacy ``pipeline.transport.HttpRequest``, as
# RequestsTransport.send does, to return the matching response kind. Without it every sync response would be
# one kind, and clients on the other API (older SDK code paths, user pipelines) would break on attribute names.
# handle_non_stream_rest_response: reads a non-streamed rest response's body the way RequestsTransport does
# (and closes it), so ``response.content`` works without ``read()``. Without it, ``content`` raises
# ResponseNotReadError for every call the SDK makes without ``stream=True``.
from azure.core.pipeline._tools import handle_non_stream_rest_response, is_rest

# RequestsTransportResponse: the legacy response RequestsTransport returns for a legacy HttpRequest
# (``text()``, ``body()``, ``stream_download``). Without it the sync transports could not answer legacy requests.
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse

# AsyncHttpResponseImpl: the concrete async rest response (``azure.core.rest.AsyncHttpResponse`` is abstract),
# holding a body already in memory. Without it the async transports would have to reimplement the whole
# response protocol (read, iter_bytes, text, json, raise_for_status, the back-compat mixin).
from azure.core.rest._http_response_impl_async import AsyncHttpResponseImpl

# RestRequestsTransportResponse: the rest response RequestsTransport returns, wrapping a ``requests.Response``.
# Without it sync SDK calls would get a response class they never see from the network.
from azure.core.rest._requests_basic import RestRequestsTransportResponse

__all__ = [
    "AsyncHttpResponseImpl",
    "RequestsTransportResponse",
    "RestRequestsTransportResponse",
    "handle_non_stream_rest_response",
    "is_rest",
]
