"""Which emulators are running, innermost last: what :func:`kv_emulator.current` and the guard read.

The one piece of process-wide state, and deliberately so: interception itself is process-wide (it
patches ``requests`` and ``aiohttp``), so "is an emulator active?" is a question about the process.
"""

from __future__ import annotations

import threading

__all__ = ["add_server", "innermost", "is_active", "is_server", "pop", "push", "remove_server"]

_lock = threading.Lock()
_running: list[object] = []  # Emulator objects; typed loosely so this base module imports nothing above it
_servers: set[tuple[str, int]] = set()  # (host, port) of kv-emulator servers this process runs


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


def add_server(host: str, port: int) -> None:
    """A kv-emulator server of this process listens at (host, port): traffic through it stays here."""
    with _lock:
        _servers.add((host.lower(), port))


def remove_server(host: str, port: int) -> None:
    with _lock:
        _servers.discard((host.lower(), port))


def is_server(host: str | None, port: int | None) -> bool:
    """True when (host, port) is a kv-emulator server of this process (so not the network)."""
    if not host or not port:
        return False
    with _lock:
        return (host.lower(), port) in _servers
