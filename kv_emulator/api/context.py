"""What a handler gets from the pipeline, and what it gives back.

A handler sees one :class:`RequestContext` (the vault, the request's base URL, api-version, query and body)
and answers with a :class:`Reply`; it never touches WSGI, headers it does not own, or the journal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from ..errors import BadParameter
from ..objects.vault import Vault
from .versions import ApiVersion

__all__ = ["Reply", "RequestContext"]


@dataclasses.dataclass
class Reply:
    """A handler's answer: a status and a JSON body (``None`` for no body)."""

    body: dict[str, Any] | None = None
    status: int = 200
    raw: bytes | None = None
    """A non-JSON body (only injected faults send one)."""
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    """Headers beyond the service's usual ones (``Location`` and ``Retry-After`` of a pending operation)."""


@dataclasses.dataclass
class RequestContext:
    vault: Vault
    base_url: str
    """``scheme://host[:port]`` exactly as the client sent it: every id and nextLink starts with it."""
    path: str
    api_version: ApiVersion
    query: Mapping[str, str]
    raw_body: bytes
    request_id: str = ""
    """``x-ms-request-id``: a Managed HSM's errors name it as their Activity ID."""

    def json(self) -> dict[str, Any]:
        """The request body as a JSON object; a 400 in the service's shape for anything else."""
        if not self.raw_body.strip():
            return {}
        try:
            document = json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError) as exc:
            # Unverified text: the service's wording for an unparsable body is not recorded.
            raise BadParameter(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(document, dict):
            raise BadParameter("The request body must be a JSON object.")
        return document
