"""Transport faults as data: what a door does below HTTP for one request.

The pipeline decides (an injected latency, a dropped connection, a request that is never answered); the
door that carried the request acts it out the way its transport would: the in-process ``requests`` and
aiohttp doors wait and raise their transport's own exceptions, a socket server sleeps, closes the
connection or stops answering. A door hands the pipeline a :class:`TransportAct` in the WSGI environ under
:data:`TRANSPORT_KEY`; a plain WSGI caller that did not (the werkzeug test client, any WSGI server) gets the
app acting the fault out itself: it waits, then raises :class:`InjectedConnectionError` or
:class:`InjectedTimeout` out of the WSGI call.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "CONNECTION_ERROR",
    "TIMEOUT",
    "TRANSPORT_KEY",
    "InjectedConnectionError",
    "InjectedTimeout",
    "TransportAct",
]

#: The WSGI environ key under which a door passes its :class:`TransportAct`.
TRANSPORT_KEY = "kv_emulator.transport"
#: ``TransportAct.error`` values.
CONNECTION_ERROR = "connection_error"
TIMEOUT = "timeout"


@dataclasses.dataclass
class TransportAct:
    """Filled in by the pipeline, acted out by the door after the app returns."""

    client_delay: float | None = None
    """Set by the door: seconds the client slept before this attempt (for the journal), if it knows."""
    latency: float = 0.0
    """Real seconds to wait before answering (virtual latency is spent on the emulator's clock instead)."""
    error: str | None = None
    """:data:`CONNECTION_ERROR` (drop the connection, no answer) or :data:`TIMEOUT` (never answer)."""


class InjectedConnectionError(ConnectionError):
    """An injected connection failure, raised out of the WSGI call when no door acts it out."""


class InjectedTimeout(TimeoutError):
    """An injected timeout, raised out of the WSGI call when no door acts it out."""
