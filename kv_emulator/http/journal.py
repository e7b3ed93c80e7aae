"""The request journal: every request the emulator answered, in order, for tests to read.

It records what a test needs to check client behaviour (operation, status, client request id, timing)
and never a secret value or key material.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

__all__ = ["Journal", "JournalEntry"]


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

    @property
    def challenged(self) -> bool:
        """True for the 401 the emulator answers a request without a token."""
        return self.status == 401 and not self.authorized

    def __str__(self) -> str:
        label = self.operation or "-"
        error = f" {self.error_code}" if self.error_code else ""
        return f"{self.method} {self.url} -> {self.status}{error} [{label}]"


class Journal:
    """A thread-safe, list-like record of :class:`JournalEntry` objects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[JournalEntry] = []

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _snapshot(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

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
