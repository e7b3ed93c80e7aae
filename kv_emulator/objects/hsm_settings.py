"""A Managed HSM's account settings (``GET /settings``, ``PATCH /settings/{name}``): name, string value, type.

The service's one documented setting is ``AllowKeyManagementOperationsThroughARM``, a boolean, false on a new
HSM (settings.json 7.4-7.6 and its examples; Azure PowerShell live test TestSetting.ps1, which turns it on).
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import BadParameter, HsmSettingNotFound

__all__ = ["DEFAULT_SETTINGS", "HsmSettings"]

#: name -> (type, default value as the service writes it: a string).
DEFAULT_SETTINGS: dict[str, tuple[str, str]] = {
    "AllowKeyManagementOperationsThroughARM": ("boolean", "false"),
}


class HsmSettings:
    """``hsm.hsm_settings.get("AllowKeyManagementOperationsThroughARM")`` -> ``"false"``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = {name: default for name, (_, default) in DEFAULT_SETTINGS.items()}

    def _canonical(self, name: str) -> str:
        for known in DEFAULT_SETTINGS:
            if known.lower() == name.lower():
                return known
        raise HsmSettingNotFound(name)

    def get(self, name: str) -> tuple[str, str, str]:
        """(name, value, type); the service's 404 for a name it does not have."""
        canonical = self._canonical(name)
        with self._lock:
            return canonical, self._values[canonical], DEFAULT_SETTINGS[canonical][0]

    def all(self) -> list[tuple[str, str, str]]:
        return [self.get(name) for name in DEFAULT_SETTINGS]

    def update(self, name: str, value: Any) -> tuple[str, str, str]:
        canonical = self._canonical(name)
        kind = DEFAULT_SETTINGS[canonical][0]
        if not isinstance(value, str):
            raise BadParameter("The property 'value' must be a string.")  # unverified text
        if kind == "boolean":
            if value.lower() not in ("true", "false"):
                # unverified text: the service's wording for a non-boolean value is not recorded
                raise BadParameter(f"Invalid value '{value}' for setting '{canonical}' of type boolean.")
            value = value.lower()
        with self._lock:
            self._values[canonical] = value
        return self.get(canonical)

    def to_state(self) -> dict[str, str]:
        with self._lock:
            return dict(self._values)

    @classmethod
    def from_state(cls, state: dict[str, str]) -> HsmSettings:
        made = cls()
        for name, value in state.items():
            if name in DEFAULT_SETTINGS:
                made._values[name] = value
        return made
