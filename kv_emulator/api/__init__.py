"""Operation handlers by spec ``operationId``. An operation missing here answers a loud 501."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..http.routes import OPERATIONS
from . import certificates, key_release, keys, secrets

__all__ = ["HANDLERS", "HSM_OPERATIONS"]

Handler = Callable[..., Any]

HANDLERS: dict[str, Handler] = {
    **secrets.OPERATIONS,
    **keys.OPERATIONS,
    **key_release.OPERATIONS,
    **certificates.OPERATIONS,
}

#: What a Managed HSM answers: the operations of keys.json; secrets and certificates are vault-only.
HSM_OPERATIONS = frozenset(
    op for _, template, op in OPERATIONS if template.startswith(("/keys", "/deletedkeys", "/rng"))
)
