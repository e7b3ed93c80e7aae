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
from .authorization import Authorization
from .backup import BackupSealer
from .certificates import CertificateStore
from .keys import KeyStore
from .secrets import SecretStore
from .x509 import CertificateAuthority

__all__ = ["Vault"]


class Vault:
    """One Key Vault. ``secrets``, ``keys`` and ``certificates`` are the direct-access API: seed and inspect
    without HTTP."""

    def __init__(
        self,
        name: str,
        *,
        settings: Settings,
        clock: Clock,
        sealer: BackupSealer,
        managed_hsm: bool = False,
        attestation: Callable[[], AttestationAuthority] | None = None,
        certificate_authority: Callable[[], CertificateAuthority] | None = None,
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
        self.authorization = Authorization(
            name, settings.location, VaultAddress(name, managed_hsm).resource_id, settings.enable_rbac_authorization
        )
        """RBAC role assignments or access policies (off unless ``enable_rbac_authorization`` is set)."""
        authority = certificate_authority or functools.cache(lambda: CertificateAuthority(clock))
        self.certificates = CertificateStore(
            keys=self.keys,
            secrets=self.secrets,
            sealer=sealer,
            authority=authority,
            premium=settings.sku == "premium",
            pending_polls=settings.certificate_pending_polls,
            **common,
        )

    @property
    def attestation(self) -> AttestationAuthority:
        """The attestation authority this vault trusts for key release (the emulator's, made on first use)."""
        return self._attestation()

    @property
    def url(self) -> str:
        return VaultAddress(self.name, self.managed_hsm).url

    def __repr__(self) -> str:
        return f"<Vault {self.url}>"
