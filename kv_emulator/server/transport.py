"""Transport faults acted out at a real socket: wait, drop the connection, or go silent for a while.

The pipeline decides a fault (``emulator.faults``); a door carries out what cannot be said in HTTP.
"""

from __future__ import annotations

import time
from typing import Any

from ..http.app import LATENCY_KEY, TRANSPORT_ERROR_KEY

__all__ = ["act_out", "claim_transport"]


def claim_transport(environ: dict[str, Any]) -> dict[str, Any]:
    """Tell the pipeline this door acts transport faults out; returns where it writes them."""
    return environ


def act_out(act: dict[str, Any], fault_timeout: float) -> str | None:
    """Wait out injected latency; for a transport error, what to log instead of an answer (the caller
    then closes the connection), else None."""
    latency = float(act.get(LATENCY_KEY) or 0.0)
    if latency > 0:
        time.sleep(latency)
    error = act.get(TRANSPORT_ERROR_KEY)
    if error == "timeout":
        time.sleep(max(0.0, fault_timeout))  # bounded silence, then the connection is closed
        return "timeout (no answer)"
    if error:
        return "connection_error (closed)"
    return None
