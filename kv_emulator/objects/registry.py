"""The vaults of one emulator, by host: created on first use, or refused under ``strict_hosts``."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..clock import Clock
from ..config import Settings
from ..errors import KeyVaultError, VaultNotDeclared
from ..hosts import VaultAddress, parse_host, parse_name_or_url
from .attestation import AttestationAuthority
from .backup import BackupSealer
from .certificates import PolicyReader
from .hsm_backup import BackupStorage
from .keypool import RsaKeyPool
from .vault import Vault

__all__ = ["VaultDeleted", "VaultRegistry"]


class VaultDeleted(KeyVaultError):
    """A vault deleted through ARM (emulator-specific: the real world fails at DNS until it is recovered)."""

    status = 404
    code = "VaultNotFound"

    def __init__(self, host: str) -> None:
        super().__init__(
            f"kv-emulator: the vault '{host}' was deleted through Azure Resource Manager; recover it "
            "(createMode: recover) or purge it first."
        )


T = TypeVar("T")


class _Lazy(Generic[T]):
    """A value made on first use. The vaults call it; it points back at nothing, so no reference cycle."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


class VaultRegistry:
    """Vaults by DNS name, with the settings new vaults get; thread-safe."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        key_pool: RsaKeyPool | None = None,
        read_policy: PolicyReader | None = None,
    ) -> None:
        """``key_pool`` and ``read_policy`` go to every vault (see :class:`~.vault.Vault`)."""
        self.settings = settings
        """The emulator's current settings (new vaults take them; the pipeline reads the switches)."""
        self._clock = clock
        self.attestation = _Lazy(lambda: AttestationAuthority(clock))
        """The attestation service every vault here trusts for secure key release (made on first use)."""
        self._key_pool = key_pool
        self._read_policy = read_policy
        self._sealer = BackupSealer()
        self.hsm_backups = BackupStorage()
        """The emulated blob storage Managed HSM full backups write to, by folder URL."""
        self._lock = threading.Lock()
        self._vaults: dict[str, Vault] = {}
        self.on_new_vault: list[Callable[[Vault], None]] = []
        """Told of each vault made (Event Grid listens to its changes); called under the registry's lock."""
        self._deleted: dict[str, float] = {}
        """Vaults ARM deleted, by DNS name, with their purge time: unreachable until then, unless recovered
        (:meth:`put`) or purged (:meth:`release`)."""

    def at(self, address: VaultAddress) -> Vault:
        """The vault at ``address``, created if new."""
        with self._lock:
            vault = self._vaults.get(address.dns_name)
            if vault is None:
                vault = self._vaults[address.dns_name] = Vault(
                    address.name,
                    settings=self.settings,
                    clock=self._clock,
                    sealer=self._sealer,
                    managed_hsm=address.managed_hsm,
                    attestation=self.attestation,
                    key_pool=self._key_pool,
                    read_policy=self._read_policy,
                    cloud=address.cloud,
                    backup_storage=self.hsm_backups,
                )
                for listener in self.on_new_vault:
                    listener(vault)
            return vault

    def for_host(self, host: str) -> Vault:
        """The vault a request's ``Host`` names; 404 ``VaultNotFound`` for an undeclared one in strict mode."""
        address = parse_host(host)
        if address is None:
            raise VaultNotDeclared(host, strict=False)
        with self._lock:
            known = address.dns_name in self._vaults
            if self._deleted.get(address.dns_name, 0.0) > self._clock.time():
                raise VaultDeleted(host)
        if self.settings.strict_hosts and not known and address.dns_name not in self._declared():
            raise VaultNotDeclared(host, strict=True)
        return self.at(address)

    def _declared(self) -> set[str]:
        names = (self.settings.vault_name, *self.settings.vaults)
        return {parse_name_or_url(name).dns_name for name in names}

    def configure(self, address: VaultAddress, settings: Settings) -> Vault:
        """The vault at ``address`` with its own settings (ARM's properties), created if new; objects stay."""
        vault = self.at(address)
        vault.reconfigure(settings)
        return vault

    def remove(self, address: VaultAddress, until: float = float("inf")) -> Vault | None:
        """Take a vault out (ARM deleted it; its host answers 404 until ``until``); :meth:`put` brings it back."""
        with self._lock:
            self._deleted[address.dns_name] = until
            return self._vaults.pop(address.dns_name, None)

    def put(self, vault: Vault) -> None:
        address = VaultAddress(vault.name, vault.managed_hsm)
        with self._lock:
            self._deleted.pop(address.dns_name, None)
            self._vaults[address.dns_name] = vault

    def release(self, address: VaultAddress) -> None:
        """A deleted vault was purged: its host may be a vault again."""
        with self._lock:
            self._deleted.pop(address.dns_name, None)

    def all(self) -> list[Vault]:
        with self._lock:
            return list(self._vaults.values())

    def clear(self) -> None:
        with self._lock:
            self._vaults.clear()
            self._deleted.clear()
        self.hsm_backups.clear()

    # -- state (kv_emulator.state) ---------------------------------------------------------------------

    @property
    def sealer(self) -> BackupSealer:
        """What seals this emulator's backups (its key is state: a backup restores after a restart)."""
        return self._sealer

    def to_state(self, *, vaults: bool = True) -> dict[str, Any]:
        """Plain data: the backup-sealing key, the hosts ARM deleted (until when) and every vault (``vaults``:
        False leaves them out, for a server that stores them by object)."""
        with self._lock:
            items, removed = list(self._vaults.values()), dict(self._deleted)
        data: dict[str, Any] = {
            "sealing_key": base64.b64encode(self._sealer.key).decode(),
            "removed": {host: (until if until != float("inf") else None) for host, until in removed.items()},
            "hsm_backups": self.hsm_backups.to_state(),
        }
        if vaults:
            data["vaults"] = [vault.to_state(self.settings) for vault in sorted(items, key=lambda v: v.url)]
        return data

    def from_state(self, data: dict[str, Any]) -> None:
        """Replace every vault with :meth:`to_state`'s."""
        self.clear()
        if data.get("sealing_key"):
            self._sealer.use_key(base64.b64decode(data["sealing_key"]))
        self.hsm_backups.from_state(data.get("hsm_backups", {}))
        for item in data.get("vaults", ()):
            self.restore_vault(item)
        with self._lock:
            for host, until in data.get("removed", {}).items():
                self._deleted[host] = float("inf") if until is None else float(until)

    def restore_vault(self, data: dict[str, Any]) -> Vault:
        """A vault made from its state (:meth:`Vault.to_state`), with the settings of its own it names."""
        own = data.get("settings") or {}
        vault = self.configure(parse_name_or_url(data["url"]), self.settings.replace(**own) if own else self.settings)
        vault.from_state(data)
        return vault

    def restore_removed(self, data: dict[str, Any], until: float) -> Vault:
        """A vault ARM deleted, made from its state and taken out again (unreachable until ``until``)."""
        vault = self.restore_vault(data)
        self.remove(parse_name_or_url(data["url"]), until)
        return vault
