"""What an in-process client was just told to wait for: an operation that ends at a known emulator time.

The Python SDK's certificate poller asks once right after the create, hears ``inProgress``, and sleeps five
seconds before asking again. In virtual time that sleep moves the emulator's clock past the end of the
issuance; in real time it would cost five real seconds in every test. So the store notes, for the thread or
task it just answered, when the operation ends and how to end it; when that same client next sleeps at least
until then, the sleep interceptor pauses for a moment (:data:`GRACE`), ends the operation and skips the rest
of the sleep: asking again, the client finds what it would have found after waiting. A client that asks
again without sleeping (the JavaScript samples cancel right after the create) still finds the operation in
progress.

Every request made in-process forgets the note first, so only a sleep straight after the answer counts.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

__all__ = ["GRACE", "due_within", "expect", "forget"]

_awaited: contextvars.ContextVar[tuple[float, Callable[[], None]] | None] = contextvars.ContextVar(
    "kv_emulator_awaited", default=None
)


def expect(due: float, finish: Callable[[], None]) -> None:
    """The client just answered will find the operation done at ``due``; ``finish()`` ends it early."""
    _awaited.set((due, finish))


def forget() -> None:
    """A new request: what the previous answer said no longer stands."""
    _awaited.set(None)


def due_within(now: float, seconds: float) -> Callable[[], None] | None:
    """The client sleeps ``seconds`` from ``now``: if the operation it waits for ends by then, the function that
    ends it (the caller pauses for :data:`GRACE` first, then calls it and skips the rest of the sleep)."""
    awaited = _awaited.get()
    _awaited.set(None)
    if awaited is None or now + seconds < awaited[0]:
        return None
    return awaited[1]


GRACE = 0.05
"""Real seconds a skipped sleep still lasts before the operation ends: what the client's other threads or
tasks do right after the create (the Python SDK's own test cancels while its poller runs in a thread) comes
first, as it would during the service's few seconds."""
