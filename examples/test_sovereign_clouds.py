"""Sovereign clouds: an Azure China vault with a credential for China's Entra ID (docs/identity.md section 12)."""

from __future__ import annotations

import pytest
from azure.identity import AzureAuthorityHosts, ClientSecretCredential
from azure.keyvault.secrets import SecretClient


@pytest.mark.keyvault(strict_auth=True)
def test_an_azure_china_vault(keyvault):
    credential = ClientSecretCredential(
        keyvault.settings.tenant_id, "app-client-id", "app-secret", authority=AzureAuthorityHosts.AZURE_CHINA
    )
    client = SecretClient("https://orders.vault.azure.cn", credential)
    secret = client.set_secret("db-password", "hunter2")
    assert secret.id.startswith("https://orders.vault.azure.cn/secrets/db-password/")  # ids echo the host
    assert keyvault.identity.issued[-1]["aud"] == "https://vault.azure.cn"  # China's audience and issuer
    assert keyvault.identity.issued[-1]["iss"].startswith("https://sts.chinacloudapi.cn/")


@pytest.mark.keyvault(strict_auth=True)
def test_an_azure_us_government_vault(keyvault):
    credential = ClientSecretCredential(
        keyvault.settings.tenant_id, "app-client-id", "app-secret", authority=AzureAuthorityHosts.AZURE_GOVERNMENT
    )
    client = SecretClient("https://orders.vault.usgovcloudapi.net", credential)
    client.set_secret("db-password", "hunter2")
    assert client.get_secret("db-password").value == "hunter2"
