"""The request journal: every request the emulator answered, in order, for tests to read.

It records what a test needs to check client behaviour (operation, status, client request id, timing)
and never a secret value or key material.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Call", "Journal", "JournalEntry", "group_calls"]


@dataclasses.dataclass
class JournalEntry:
    """One request as the emulator saw it."""

    method: str
    url: str
    vault: str
    operation: str | None = None
    status: int = 0
    error_code: str | None = None
    client_request_id: str | None = None
    request_id: str = ""
    api_version: str | None = None
    authorized: bool = False
    time: float = 0.0
    duration: float = 0.0
    exception: str | None = None
    attempt: int = 1
    """1 for the first request with this client request id, 2 for its first retry, and so on; the SDK's
    bodiless challenge (answered 401) before them is attempt 0."""
    delay: float | None = None
    """Seconds the client waited before sending this attempt. In-process, the delay it chose (its sleep, real
    or virtual); over the wire (server mode), the gap from the end of the answer to the previous attempt of
    the same client request id to this attempt's arrival: the sleep plus the client's own time around it."""
    throttled: bool = False
    injected: str | None = None
    """The injected fault that answered this request, if one did."""
    caller: dict[str, Any] | None = None
    """Who the bearer token names (``oid``, ``appid``, ``tid``), when it is a JWT."""
    retry_after: float | None = None
    """Seconds the answer asked the client to wait (``Retry-After`` or ``retry-after-ms``), when it did."""
    transaction_class: str | None = None
    """The service-limit class the request counted in (only while throttling is on)."""
    window_used: int | None = None
    """Transactions of that class in the vault's 10-second window after this request (throttling on)."""
    window_limit: int | None = None
    """The class's limit per 10-second window (throttling on)."""

    @property
    def challenged(self) -> bool:
        """True for the 401 the emulator answers a request without a token."""
        return self.status == 401 and not self.authorized

    def __str__(self) -> str:
        label = self.operation or "-"
        error = f" {self.error_code}" if self.error_code else ""
        notes = [f"attempt {self.attempt}"] if self.attempt > 1 else []
        if self.delay:
            notes.append(f"after {self.delay:.2f}s")
        if self.throttled:
            notes.append("throttled")
        if self.injected:
            notes.append(f"injected {self.injected}")
        extra = f" ({', '.join(notes)})" if notes else ""
        return f"{self.method} {self.url} -> {self.status}{error} [{label}]{extra}"


@dataclasses.dataclass
class Call:
    """One logical client call: every attempt that carried the same ``x-ms-client-request-id``."""

    client_request_id: str | None
    attempts: list[JournalEntry]

    @property
    def operation(self) -> str | None:
        return next((a.operation for a in self.attempts if a.operation), None)

    @property
    def retries(self) -> int:
        """Attempts after the first one that got past the challenge."""
        return max(0, sum(1 for a in self.attempts if not a.challenged) - 1)

    @property
    def delays(self) -> list[float]:
        """The delay before each retry, in order (:attr:`JournalEntry.delay`: chosen in-process, measured
        as the gap since the previous answer over the wire)."""
        return [a.delay or 0.0 for a in self.attempts if not a.challenged][1:]

    @property
    def statuses(self) -> list[int]:
        """Statuses of the attempts after the bodiless challenge (0: the transport failed, no answer)."""
        return [a.status for a in self.attempts if not a.challenged]

    @property
    def final(self) -> JournalEntry:
        return self.attempts[-1]


def group_calls(entries: list[JournalEntry]) -> list[Call]:
    """Entries grouped per logical call (client request id), in the order the calls began."""
    grouped: dict[str, Call] = {}
    for index, entry in enumerate(entries):
        key = entry.client_request_id or f"#{index}"
        grouped.setdefault(key, Call(entry.client_request_id, [])).attempts.append(entry)
    return list(grouped.values())


#: Answer times kept for measuring retry gaps over the wire: enough for every call still retrying.
_ANSWERED_LIMIT = 4096


class Journal:
    """A thread-safe, list-like record of :class:`JournalEntry` objects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []
        self._attempts: dict[str, int] = {}
        self._answered: dict[str, float] = {}

    def answered(self, client_request_id: str | None, at: float) -> None:
        """A socket door's note: its answer to this call ended at ``at`` (``time.monotonic()``)."""
        if not client_request_id:
            return
        with self._lock:
            self._answered.pop(client_request_id, None)  # newest last, so the oldest is dropped first
            self._answered[client_request_id] = at
            if len(self._answered) > _ANSWERED_LIMIT:
                del self._answered[next(iter(self._answered))]

    def gap(self, client_request_id: str | None, arrived: float) -> float | None:
        """Seconds from the end of this call's previous answer to ``arrived`` (``time.monotonic()``), or None
        for a call's first request: over the wire, the delay a client chose can only be measured as this."""
        if not client_request_id:
            return None
        with self._lock:
            answered = self._answered.get(client_request_id)
        return None if answered is None else max(0.0, arrived - answered)

    def record(self, entry: JournalEntry) -> None:
        """Add an entry, numbering it as an attempt of its client request id."""
        with self._lock:
            if entry.challenged:
                entry.attempt = 0
            elif entry.client_request_id:
                entry.attempt = self._attempts.get(entry.client_request_id, 0) + 1
                self._attempts[entry.client_request_id] = entry.attempt
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._attempts.clear()
            self._answered.clear()

    def calls(self, operation: str | None = None) -> list[Call]:
        """Attempts grouped per logical call (client request id), in the order the calls began."""
        return [c for c in group_calls(self._snapshot()) if operation is None or c.operation == operation]

    def _snapshot(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    def since(self, start: int) -> list[JournalEntry]:
        """The entries from index ``start`` on (all of them if the journal was cleared since)."""
        entries = self._snapshot()
        return entries[start:] if start <= len(entries) else entries

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self._snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __getitem__(self, index: int) -> JournalEntry:
        return self._snapshot()[index]

    @property
    def last(self) -> JournalEntry | None:
        entries = self._snapshot()
        return entries[-1] if entries else None

    def operations(self, *, include_challenges: bool = False) -> list[str | None]:
        """Operation names in order; the bodiless 401 challenges are left out unless asked for."""
        return [e.operation for e in self._snapshot() if include_challenges or not e.challenged]

    def filter(self, operation: str | None = None, *, status: int | None = None) -> list[JournalEntry]:
        return [
            e
            for e in self._snapshot()
            if (operation is None or e.operation == operation) and (status is None or e.status == status)
        ]

    def internal_errors(self) -> list[JournalEntry]:
        """Entries where the emulator itself failed (a Key Vault-shaped 500 with a traceback)."""
        return [e for e in self._snapshot() if e.exception]

    def format(self) -> str:
        """A readable dump, one line per request."""
        return "\n".join(str(e) for e in self._snapshot()) or "(no requests)"

    def __repr__(self) -> str:
        return f"<Journal {len(self)} requests>"
