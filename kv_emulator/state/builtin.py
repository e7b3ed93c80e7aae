"""The emulator's own state sections: each names the model that writes and reads it (``to_state``/``from_state``).

Sections load in ``order``: the clock first, then the directory, the vaults (with the backup-sealing key), the
control plane (whose deleted vaults hold whole data planes) and the event subscriptions.
"""

from __future__ import annotations

from typing import Any

from . import register_section

__all__: list[str] = []


def _load_clock(emulator: Any, data: Any) -> None:
    emulator.clock.from_state(data or {})


def _load_identity(emulator: Any, data: Any) -> None:
    emulator.identity.from_state(data or {})


def _dump_registry(emulator: Any) -> Any:
    return emulator.registry.to_state()


def _load_registry(emulator: Any, data: Any) -> None:
    emulator.registry.from_state(data or {})


def _dump_management(emulator: Any) -> Any:
    management = getattr(emulator, "management", None)
    if management is None:
        return None
    base = emulator.registry.settings
    return management.state.to_state(lambda vault: vault.to_state(base))


def _load_management(emulator: Any, data: Any) -> None:
    management = getattr(emulator, "management", None)
    if management is not None:
        management.state.from_state(data or {}, emulator.registry.restore_removed)


def _dump_events(emulator: Any) -> Any:
    return emulator.events.to_state() or None


def _load_events(emulator: Any, data: Any) -> None:
    emulator.events.from_state(data or [])


register_section("clock", lambda emulator: emulator.clock.to_state(), _load_clock, order=10)
register_section("identity", lambda emulator: emulator.identity.to_state(), _load_identity, order=20)
register_section("registry", _dump_registry, _load_registry, order=30)
register_section("management", _dump_management, _load_management, order=40)
register_section("events", _dump_events, _load_events, order=50)
