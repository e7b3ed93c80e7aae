"""The audit log: every data-plane request as a Key Vault ``AuditEvent``, built from the journal.

The fields follow the diagnostic log schema of Key Vault (``time``, ``resourceId``, ``operationName``,
``resultType``, ``identity.claim``, ``properties.httpStatusCode`` ...). Secret values and key material are
never recorded: the journal they come from never holds request or response bodies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from werkzeug.http import HTTP_STATUS_CODES

from ..hosts import parse_host
from .journal import Journal, JournalEntry

__all__ = ["AuditLog", "audit_event"]


def _resource_id(vault_host: str) -> str:
    """Key Vault writes resource ids in upper case in its audit events."""
    address = parse_host(vault_host)
    return address.resource_id.upper() if address else vault_host.upper()


def audit_event(entry: JournalEntry) -> dict[str, Any]:
    url = urlsplit(entry.url)
    success = 200 <= entry.status < 400
    claims = entry.caller or {}
    return {
        "time": datetime.fromtimestamp(entry.time, tz=timezone.utc).isoformat().replace("+00:00", "Z"),
        "category": "AuditEvent",
        "resourceId": _resource_id(entry.vault.split(":")[0]),
        "operationName": entry.operation or "Unknown",
        "operationVersion": entry.api_version,
        "resultType": "Success" if success else "Failure",
        "resultSignature": HTTP_STATUS_CODES.get(entry.status, "Unknown") if entry.status else "NoResponse",
        "resultDescription": entry.error_code,
        "durationMs": round(entry.duration * 1000),
        "callerIpAddress": "127.0.0.1",
        "correlationId": entry.client_request_id,
        "identity": {"claim": dict(claims)} if claims else None,
        "properties": {
            "id": f"{url.scheme}://{url.netloc}{url.path}",
            "requestUri": entry.url,
            "httpStatusCode": entry.status,
            "clientRequestId": entry.client_request_id,
            "requestId": entry.request_id,
            "isRbacAuthorized": None,
        },
    }


class AuditLog:
    """``emulator.audit``: the journal seen as Key Vault audit events, exportable as JSON lines."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def events(self) -> list[dict[str, Any]]:
        """One event per request, the unauthenticated 401s included, as Key Vault logs them."""
        # Vault hosts only: ARM requests (management.azure.com) go to Azure's activity log, not a vault's audit.
        return [audit_event(entry) for entry in self._journal if parse_host(entry.vault.split(":")[0])]

    def newest(self, offset: int, count: int) -> tuple[list[dict[str, Any]], int]:
        """A page of the events, newest first, and how many there are (only the page is built)."""
        entries = [entry for entry in self._journal if parse_host(entry.vault.split(":")[0])]
        page = entries[::-1][offset : offset + count]
        return [audit_event(entry) for entry in page], len(entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.events())

    def __len__(self) -> int:
        return len(self.events())

    def to_jsonl(self, destination: str | Path | IO[str] | None = None) -> str:
        """The events as JSON lines; also written to ``destination`` (a path or a text file) if given."""
        text = "".join(json.dumps(event, sort_keys=True) + "\n" for event in self.events())
        if isinstance(destination, (str, Path)):
            Path(destination).write_text(text, encoding="utf-8")
        elif destination is not None:
            destination.write(text)
        return text
