"""The emulator's one source of time: real, frozen, or advanced by a test.

Soft-delete retention, ``created``/``updated`` stamps and scheduled purges all read this clock, so a test
can move 91 days forward in a microsecond. Only :func:`wall_time` reads the machine's clock directly; it is
for things the SDK itself compares with real time (token expiry).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["Clock", "wall_time"]


def wall_time() -> float:
    """Seconds since the epoch from the machine's clock, ignoring any freeze or advance."""
    return time.time()


class Clock:
    """A clock that runs with real time until frozen, and can be advanced either way.

    ``advance`` takes a :class:`~datetime.timedelta` or its keywords: ``clock.advance(days=8)``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._listeners: list[Callable[[], None]] = []
        self._stops: list[Callable[[], float | None]] = []
        self.virtual = False
        """Virtual time: the SDK's retry and polling sleeps, and injected latency, advance this clock
        instead of waiting, so back-off tests take milliseconds."""

    def add_listener(self, listener: Callable[[], None], stop: Callable[[], float | None] | None = None) -> None:
        """Call ``listener()`` after every move of the clock (events fall due on it: kv_emulator.events).

        With ``stop``, :meth:`advance` also halts at the time ``stop()`` names inside a jump and calls the
        listener there, so what happens at that moment (a handler's own requests) is stamped with it.
        """
        self._listeners.append(listener)
        if stop is not None:
            self._stops.append(stop)

    def _moved(self) -> None:
        for listener in list(self._listeners):
            listener()

    def time(self) -> float:
        """Seconds since the epoch, as the emulator sees them."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return wall_time() + self._offset

    def now(self) -> datetime:
        """The emulator's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop time at ``at`` (default: now). Returns the frozen instant."""
        instant = _to_timestamp(at) if at is not None else self.time()
        with self._lock:
            self._frozen_at = instant
        self._moved()
        return self.now()

    def unfreeze(self) -> None:
        """Let time run again from the frozen instant (it does not jump back to real time)."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - wall_time()
                self._frozen_at = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def advance(self, delta: timedelta | float | None = None, /, **kwargs: float) -> datetime:
        """Move time forward by ``delta`` (a timedelta or seconds) or timedelta keywords."""
        if delta is None:
            step = timedelta(**kwargs)
        elif kwargs:
            raise TypeError("advance() takes a timedelta or keywords, not both")
        elif isinstance(delta, timedelta):
            step = delta
        else:
            step = timedelta(seconds=float(delta))
        seconds = step.total_seconds()
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        while seconds > 0:  # stop at each moment a listener asked for inside the jump, then at the end
            now, move = self.time(), seconds
            for stop in self._stops:
                due = stop()
                if due is not None and now < due < now + move:
                    move = due - now
            with self._lock:
                if self._frozen_at is not None:
                    self._frozen_at += move
                else:
                    self._offset += move
            seconds -= move
            self._moved()
        return self.now()

    def to_state(self) -> dict[str, Any]:
        """Plain data (kv_emulator.state): how far from real time it runs, or where it is frozen."""
        with self._lock:
            return {"offset": self._offset, "frozen_at": self._frozen_at}

    def from_state(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._offset = float(data.get("offset", 0.0))
            frozen = data.get("frozen_at")
            self._frozen_at = float(frozen) if frozen is not None else None
        self._moved()

    def reset(self) -> None:
        """Back to real time, not frozen (virtual time stays as configured)."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None

    def __repr__(self) -> str:
        state = "frozen" if self.frozen else "running"
        return f"<Clock {state} at {self.now().isoformat()}>"


def _to_timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.timestamp()
