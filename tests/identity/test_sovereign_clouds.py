"""Sovereign clouds: Azure China and Azure US Government vaults and Managed HSMs, with their own login."""

from __future__ import annotations

import jwt
import pytest
import requests
from azure.identity import AzureAuthorityHosts, ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

CLOUDS = [
    pytest.param(
        AzureAuthorityHosts.AZURE_CHINA, "vault.azure.cn", "managedhsm.azure.cn", "sts.chinacloudapi.cn", id="china"
    ),
    pytest.param(
        AzureAuthorityHosts.AZURE_GOVERNMENT,
        "vault.usgovcloudapi.net",
        "managedhsm.usgovcloudapi.net",
        "sts.windows.net",
        id="us-government",
    ),
]
CLIENT_ID, SECRET = "11111111-2222-3333-4444-555555555555", "client-secret"


def _credential(keyvault, authority):
    return ClientSecretCredential(keyvault.settings.tenant_id, CLIENT_ID, SECRET, authority=authority)


@pytest.mark.parametrize(("authority", "vault_suffix", "hsm_suffix", "sts"), CLOUDS)
@pytest.mark.keyvault(strict_auth=True)
def test_an_unmodified_credential_of_that_cloud_reaches_its_vault(keyvault, authority, vault_suffix, hsm_suffix, sts):
    credential = _credential(keyvault, authority)
    url = f"https://orders.{vault_suffix}"
    client = SecretClient(url, credential)
    secret = client.set_secret("db-password", "hunter2")
    assert secret.id.startswith(f"{url}/secrets/db-password/")  # ids echo the cloud's host
    assert client.get_secret("db-password").value == "hunter2"
    claims = keyvault.identity.issued[-1]
    assert (claims["aud"], claims["iss"]) == (
        f"https://{vault_suffix}",
        f"https://{sts}/{keyvault.settings.tenant_id}/",
    )
    hsm = KeyClient(f"https://pay.{hsm_suffix}", credential)
    key = hsm.create_rsa_key("signing", size=2048)
    assert key.id.startswith(f"https://pay.{hsm_suffix}/keys/signing/")
    assert key.key_type == "RSA-HSM"
    assert keyvault.vault(f"https://orders.{vault_suffix}") is not keyvault.vault("orders")  # another cloud


@pytest.mark.parametrize(("authority", "vault_suffix", "hsm_suffix", "sts"), CLOUDS)
def test_the_challenge_names_the_cloud_resource_and_authority(keyvault, authority, vault_suffix, hsm_suffix, sts):
    tenant = keyvault.settings.tenant_id
    login = authority.rstrip("/")
    vault = requests.get(f"https://orders.{vault_suffix}/secrets/x?api-version=7.5", timeout=5)
    assert vault.status_code == 401
    expected = f'Bearer authorization="https://{login}/{tenant}", resource="https://{vault_suffix}"'
    assert vault.headers["WWW-Authenticate"] == expected
    hsm = requests.get(f"https://pay.{hsm_suffix}/keys/x?api-version=7.5", timeout=5)
    assert (
        hsm.headers["WWW-Authenticate"]
        == f'Bearer authorization="https://{login}/{tenant}", resource="https://{hsm_suffix}"'
    )


@pytest.mark.keyvault(strict_auth=True)
def test_a_public_cloud_token_is_refused_by_a_china_vault(keyvault):
    token = keyvault.credential.get_token("https://vault.azure.net/.default").token
    response = requests.get(
        "https://orders.vault.azure.cn/secrets/x?api-version=7.5",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "AKV10022: Invalid audience. Expected https://vault.azure.cn, found: https://vault.azure.net."
    )


@pytest.mark.keyvault(strict_auth=True)
def test_the_emulator_credential_gets_tokens_for_any_cloud(keyvault):
    client = SecretClient("https://orders.vault.azure.cn", keyvault.credential)
    client.set_secret("a", "b")
    token = keyvault.credential.get_token("https://vault.azure.cn/.default").token
    assert jwt.decode(token, options={"verify_signature": False})["iss"].startswith("https://sts.chinacloudapi.cn/")


@pytest.mark.keyvault(strict_auth=True)
async def test_async_clients_in_azure_china(keyvault):
    async with (
        AsyncClientSecretCredential(
            keyvault.settings.tenant_id, CLIENT_ID, SECRET, authority=AzureAuthorityHosts.AZURE_CHINA
        ) as credential,
        AsyncSecretClient("https://orders.vault.azure.cn", credential) as client,
    ):
        await client.set_secret("s", "v")
        assert (await client.get_secret("s")).value == "v"


def test_retired_and_unknown_clouds_are_not_vaults(keyvault):
    assert not keyvault.handles("https://orders.vault.microsoftazure.de/secrets/x")  # Azure Germany, retired 2021
    with pytest.raises(ValueError, match="not a Key Vault URL"):
        keyvault.vault("https://orders.vault.microsoftazure.de")
