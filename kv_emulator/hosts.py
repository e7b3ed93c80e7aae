"""Which hosts are vaults: ``<name>.vault.azure.net`` (Key Vault) and ``<name>.managedhsm.azure.net``, and
the same in the sovereign clouds (Azure China ``*.azure.cn``, Azure US Government ``*.usgovcloudapi.net``).

Each cloud has its own challenge resource (``https://vault.azure.cn``) and login authority
(``login.chinacloudapi.cn``). Azure Germany (``*.vault.microsoftazure.de``) was retired in 2021 and is
not emulated.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from urllib.parse import urlsplit

__all__ = [
    "CLOUDS",
    "GRAPH_HOSTS",
    "HSM_SUFFIX",
    "INTERCEPTED_URL",
    "PUBLIC",
    "VAULT_SUFFIX",
    "Cloud",
    "VaultAddress",
    "cloud_of_resource",
    "parse_host",
    "parse_name_or_url",
]

#: The subscription and resource group the emulator's vaults "live" in (audit log, RBAC messages).
SUBSCRIPTION_ID = "00000000-0000-0000-0000-00000000c0de"
RESOURCE_GROUP = "kv-emulator"


@dataclasses.dataclass(frozen=True)
class Cloud:
    """One Azure cloud: its vault DNS suffixes, its Entra ID authority and its token issuer host."""

    name: str
    vault_suffix: str
    hsm_suffix: str
    login_host: str
    sts_host: str
    graph_host: str = "graph.microsoft.com"

    @property
    def vault_resource(self) -> str:
        return f"https://{self.vault_suffix}"

    @property
    def hsm_resource(self) -> str:
        return f"https://{self.hsm_suffix}"

    @property
    def authority(self) -> str:
        return f"https://{self.login_host}"

    def issuer(self, tenant_id: str) -> str:
        """The ``iss`` of a v1 access token from this cloud's Entra ID."""
        return f"https://{self.sts_host}/{tenant_id}/"


PUBLIC = Cloud("AzureCloud", "vault.azure.net", "managedhsm.azure.net", "login.microsoftonline.com", "sts.windows.net")
CHINA = Cloud(
    "AzureChinaCloud",
    "vault.azure.cn",
    "managedhsm.azure.cn",
    "login.chinacloudapi.cn",
    "sts.chinacloudapi.cn",
    "microsoftgraph.chinacloudapi.cn",
)
# Azure Government's v1 tokens are issued by sts.windows.net, as in the public cloud (unverified).
US_GOVERNMENT = Cloud(
    "AzureUSGovernment",
    "vault.usgovcloudapi.net",
    "managedhsm.usgovcloudapi.net",
    "login.microsoftonline.us",
    "sts.windows.net",
    "graph.microsoft.us",
)
CLOUDS = (PUBLIC, CHINA, US_GOVERNMENT)
#: Microsoft Graph in each cloud (the directory's REST API; kv_emulator.graph answers a small part of it).
GRAPH_HOSTS = tuple(cloud.graph_host for cloud in CLOUDS)

VAULT_SUFFIX = PUBLIC.vault_suffix
HSM_SUFFIX = PUBLIC.hsm_suffix

_SUFFIXES = {
    suffix: (cloud, suffix == cloud.hsm_suffix) for cloud in CLOUDS for suffix in (cloud.vault_suffix, cloud.hsm_suffix)
}
_SUFFIX_PATTERN = "|".join(re.escape(suffix) for suffix in _SUFFIXES)
# Any port is served (a server or the werkzeug test client may use one); interception claims :443 only.
_HOST = re.compile(rf"^(?P<name>[a-z0-9-]{{1,63}})\.(?P<suffix>{_SUFFIX_PATTERN})(?::\d{{1,5}})?$", re.I)
#: The URLs an emulator answers in-process: vaults and Managed HSMs of every cloud, over https, on the default port.
INTERCEPTED_URL = re.compile(rf"^https://[a-z0-9-]{{1,63}}\.({_SUFFIX_PATTERN})(:443)?(/|\?|$)", re.I)


@dataclasses.dataclass(frozen=True)
class VaultAddress:
    name: str
    managed_hsm: bool = False
    cloud: Cloud = PUBLIC

    @property
    def dns_name(self) -> str:
        return f"{self.name}.{self.cloud.hsm_suffix if self.managed_hsm else self.cloud.vault_suffix}"

    @property
    def url(self) -> str:
        return f"https://{self.dns_name}"

    @property
    def resource(self) -> str:
        """The resource a token for this vault is for (the challenge's ``resource``)."""
        return self.cloud.hsm_resource if self.managed_hsm else self.cloud.vault_resource

    @property
    def resource_id(self) -> str:
        """The Azure Resource Manager id the emulator gives this vault (a fixed, fake subscription)."""
        provider = "managedHSMs" if self.managed_hsm else "vaults"
        return (
            f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP}"
            f"/providers/Microsoft.KeyVault/{provider}/{self.name}"
        )


@functools.lru_cache(maxsize=1024)
def parse_host(host: str) -> VaultAddress | None:
    """The vault a host name names (any port), or None; cached, as every request asks."""
    match = _HOST.match(host)
    if match is None:
        return None
    cloud, managed_hsm = _SUFFIXES[match.group("suffix").lower()]
    return VaultAddress(match.group("name").lower(), managed_hsm, cloud)


def parse_name_or_url(name_or_url: str) -> VaultAddress:
    """A bare name means a Key Vault; a URL may name a vault or a Managed HSM, in any supported cloud."""
    if "://" not in name_or_url:
        return VaultAddress(name_or_url.lower())
    address = parse_host(urlsplit(name_or_url).netloc)
    if address is None:
        raise ValueError(
            f"not a Key Vault URL: {name_or_url!r} "
            "(expected https://<name>.vault.azure.net or https://<name>.managedhsm.azure.net, "
            "or the same in Azure China (.azure.cn) or Azure US Government (.usgovcloudapi.net))"
        )
    return address


def cloud_of_resource(resource: str) -> Cloud:
    """The cloud whose vaults (or Graph) a token's audience (``https://vault.azure.cn``) is for; else the public one."""
    host = (urlsplit(resource).hostname or resource).lower().rstrip("/")
    for cloud in CLOUDS:
        if host in (cloud.vault_suffix, cloud.hsm_suffix, cloud.graph_host):
            return cloud
    return PUBLIC


def cloud_of_login_host(host: str) -> Cloud:
    """The cloud whose Entra ID answers on ``host``; the public one for its aliases."""
    host = host.lower().split(":")[0]
    for cloud in CLOUDS:
        if host == cloud.login_host:
            return cloud
    return PUBLIC
