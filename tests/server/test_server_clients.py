"""Unmodified SDK clients in another process reach the server with environment variables only.

The application (tests/server/server_apps/kv_client.py) imports nothing from kv_emulator: secrets, keys with
CryptographyClient, certificates (create and poll), sync and async, with EnvironmentCredential (a client
secret through the emulated Entra ID), ManagedIdentityCredential and DefaultAzureCredential (App Service
endpoint), through the proxy (real vault URLs) and directly (``https://<name>.localhost:<port>``). The SDK's
challenge-resource check stays on in every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

APPS = Path(__file__).parent / "server_apps"


@pytest.fixture(autouse=True)
def _issue_at_once(keyvault_server: Any) -> Any:
    """These tests are about reaching the server. Out of process, the Python SDK's poller really sleeps its 5 s
    while a certificate is issued (certificate_issuance_time, as against the service), so issue at once here."""
    emulator = keyvault_server.emulator
    before = emulator.settings
    emulator.settings = before.replace(certificate_issuance_time=0)
    for vault in emulator.vaults:
        vault.certificates.issuance_time = 0
    yield
    emulator.settings = before
    for vault in emulator.vaults:
        vault.certificates.issuance_time = before.certificate_issuance_time


def run_app(env: dict[str, str], mode: str, credential: str, *, resolver: bool = False) -> dict[str, Any]:
    env = dict(env)
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT"):
        env.pop(name, None)
    if credential == "environment":
        env.update(AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555", AZURE_CLIENT_SECRET="app-secret")
    if resolver:
        env["PYTHONPATH"] = str(APPS / "localhost_resolver")
    result = subprocess.run(
        [sys.executable, str(APPS / "kv_client.py"), mode, credential],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def client_env(server: Any, **changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTPS_PROXY", "HTTP_PROXY", "https_proxy"))}
    env.update(server.env(**changes))
    return env


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("credential", ["environment", "managed", "default"])
def test_through_the_proxy_with_real_vault_urls(keyvault_server: Any, mode: str, credential: str) -> None:
    server = keyvault_server
    result = run_app(client_env(server), mode, credential)

    name = result["name"]
    assert result["secret"] == "v1"
    assert result["secret_id"].startswith(f"https://kv-emulator.vault.azure.net/secrets/{name}/")
    assert result["decrypted"] == "payload" and result["verified"] is True
    assert result["certificate_id"].startswith(f"https://kv-emulator.vault.azure.net/certificates/{name}-cert/")
    vault = server.emulator.vault()
    assert vault.secrets.get(name).payload.value == "v1"  # the subprocess's write, seen in-process
    operations = {e.operation for e in server.emulator.requests if f"/{name}" in e.url and e.status in (200, 202)}
    # encrypt and verify with an RSA public key happen locally in CryptographyClient
    assert {"SetSecret", "GetSecret", "CreateKey", "decrypt", "sign", "CreateCertificate"} <= operations
    tokens = server.emulator.identity.issued
    if credential == "environment":
        assert any(t.get("appid") == "11111111-2222-3333-4444-555555555555" for t in tokens)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("credential", ["environment", "managed", "default"])
def test_directly_on_name_localhost(keyvault_server: Any, mode: str, credential: str) -> None:
    server = keyvault_server
    url = f"https://direct.localhost:{server.port}"
    env = client_env(server, direct=True) | {"AZURE_KEYVAULT_URL": url}
    if credential == "environment":
        # Entra ID is reached through the proxy; the vault stays direct (NO_PROXY covers *.localhost).
        env["HTTPS_PROXY"] = server.proxy_url
    result = run_app(env, mode, credential, resolver=True)

    name = result["name"]
    assert result["secret_id"].startswith(f"{url}/secrets/{name}/")
    assert result["decrypted"] == "payload" and result["verified"] is True
    assert result["certificate_id"].startswith(f"{url}/certificates/{name}-cert/")
    assert server.emulator.vault("direct").secrets.get(name).payload.value == "v1"
    challenge = next(e for e in server.emulator.requests if e.url.startswith(url) and e.status == 401)
    assert challenge.vault == "direct.vault.azure.net"  # the vault, though the client named direct.localhost
