"""The SDK's sleeps: recorded for the journal, and in virtual time spent on the emulator's clock.

azure-core's retry policy and the Key Vault pollers all sleep through ``transport.sleep`` (sync and
async). While an emulator runs, that sleep notes how long the client chose to wait, so the next request
from the same thread or task can record "the delay before it" in the journal; with virtual time on, it
advances the emulator's clock instead of waiting, so back-off tests take milliseconds.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any
from unittest import mock

from azure.core.pipeline.transport import AsyncHttpTransport, HttpTransport

from ..clock import Clock

__all__ = ["SleepInterceptor", "spend", "take_delay"]

_delay: contextvars.ContextVar[float | None] = contextvars.ContextVar("kv_emulator_delay", default=None)


def _note(seconds: float) -> None:
    _delay.set((_delay.get() or 0.0) + max(0.0, float(seconds)))


def spend(duration: float, clock: Clock, virtual: bool) -> bool:
    """Note a sleep the SDK asked for; in virtual time, spend it on ``clock`` and say so (True), else the
    caller sleeps for real. The patched ``sleep`` and the emulator's own transports share this."""
    _note(duration)
    if virtual:
        clock.advance(max(0.0, float(duration)))
    return virtual


def take_delay() -> float | None:
    """The seconds this thread or task slept since its last request (and forget them)."""
    delay = _delay.get()
    _delay.set(None)
    return delay


class SleepInterceptor:
    def __init__(self, clock: Clock, virtual: Callable[[], bool]) -> None:
        self._clock = clock
        self._virtual = virtual
        self._patches: list[Any] = []

    def start(self) -> None:
        sync_sleep, async_sleep = HttpTransport.sleep, AsyncHttpTransport.sleep
        clock, virtual = self._clock, self._virtual

        def sleep(transport: HttpTransport, duration: float) -> None:
            if not spend(duration, clock, virtual()):
                sync_sleep(transport, duration)

        async def async_sleep_(transport: AsyncHttpTransport, duration: float) -> None:
            if not spend(duration, clock, virtual()):
                await async_sleep(transport, duration)

        self._patches = [
            mock.patch.object(HttpTransport, "sleep", sleep),
            mock.patch.object(AsyncHttpTransport, "sleep", async_sleep_),
        ]
        for patch in self._patches:
            patch.start()

    def stop(self) -> None:
        while self._patches:
            self._patches.pop().stop()
