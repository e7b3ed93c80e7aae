"""What an in-process client was just told to wait for: an operation that ends at a known emulator time.

The Python SDK's certificate poller asks once right after the create, hears ``inProgress``, and sleeps five
seconds before asking again. In virtual time that sleep moves the emulator's clock past the end of the
issuance; in real time it would cost five real seconds in every test. So the store notes, for the thread or
task it just answered, when the operation ends and how to end it; when that same client next sleeps at least
until then, the sleep interceptor ends the operation at once and skips the sleep: asking again, the client
finds what it would have found after waiting. A client that asks again without sleeping (the JavaScript
samples cancel right after the create) still finds the operation in progress.

Every request made in-process forgets the note first, so only a sleep straight after the answer counts.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable

__all__ = ["expect", "finish_if_due", "forget"]

_awaited: contextvars.ContextVar[tuple[float, Callable[[], None]] | None] = contextvars.ContextVar(
    "kv_emulator_awaited", default=None
)


def expect(due: float, finish: Callable[[], None]) -> None:
    """The client just answered will find the operation done at ``due``; ``finish()`` ends it early."""
    _awaited.set((due, finish))


def forget() -> None:
    """A new request: what the previous answer said no longer stands."""
    _awaited.set(None)


def finish_if_due(now: float, seconds: float) -> bool:
    """The client sleeps ``seconds`` from ``now``: if the operation it waits for ends by then, end it now and
    say so (the sleep is then unnecessary)."""
    awaited = _awaited.get()
    if awaited is None:
        return False
    _awaited.set(None)
    due, finish = awaited
    if now + seconds < due:
        return False
    finish()
    return True
