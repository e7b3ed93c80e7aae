"""Transport faults acted out at a real socket: wait, drop the connection, or go silent for a while.

The pipeline decides a fault (``emulator.faults``) and writes it into the :class:`TransportAct` this door
hands it; the door carries out what cannot be said in HTTP.
"""

from __future__ import annotations

import time
from typing import Any

from ..http.transport import TIMEOUT, TRANSPORT_KEY, TransportAct

__all__ = ["act_out", "claim_transport"]


def claim_transport(environ: dict[str, Any]) -> TransportAct:
    """Tell the pipeline this door acts transport faults out; returns the act it will fill in."""
    act = environ[TRANSPORT_KEY] = TransportAct()
    return act


def act_out(act: TransportAct, fault_timeout: float) -> str | None:
    """Wait out injected latency; for a transport error, what to log instead of an answer (the caller then
    closes the connection without answering), else None."""
    if act.latency > 0:
        time.sleep(act.latency)
    if act.error == TIMEOUT:
        time.sleep(max(0.0, fault_timeout))  # bounded silence, then the connection is closed
        return "timeout (no answer)"
    if act.error:
        return "connection_error (closed)"
    return None
