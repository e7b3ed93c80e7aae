"""The SDK's sleeps: recorded for the journal, and in virtual time spent on the emulator's clock.

azure-core's retry policy and the Key Vault pollers all sleep through ``transport.sleep`` (sync and
async). While an emulator runs, that sleep notes how long the client chose to wait, so the next request
from the same thread or task can record "the delay before it" in the journal; with virtual time on, it
advances the emulator's clock instead of waiting, so back-off tests take milliseconds. In real time, a sleep
right after an answer that said "in progress until T" ends that operation after a brief pause when the
sleep would have reached T, and the rest of it is skipped (:mod:`kv_emulator.objects.awaiting`): a
certificate poller costs no seconds.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

from azure.core.pipeline.transport import AsyncHttpTransport, HttpTransport

from ..clock import Clock
from ..objects import awaiting

__all__ = ["SleepInterceptor", "spend", "spend_async", "take_delay"]

_delay: contextvars.ContextVar[float | None] = contextvars.ContextVar("kv_emulator_delay", default=None)


def _note(seconds: float) -> None:
    _delay.set((_delay.get() or 0.0) + max(0.0, float(seconds)))


def take_delay() -> float | None:
    """The seconds this thread or task slept since its last request (and forget them)."""
    delay = _delay.get()
    _delay.set(None)
    return delay


def spend(duration: float, clock: Clock, virtual: bool) -> bool:
    """Note a sleep the SDK asked for and spend it if the emulator can: on ``clock`` in virtual time, or by
    ending the operation it waits for after a brief pause (:mod:`kv_emulator.objects.awaiting`). False: the
    caller sleeps for real. The patched ``sleep`` and the emulator's own transports share this."""
    _note(duration)
    if virtual:
        clock.advance(max(0.0, float(duration)))
        return True
    finish = awaiting.due_within(clock.time(), float(duration))
    if finish is None:
        return False
    threading.Event().wait(awaiting.GRACE)  # not time.sleep: tests forbid that one
    finish()
    return True


async def spend_async(duration: float, clock: Clock, virtual: bool) -> bool:
    """:func:`spend` for async clients: the brief pause lets other tasks run."""
    _note(duration)
    if virtual:
        clock.advance(max(0.0, float(duration)))
        return True
    finish = awaiting.due_within(clock.time(), float(duration))
    if finish is None:
        return False
    await _pause(awaiting.GRACE)
    finish()
    return True


async def _pause(seconds: float) -> None:
    """A real pause that lets other tasks run, on the loop's timer (not ``asyncio.sleep``: tests forbid it)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    loop.call_later(seconds, wake)
    await done


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
            if not await spend_async(duration, clock, virtual()):
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
