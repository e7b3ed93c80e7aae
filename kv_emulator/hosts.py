"""Which hosts are vaults: ``<name>.vault.azure.net`` (Key Vault) and ``<name>.managedhsm.azure.net``."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

__all__ = ["HSM_SUFFIX", "INTERCEPTED_URL", "VAULT_SUFFIX", "VaultAddress", "parse_host", "parse_name_or_url"]

VAULT_SUFFIX = "vault.azure.net"
#: The subscription and resource group the emulator's vaults "live" in (audit log, RBAC messages).
SUBSCRIPTION_ID = "00000000-0000-0000-0000-00000000c0de"
RESOURCE_GROUP = "kv-emulator"
HSM_SUFFIX = "managedhsm.azure.net"

# Any port is served (a server or the werkzeug test client may use one); interception claims :443 only.
_HOST = re.compile(r"^(?P<name>[a-z0-9-]{1,63})\.(?P<suffix>vault|managedhsm)\.azure\.net(?::\d{1,5})?$", re.I)
#: The URLs an emulator answers in-process: vaults and Managed HSMs, over https, on the default port.
INTERCEPTED_URL = re.compile(r"^https://[a-z0-9-]{1,63}\.(vault|managedhsm)\.azure\.net(:443)?(/|\?|$)", re.I)


@dataclasses.dataclass(frozen=True)
class VaultAddress:
    name: str
    managed_hsm: bool = False

    @property
    def dns_name(self) -> str:
        return f"{self.name}.{HSM_SUFFIX if self.managed_hsm else VAULT_SUFFIX}"

    @property
    def url(self) -> str:
        return f"https://{self.dns_name}"

    @property
    def resource_id(self) -> str:
        """The Azure Resource Manager id the emulator gives this vault (a fixed, fake subscription)."""
        provider = "managedHSMs" if self.managed_hsm else "vaults"
        return (
            f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
            f"/providers/Microsoft.KeyVault/{provider}/{self.name}"
        )


def parse_host(host: str) -> VaultAddress | None:
    match = _HOST.match(host)
    if match is None:
        return None
    return VaultAddress(match.group("name").lower(), match.group("suffix").lower() == "managedhsm")


def parse_name_or_url(name_or_url: str) -> VaultAddress:
    """A bare name means a Key Vault; a URL may name a vault or a Managed HSM."""
    if "://" not in name_or_url:
        return VaultAddress(name_or_url.lower())
    address = parse_host(urlsplit(name_or_url).netloc)
    if address is None:
        raise ValueError(
            f"not a Key Vault URL: {name_or_url!r} "
            "(expected https://<name>.vault.azure.net or https://<name>.managedhsm.azure.net)"
        )
    return address
