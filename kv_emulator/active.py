"""Which emulators are running, innermost last: what :func:`kv_emulator.current` and the guard read.

The one piece of process-wide state, and deliberately so: interception itself is process-wide (it
patches ``requests`` and ``aiohttp``), so "is an emulator active?" is a question about the process.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["current", "is_active", "pop", "push"]

_lock = threading.Lock()
_running: list[Emulator] = []


def push(emulator: Emulator) -> None:
    with _lock:
        _running.append(emulator)


def pop(emulator: Emulator) -> None:
    with _lock:
        if emulator in _running:
            _running.remove(emulator)


def current() -> Emulator | None:
    """The innermost running emulator (the one that answers), or None while none runs.

    Handy with the decorator form, ``@kv_emulator.emulate()``, where no ``as`` name is bound.
    """
    with _lock:
        return _running[-1] if _running else None


def is_active() -> bool:
    with _lock:
        return bool(_running)
