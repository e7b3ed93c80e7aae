"""The Azure CLI and azd credentials against the emulator: ``emulate_cli`` (docs/identity.md section 11).

Fake ``az`` and ``azd`` stand first on ``PATH`` while the emulator runs (on by default in session mode),
so the unmodified credentials a developer's laptop uses get tokens the emulator accepts.
"""

from __future__ import annotations

import pytest
from azure.identity import AzureCliCredential, AzureDeveloperCliCredential, DefaultAzureCredential
from azure.identity.aio import AzureCliCredential as AsyncAzureCliCredential
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient


@pytest.fixture(autouse=True)
def _no_service_principal_in_the_environment(monkeypatch):
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.keyvault(emulate_cli=True, strict_auth=True)
def test_the_azure_cli_credential(keyvault):
    client = SecretClient(keyvault.vault_url, AzureCliCredential())
    client.set_secret("db-password", "hunter2")
    assert client.get_secret("db-password").value == "hunter2"
    assert keyvault.requests.last.caller["upn"] == "developer@kv-emulator.test"


@pytest.mark.keyvault(emulate_cli=True, strict_auth=True)
def test_azd_and_the_default_chain_on_a_laptop(keyvault):
    SecretClient(keyvault.vault_url, AzureDeveloperCliCredential()).set_secret("a", "1")
    default = DefaultAzureCredential(exclude_managed_identity_credential=True)  # finds the (fake) az
    assert SecretClient(keyvault.vault_url, default).get_secret("a").value == "1"


@pytest.mark.keyvault(emulate_cli=True, strict_auth=True)
async def test_the_async_azure_cli_credential(keyvault):
    async with AsyncAzureCliCredential() as credential, AsyncSecretClient(keyvault.vault_url, credential) as client:
        await client.set_secret("s", "v")
        assert (await client.get_secret("s")).value == "v"
