"""The state of one request as it moves through the pipeline's steps."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from ..api.context import Reply
from ..config import Settings
from .journal import JournalEntry
from .transport import TransportAct

if TYPE_CHECKING:
    from ..api.versions import ApiVersion
    from ..objects.vault import Vault

__all__ = ["Exchange"]


@dataclasses.dataclass
class Exchange:
    """One request: what the steps learned about it so far, and the answer once there is one.

    Each step reads what earlier steps set and adds its own part; the journal entry is filled in as it goes,
    so a request that fails at any step is still recorded with everything known up to then.
    """

    request: Request
    entry: JournalEntry
    transport: TransportAct
    settings: Settings
    """The emulator's settings when the request arrived (one snapshot for the whole request)."""
    vault: Vault | None = None
    token: str | None = None
    version: ApiVersion | None = None
    operation: str | None = None
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)
    raw_body: bytes = b""
    reply: Reply | None = None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """Headers of an error or injected fault, beyond the service's usual ones."""
    host: str = ""
    """The Host header verbatim (werkzeug's ``request.host`` would drop an explicit ``:443``)."""
    args: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The query's parameters (parsed by werkzeug, shared between requests with the same query string)."""
