"""Which emulators are running, innermost last: what :func:`kv_emulator.current` and the guard read.

The one piece of process-wide state, and deliberately so: interception itself is process-wide (it
patches ``requests`` and ``aiohttp``), so "is an emulator active?" is a question about the process.
"""

from __future__ import annotations

import threading

__all__ = ["innermost", "is_active", "pop", "push"]

_lock = threading.Lock()
_running: list[object] = []  # Emulator objects; typed loosely so this base module imports nothing above it


def push(emulator: object) -> None:
    with _lock:
        _running.append(emulator)


def pop(emulator: object) -> None:
    with _lock:
        if emulator in _running:
            _running.remove(emulator)


def innermost() -> object | None:
    """The innermost running emulator (the one that answers), or None while none runs."""
    with _lock:
        return _running[-1] if _running else None


def is_active() -> bool:
    with _lock:
        return bool(_running)
