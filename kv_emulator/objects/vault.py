"""A vault: its name, its settings and the stores of the objects it holds, behind one lock."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from ..config import Settings
from ..hosts import VaultAddress
from .attestation import AttestationAuthority
from .backup import BackupSealer
from .keys import KeyStore
from .secrets import SecretStore

__all__ = ["Vault"]


class Vault:
    """One Key Vault. ``secrets`` and ``keys`` are the direct-access API: seed and inspect without HTTP."""

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        clock: Clock,
        sealer: BackupSealer,
        managed_hsm: bool = False,
        attestation: Callable[[], AttestationAuthority] | None = None,
    ) -> None:
        self.name = name
        self.managed_hsm = managed_hsm
        """A Managed HSM holds keys only, all hardware-backed, and answers its own challenge."""
        self.settings = settings
        self.lock = threading.RLock()
        common: dict[str, Any] = {"settings": settings, "clock": clock, "lock": self.lock, "vault": name}
        self.secrets = SecretStore(sealer=sealer, **common)
        self.keys = KeyStore(sealer=sealer, premium=settings.sku == "premium", managed_hsm=managed_hsm, **common)
        self._attestation = attestation or functools.cache(lambda: AttestationAuthority(clock))

    @property
    def attestation(self) -> AttestationAuthority:
        """The attestation authority this vault trusts for key release (the emulator's, made on first use)."""
        return self._attestation()

    @property
    def url(self) -> str:
        return VaultAddress(self.name, self.managed_hsm).url

    def __repr__(self) -> str:
        return f"<Vault {self.url}>"
