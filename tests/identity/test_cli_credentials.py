"""AzureCliCredential, AzureDeveloperCliCredential and DefaultAzureCredential through fake az / azd on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import jwt
import pytest
from azure.identity import AzureCliCredential, AzureDeveloperCliCredential, DefaultAzureCredential
from azure.identity.aio import AzureCliCredential as AsyncAzureCliCredential
from azure.identity.aio import AzureDeveloperCliCredential as AsyncAzureDeveloperCliCredential
from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

import kv_emulator

pytestmark = pytest.mark.slow

CLI = pytest.mark.keyvault(emulate_cli=True, strict_auth=True)


@pytest.fixture(autouse=True)
def _no_environment_credentials(monkeypatch):
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


def _roundtrip(keyvault, credential):
    client = SecretClient(keyvault.vault_url, credential)
    client.set_secret("s", "v")
    assert client.get_secret("s").value == "v"


@CLI
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: AzureCliCredential(), id="az"),
        pytest.param(lambda: AzureDeveloperCliCredential(), id="azd"),
        pytest.param(lambda: DefaultAzureCredential(exclude_managed_identity_credential=True), id="default"),
    ],
)
def test_sync_cli_credentials_reach_a_strict_vault(keyvault, make):
    _roundtrip(keyvault, make())
    caller = keyvault.requests[-1].caller
    assert caller["upn"] == "developer@kv-emulator.test"


@CLI
@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: AsyncAzureCliCredential(), id="az"),
        pytest.param(lambda: AsyncAzureDeveloperCliCredential(), id="azd"),
        pytest.param(lambda: AsyncDefaultAzureCredential(exclude_managed_identity_credential=True), id="default"),
    ],
)
async def test_async_cli_credentials_reach_a_strict_vault(keyvault, make):
    async with make() as credential, AsyncSecretClient(keyvault.vault_url, credential) as client:
        await client.set_secret("s", "v")
        assert (await client.get_secret("s")).value == "v"


@CLI
def test_az_answers_resource_scope_and_tenant(keyvault):
    az = shutil.which("az")
    assert az is not None and "kv-emulator-cli-" in az
    out = json.loads(
        subprocess.check_output(
            [az, "account", "get-access-token", "--output", "json", "--scope", "https://vault.azure.cn/.default"],
            text=True,
        )
    )
    claims = jwt.decode(out["accessToken"], options={"verify_signature": False})
    assert (claims["aud"], claims["iss"]) == (
        "https://vault.azure.cn",
        f"https://sts.chinacloudapi.cn/{claims['tid']}/",
    )
    assert set(out) == {"accessToken", "expiresOn", "expires_on", "subscription", "tenant", "tokenType"}
    other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    out = json.loads(
        subprocess.check_output(
            [
                az,
                "account",
                "get-access-token",
                "--output",
                "json",
                "--resource",
                "https://vault.azure.net",
                "--tenant",
                other,
            ],
            text=True,
        )
    )
    assert jwt.decode(out["accessToken"], options={"verify_signature": False})["tid"] == other
    assert keyvault.identity.verify(out["accessToken"])["aud"] == "https://vault.azure.net"  # signed by the emulator


@CLI
def test_what_the_fake_cli_cannot_do_it_says_clearly(keyvault):
    result = subprocess.run(["az", "keyvault", "secret", "show", "--name", "x"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "ERROR: kv-emulator: this is kv-emulator's stand-in for az; it answers only 'az account get-access-token'"
    )
    result = subprocess.run(["azd", "up"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "it answers only 'azd auth token'" in result.stderr


def test_path_is_untouched_unless_emulation_asks(keyvault):
    before = os.environ["PATH"]
    with kv_emulator.emulate(emulate_cli=False):
        assert os.environ["PATH"] == before
    with kv_emulator.emulate(emulate_cli=True):
        assert os.environ["PATH"].split(os.pathsep)[0].rsplit(os.sep, 1)[-1].startswith("kv-emulator-cli-")
        assert os.environ["PATH"].split(os.pathsep, 1)[1] == before
    assert os.environ["PATH"] == before
