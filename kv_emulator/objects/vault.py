"""A vault: its name, its settings and the stores of the objects it holds, behind one lock."""

from __future__ import annotations

import threading

from ..clock import Clock
from ..config import Settings
from .backup import BackupSealer
from .secrets import SecretStore

__all__ = ["Vault"]


class Vault:
    """One Key Vault. ``secrets`` is the direct-access API for seeding and inspecting without HTTP."""

    def __init__(self, name: str, *, settings: Settings, clock: Clock, sealer: BackupSealer) -> None:
        self.name = name
        self.settings = settings
        self.lock = threading.RLock()
        self.secrets = SecretStore(sealer=sealer, settings=settings, clock=clock, lock=self.lock, vault=name)

    @property
    def url(self) -> str:
        return f"https://{self.name}.vault.azure.net"

    def __repr__(self) -> str:
        return f"<Vault {self.url}>"
