"""Unmodified azure-identity credentials (sync and async) reach the vault through the emulated Entra ID."""

from __future__ import annotations

import json

import jwt
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.identity import aio as identity_aio
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests_support import error_of, self_signed

CLIENT_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture(autouse=True)
def _no_ambient_azure_settings(monkeypatch):
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def seeded(keyvault):
    keyvault.vault().secrets.set("s", "v")
    return keyvault


def _read(keyvault, credential) -> str:
    return SecretClient(keyvault.vault_url, credential).get_secret("s").value


def _certificate(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(key, "test-app", days=1)
    path = tmp_path / "app.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return cert, path


def test_client_secret_credential(seeded):
    assert _read(seeded, ClientSecretCredential(seeded.settings.tenant_id, CLIENT_ID, "any")) == "v"
    claims = seeded.identity.issued[-1]
    assert claims["appid"] == CLIENT_ID and claims["aud"] == "https://vault.azure.net"
    assert claims["iss"] == f"https://sts.windows.net/{seeded.settings.tenant_id}/"
    assert seeded.requests.last.caller["appid"] == CLIENT_ID


def test_registered_principal_wrong_secret_and_unknown_client(seeded):
    seeded.identity.add_service_principal(CLIENT_ID, secret="right")
    tenant = seeded.settings.tenant_id
    assert _read(seeded, ClientSecretCredential(tenant, CLIENT_ID, "right")) == "v"
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _read(seeded, ClientSecretCredential(tenant, CLIENT_ID, "wrong"))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        _read(seeded, ClientSecretCredential(tenant, "99999999-0000-0000-0000-000000000000", "right"))


def test_certificate_credential_assertion_is_verified(seeded, tmp_path):
    cert, path = _certificate(tmp_path)
    seeded.identity.add_service_principal(CLIENT_ID, certificate=cert)
    assert _read(seeded, CertificateCredential(seeded.settings.tenant_id, CLIENT_ID, str(path))) == "v"
    assert seeded.identity.issued[-1]["appidacr"] == "2"
    _other_cert, other_path = _certificate(tmp_path / "..")
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        _read(seeded, CertificateCredential(seeded.settings.tenant_id, CLIENT_ID, str(other_path)))


def test_workload_identity_credential(seeded, tmp_path):
    seeded.identity.add_service_principal(CLIENT_ID, federated=True)
    token_file = tmp_path / "token"
    token_file.write_text(jwt.encode({"sub": "system:serviceaccount:default:app"}, "k" * 32, algorithm="HS256"))
    credential = WorkloadIdentityCredential(
        tenant_id=seeded.settings.tenant_id, client_id=CLIENT_ID, token_file_path=str(token_file)
    )
    assert _read(seeded, credential) == "v"


def test_environment_credential(seeded, monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", seeded.settings.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "from-ci")
    assert _read(seeded, EnvironmentCredential()) == "v"


def test_managed_identity_imds_system_and_user_assigned(seeded):
    assert _read(seeded, ManagedIdentityCredential()) == "v"
    seeded.identity.add_managed_identity(CLIENT_ID)
    assert _read(seeded, ManagedIdentityCredential(client_id=CLIENT_ID)) == "v"
    assert seeded.identity.issued[-1]["appid"] == CLIENT_ID and "xms_mirid" in seeded.identity.issued[-1]


def test_managed_identity_app_service(monkeypatch, keyvault):
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "header-secret")
    import kv_emulator

    with kv_emulator.emulate() as kv:  # the endpoint is read when the emulator starts
        kv.vault().secrets.set("s", "v")
        assert _read(kv, ManagedIdentityCredential()) == "v"


def test_default_azure_credential_with_no_configuration(seeded):
    """No environment variables: the chain reaches managed identity, and the emulated IMDS answers."""
    assert _read(seeded, DefaultAzureCredential()) == "v"
    assert seeded.identity.issued[-1]["appid"] == "system-assigned"


@pytest.mark.parametrize(
    "make",
    [
        lambda t: identity_aio.ClientSecretCredential(t, CLIENT_ID, "s"),
        lambda t: identity_aio.ManagedIdentityCredential(),
        lambda t: identity_aio.DefaultAzureCredential(),
    ],
    ids=["client-secret", "managed-identity", "default"],
)
async def test_async_credentials(seeded, make):
    credential = make(seeded.settings.tenant_id)
    async with credential, AsyncSecretClient(seeded.vault_url, credential) as client:
        assert (await client.get_secret("s")).value == "v"


def test_imds_needs_the_metadata_header(keyvault):
    import requests

    response = requests.get(
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net",
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error_description"] == "Required metadata header not specified"


# -- strict auth ------------------------------------------------------------------------------------


class _FixedToken:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.token, 4102444800)


@pytest.mark.keyvault(strict_auth=True)
def test_strict_auth_accepts_emulator_and_directory_tokens(seeded):
    assert _read(seeded, seeded.credential) == "v"
    assert _read(seeded, ClientSecretCredential(seeded.settings.tenant_id, CLIENT_ID, "s")) == "v"


@pytest.mark.keyvault(strict_auth=True)
@pytest.mark.parametrize("case", ["forged", "audience", "tenant", "expired", "opaque"])
def test_strict_auth_refusals(seeded, wire, case):
    directory = seeded.identity
    principal = directory.add_service_principal(CLIENT_ID, secret="s")
    if case == "forged":
        forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode({"aud": "https://vault.azure.net"}, forger, algorithm="RS256")
        expected = "AKV10010: Signature validation failed."
    elif case == "audience":
        token, _ = directory.issue(principal, "https://management.azure.com")
        expected = "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com."
    elif case == "tenant":
        token, _ = directory.issue(principal, "https://vault.azure.net", tenant_id="another-tenant")
        expected = "AKV10032: Invalid issuer."
    elif case == "expired":
        token, _ = directory.issue(principal, "https://vault.azure.net")
        seeded.clock.advance(hours=2)
        expected = "AKV10013: Token is expired or not yet valid."
    else:
        token = "not-a-jwt"
        expected = "AKV10010: Signature validation failed."
    response = wire.get("/secrets/s/", token=False, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer authorization=")
    error = error_of(response)
    assert error["code"] == "Unauthorized" and error["message"].startswith(expected)
    with pytest.raises(ClientAuthenticationError):
        _read(seeded, _FixedToken(token))


def test_permissive_mode_accepts_any_token(seeded):
    assert _read(seeded, _FixedToken("anything")) == "v"


# -- audit log --------------------------------------------------------------------------------------


def test_audit_log_names_the_caller_and_never_the_value(seeded, tmp_path):
    client = SecretClient(seeded.vault_url, ClientSecretCredential(seeded.settings.tenant_id, CLIENT_ID, "s"))
    client.set_secret("password", "hunter2-very-secret")
    client.get_secret("password")
    path = tmp_path / "audit.jsonl"
    text = seeded.audit.to_jsonl(path)
    assert path.read_text() == text and "hunter2-very-secret" not in text
    events = [json.loads(line) for line in text.splitlines()]
    challenge, set_event, get_event = events
    assert challenge["resultType"] == "Failure" and challenge["properties"]["httpStatusCode"] == 401
    assert (set_event["operationName"], get_event["operationName"]) == ("SetSecret", "GetSecret")
    assert get_event["resultType"] == "Success" and get_event["category"] == "AuditEvent"
    assert get_event["identity"]["claim"]["appid"] == CLIENT_ID
    assert get_event["identity"]["claim"]["tid"] == seeded.settings.tenant_id
    assert get_event["properties"]["id"] == f"{seeded.vault_url}/secrets/password/"
    assert get_event["resourceId"].endswith("/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-EMULATOR")
    assert get_event["correlationId"] == seeded.requests.last.client_request_id


def test_audit_records_failures(seeded, wire):
    wire.get("/secrets/missing/")
    [event] = seeded.audit.events()
    assert (event["resultType"], event["resultDescription"]) == ("Failure", "SecretNotFound")


def test_session_mode_with_default_azure_credential_and_no_configuration(pytester, monkeypatch):
    pytester.makepyfile(
        """
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient

        def test_app_code_as_it_is():
            client = SecretClient("https://app-vault.vault.azure.net", DefaultAzureCredential())
            client.set_secret("conn", "value")
            assert client.get_secret("conn").value == "value"
        """
    )
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:asyncio")
    pytester.runpytest("--kv-intercept=session").assert_outcomes(passed=1)


def test_app_service_endpoint_set_after_the_emulator_started(seeded, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:41999/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "late")
    assert _read(seeded, ManagedIdentityCredential()) == "v"


@pytest.mark.parametrize(
    "path",
    ["/metadata/instance?api-version=2021-02-01", "/metadata/scheduledevents?api-version=2020-07-01", "/"],
)
def test_imds_claims_only_the_managed_identity_paths(keyvault, path, monkeypatch):
    """Instance metadata is left alone: the request goes on to the transport (where this test stops it)."""
    import socket

    import requests

    def refuse(host, *args, **kwargs):
        raise OSError(f"the test does not resolve {host}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    url = f"http://169.254.169.254{path}"
    assert not keyvault.handles(url)
    assert keyvault.handles("http://169.254.169.254/metadata/identity/oauth2/token?resource=x")
    with pytest.raises(requests.ConnectionError, match=r"the test does not resolve 169\.254\.169\.254"):
        requests.get(url, headers={"Metadata": "true"}, timeout=0.5)


# -- one signing key per process --------------------------------------------------------------------


def test_a_token_cached_in_one_emulator_is_valid_in_the_next_in_strict_mode():
    """azure-identity caches tokens for the whole process; a later test's emulator must still accept them."""
    import kv_emulator
    from kv_emulator import DEFAULT_TENANT_ID

    credential = ClientSecretCredential(DEFAULT_TENANT_ID, "11111111-0000-0000-0000-000000000001", "secret")
    token = None
    for _ in range(2):
        with kv_emulator.emulate(strict_auth=True) as kv:
            client = SecretClient(kv.vault_url, credential)
            client.set_secret("s", "v")
            assert client.get_secret("s").value == "v"
            assert kv.identity.jwks()["keys"][0]["kid"] == kv.identity.key_id
            current = credential.get_token("https://vault.azure.net/.default", enable_cae=True).token
            assert token in (None, current)  # the same cached token both times
            token = current
            assert [entry.status for entry in kv.requests if entry.status == 401] == [401]  # the challenge only
