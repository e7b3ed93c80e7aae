"""A vault: its name, its settings and the stores of the objects it holds, behind one lock, and its time."""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from ..config import Settings
from ..hosts import PUBLIC, Cloud, VaultAddress
from .attestation import AttestationAuthority
from .authorization import Authorization
from .backup import BackupSealer
from .certificate_crypto import CertificateAuthority
from .certificates import CertificateStore, PolicyReader
from .hsm_backup import BackupStorage, HsmJobs
from .hsm_rbac import HsmAccessControl
from .hsm_settings import HsmSettings
from .keypool import RsaKeyPool
from .keys import KeyStore
from .network import NetworkRules
from .schedule import Schedule
from .secrets import SecretStore
from .security_domain import SecurityDomain
from .versioned_state import plain

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
        key_pool: RsaKeyPool | None = None,
        read_policy: PolicyReader | None = None,
        cloud: Cloud = PUBLIC,
        backup_storage: BackupStorage | None = None,
    ) -> None:
        """``key_pool`` makes RSA keys ahead of time (the emulator's; None: inline); ``read_policy`` reads a
        certificate policy given as a wire-form dict to the direct-access API (the handlers' parser)."""
        self.name = name
        self.managed_hsm = managed_hsm
        self.cloud = cloud
        """The Azure cloud whose host names, challenge resource and login authority the vault has."""
        """A Managed HSM holds keys only, all hardware-backed, and answers its own challenge."""
        self.settings = settings
        self.lock = threading.RLock()
        self._schedule = Schedule(self.lock)
        common: dict[str, Any] = {
            "settings": settings,
            "clock": clock,
            "lock": self.lock,
            "vault": name,
            "schedule": self._schedule,
        }
        self.secrets = SecretStore(sealer=sealer, **common)
        self.keys = KeyStore(
            sealer=sealer,
            premium=settings.sku == "premium",
            managed_hsm=managed_hsm,
            key_pool=key_pool,
            **common,
        )
        self._attestation = attestation or functools.cache(lambda: AttestationAuthority(clock))
        self.authorization = Authorization(
            name,
            settings.location,
            VaultAddress(name, managed_hsm, cloud).resource_id,
            settings.enable_rbac_authorization,
        )
        """RBAC role assignments or access policies (off unless ``enable_rbac_authorization`` is set)."""
        self.access_control = HsmAccessControl()
        """A Managed HSM's local RBAC (role definitions and assignments); checked when ``authorization.rbac`` is
        not None. A vault never uses it."""
        self.hsm_settings = HsmSettings()
        """A Managed HSM's settings (``GET /settings``); a vault never uses them."""
        self.network = NetworkRules(name, settings.location)
        """Firewall rules (ARM ``networkAcls``); open unless ARM sets them."""
        authority = certificate_authority or functools.cache(lambda: CertificateAuthority(clock))
        self.certificates = CertificateStore(
            keys=self.keys,
            secrets=self.secrets,
            sealer=sealer,
            authority=authority,
            premium=settings.sku == "premium",
            pending_polls=settings.certificate_pending_polls,
            issuance_time=settings.certificate_issuance_time,
            read_policy=read_policy,
            **common,
        )
        self.security_domain = SecurityDomain(name, clock=clock, lock=self.lock)
        """A Managed HSM's security domain and activation (see :attr:`activated`)."""
        self.hsm_jobs = HsmJobs(
            name,
            clock=clock,
            lock=self.lock,
            schedule=self._schedule,
            keys=self.keys,
            storage=backup_storage if backup_storage is not None else BackupStorage(),
            security_domain=functools.partial(getattr, self.security_domain, "domain_id"),
        )
        """A Managed HSM's full backup and restore jobs (storage: the emulator's ``hsm_backups``)."""
        schedule = self._schedule  # not the vault: its stores would hold it in a cycle
        for store in (self.secrets, self.keys, self.certificates):
            store.on_new_version.append(lambda _version: schedule.changed())

    def catch_up(self, now: float) -> None:
        """Bring the vault up to ``now`` (Unix seconds, the emulator's clock): do the time-driven work that has
        come due since the last catch-up, in this order (see :mod:`.schedule`):

        1. purge deleted secrets, keys and certificates whose scheduled purge date has passed;
        2. complete certificate operations whose issuance time has passed (``certificate_issuance_time``);
        3. rotate keys whose rotation policy says so (each new version stamped with the time it was due);
        4. run certificates' lifetime actions: ``AutoRenew`` (a new version, key and secret) and ``EmailContacts``;
        5. record keys' ``Notify`` actions (for the versions that 3 and 4 left latest).

        The request pipeline calls it once per request, before the handler; every public method of the stores
        calls it too, so direct access sees the same state. When nothing is due it costs one comparison: the
        work is planned on writes, not found by scanning the vault.
        """
        self._schedule.run(int(now))

    @property
    def changes(self) -> int:
        """A counter that moves whenever time-driven work or a new version changed the vault (reads included)."""
        return self._schedule.changes

    @property
    def next_due(self) -> float:
        """When the vault next has time-driven work to do (Unix seconds; ``inf``: nothing planned)."""
        with self.lock:
            return self._schedule.next_due

    def reconfigure(self, settings: Settings) -> None:
        """Apply new vault properties (ARM: retention, purge protection, sku, RBAC); the objects stay."""
        with self.lock:
            self.settings = settings
            for store in (self.secrets, self.keys, self.certificates):
                store.settings = settings
            self.keys.premium = self.certificates.premium = settings.sku == "premium"
            self.authorization.location = self.network.location = settings.location
        self.authorization.rbac = settings.enable_rbac_authorization  # outside the lock: its observers deliver events

    # -- state (kv_emulator.state) ---------------------------------------------------------------------

    STORES = ("secrets", "keys", "certificates")

    def to_state(self, base: Settings) -> dict[str, Any]:
        """The vault as plain data: its address, the settings it has of its own (those that differ from
        ``base``, the emulator's), every object of every store, and its authorization and network rules."""
        with self.lock:
            data = self.rest_state(base)
            stores = data.pop("stores")
            for name in self.STORES:
                data[name] = {**stores.get(name, {}), "objects": getattr(self, name).to_state()["objects"]}
            return data

    def rest_state(self, base: Settings) -> dict[str, Any]:
        """All but the objects: a server stores this beside one row per object (``stores``: what each store
        keeps that belongs to no one name)."""
        own = {
            field.name: getattr(self.settings, field.name)
            for field in dataclasses.fields(self.settings)
            if getattr(self.settings, field.name) != getattr(base, field.name)
        }
        with self.lock:
            stores = {name: getattr(self, name).store_state() for name in self.STORES}
        data = {
            "url": self.url,
            "settings": plain(own),
            "authorization": self.authorization.to_state(),
            "network": self.network.to_state(),
            "stores": {name: value for name, value in stores.items() if value},
        }
        if self.managed_hsm:  # a Managed HSM's local RBAC, settings and security domain (a vault has none)
            data["hsm"] = {
                "access_control": self.access_control.to_state(),
                "settings": self.hsm_settings.to_state(),
                "security_domain": self.security_domain.to_state(),
            }
        return data

    def from_state(self, data: dict[str, Any]) -> None:
        """Take back :meth:`to_state`'s data (the vault was made with the settings it names)."""
        self.authorization.from_state(data.get("authorization", {}))
        self.network.from_state(data.get("network", {}))
        hsm = data.get("hsm")
        if hsm is not None:
            self.access_control = HsmAccessControl.from_state(hsm.get("access_control", {}))
            self.hsm_settings = HsmSettings.from_state(hsm.get("settings", {}))
            if hsm.get("security_domain"):
                self.security_domain.from_state(hsm["security_domain"])
        with self.lock:
            for name in self.STORES:
                getattr(self, name).from_state(data.get(name, {}))

    @property
    def activated(self) -> bool:
        """Whether a Managed HSM is activated (its security domain downloaded or uploaded); a vault always is.
        Only the security domain operations answer on an HSM that is not."""
        return not self.managed_hsm or self.security_domain.activated

    def deactivate(self) -> None:
        """Make a Managed HSM new and provisioned, not activated (ARM ``managedHSMs`` create, or a test's
        ``Emulator.managed_hsm(name, activated=False)``): it must download its security domain first."""
        self.security_domain.deactivate()

    @property
    def attestation(self) -> AttestationAuthority:
        """The attestation authority this vault trusts for key release (the emulator's, made on first use)."""
        return self._attestation()

    @property
    def url(self) -> str:
        return VaultAddress(self.name, self.managed_hsm, self.cloud).url

    def __repr__(self) -> str:
        return f"<Vault {self.url}>"
