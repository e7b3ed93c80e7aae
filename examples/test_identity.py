"""Identity: unmodified azure-identity credentials get their tokens from the emulated Entra ID and IMDS.

Run with ``python -m pytest examples/test_identity.py``. Nothing here passes a ``transport=`` or changes a
credential: the emulator answers ``https://login.microsoftonline.com`` (client secret, certificate,
workload identity), the IMDS endpoint ``http://169.254.169.254`` and an App Service ``IDENTITY_ENDPOINT``
in-process, with signed JWTs. The guide is docs/identity.md; access control is in
``examples/test_access_control.py``.
"""

from __future__ import annotations

import datetime

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
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

APP_ID = "11111111-2222-3333-4444-555555555555"  # the client id of "our" app registration


@pytest.fixture(autouse=True)
def _no_azure_environment(monkeypatch):
    """These examples choose their credentials; a CI runner's AZURE_* variables must not."""
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "AZURE_TOKEN_CREDENTIALS",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "MSI_ENDPOINT",
        "MSI_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


def read_password(vault_url: str, credential) -> str:
    """The code under test: it builds its own client from whatever credential it is given."""
    return SecretClient(vault_url, credential).get_secret("db-password").value


# -- each credential, unchanged ---------------------------------------------------------------------


def test_client_secret_credential(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    credential = ClientSecretCredential(keyvault.settings.tenant_id, APP_ID, "any secret will do")
    assert read_password(keyvault.vault_url, credential) == "hunter2"

    claims = keyvault.identity.issued[-1]  # the claims of every token issued, newest last
    assert claims["appid"] == APP_ID
    assert claims["aud"] == "https://vault.azure.net"
    assert claims["iss"] == f"https://sts.windows.net/{keyvault.settings.tenant_id}/"
    assert claims["oid"] == keyvault.identity.object_id_for(keyvault.settings.tenant_id, APP_ID)
    assert keyvault.requests.last.caller["appid"] == APP_ID  # who called, as the vault saw it


def test_registered_principals_close_the_directory(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    tenant = keyvault.settings.tenant_id
    keyvault.identity.add_service_principal(APP_ID, secret="the-right-secret")

    assert read_password(keyvault.vault_url, ClientSecretCredential(tenant, APP_ID, "the-right-secret")) == "hunter2"
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215: Invalid client secret provided"):
        read_password(keyvault.vault_url, ClientSecretCredential(tenant, APP_ID, "a-wrong-secret"))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016: Application with identifier"):
        read_password(keyvault.vault_url, ClientSecretCredential(tenant, "not-registered", "the-right-secret"))


def _self_signed(directory, name: str) -> tuple[x509.Certificate, str]:
    """A certificate and a PEM file (private key + certificate), as CertificateCredential reads it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return certificate, str(path)


def test_certificate_credential(keyvault, tmp_path):
    keyvault.vault().secrets.set("db-password", "hunter2")
    tenant = keyvault.settings.tenant_id
    certificate, pem = _self_signed(tmp_path, "our-app")
    keyvault.identity.add_service_principal(APP_ID, certificate=certificate)

    assert read_password(keyvault.vault_url, CertificateCredential(tenant, APP_ID, pem)) == "hunter2"
    assert keyvault.identity.issued[-1]["appidacr"] == "2"  # "authenticated with a certificate"

    _other, stranger_pem = _self_signed(tmp_path, "someone-else")  # signs the assertion with another key
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        read_password(keyvault.vault_url, CertificateCredential(tenant, APP_ID, stranger_pem))


def test_workload_identity_credential(keyvault, tmp_path):
    keyvault.vault().secrets.set("db-password", "hunter2")
    keyvault.identity.add_service_principal(APP_ID, federated=True)
    token_file = tmp_path / "azure-identity-token"  # what AKS projects into the pod
    token_file.write_text(jwt.encode({"sub": "system:serviceaccount:orders:api"}, "k" * 32, algorithm="HS256"))

    credential = WorkloadIdentityCredential(
        tenant_id=keyvault.settings.tenant_id, client_id=APP_ID, token_file_path=str(token_file)
    )
    assert read_password(keyvault.vault_url, credential) == "hunter2"


def test_environment_credential(keyvault, monkeypatch):
    keyvault.vault().secrets.set("db-password", "hunter2")
    monkeypatch.setenv("AZURE_TENANT_ID", keyvault.settings.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", APP_ID)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "from-the-ci-secret-store")
    assert read_password(keyvault.vault_url, EnvironmentCredential()) == "hunter2"


def test_managed_identity_through_imds(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    # Open directory: IMDS hands out a system-assigned identity.
    assert read_password(keyvault.vault_url, ManagedIdentityCredential()) == "hunter2"
    assert keyvault.identity.issued[-1]["appid"] == "system-assigned"

    # A user-assigned identity, asked for by client id.
    identity = keyvault.identity.add_managed_identity("22222222-0000-0000-0000-000000000001")
    credential = ManagedIdentityCredential(client_id=identity.client_id)
    assert read_password(keyvault.vault_url, credential) == "hunter2"
    assert keyvault.identity.issued[-1]["oid"] == identity.object_id


def test_managed_identity_on_app_service(keyvault, monkeypatch):
    # App Service sets these two; the emulator answers whatever endpoint they name, whenever they are set.
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "a-header-secret")
    keyvault.vault().secrets.set("db-password", "hunter2")
    assert read_password(keyvault.vault_url, ManagedIdentityCredential()) == "hunter2"


def test_default_azure_credential_with_no_configuration(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    # No AZURE_* variables: EnvironmentCredential and WorkloadIdentityCredential step aside, and
    # ManagedIdentityCredential's IMDS probe is answered by the emulator, so managed identity answers.
    assert read_password(keyvault.vault_url, DefaultAzureCredential()) == "hunter2"
    assert keyvault.identity.issued[-1]["appid"] == "system-assigned"


async def test_async_credentials(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    tenant = keyvault.settings.tenant_id
    for credential in (AsyncClientSecretCredential(tenant, APP_ID, "s"), AsyncDefaultAzureCredential()):
        async with credential, AsyncSecretClient(keyvault.vault_url, credential) as client:
            assert (await client.get_secret("db-password")).value == "hunter2"
    assert [claims["appid"] for claims in keyvault.identity.issued] == [APP_ID, "system-assigned"]


# -- strict auth: the vault checks the token ----------------------------------------------------------


class FixedToken:
    """Hands the SDK one given token, to show what the vault does with it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self.token, 4102444800)


@pytest.mark.keyvault(strict_auth=True)
def test_strict_auth_accepts_tokens_from_the_directory(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    assert read_password(keyvault.vault_url, keyvault.credential) == "hunter2"
    credential = ClientSecretCredential(keyvault.settings.tenant_id, APP_ID, "s")
    assert read_password(keyvault.vault_url, credential) == "hunter2"


@pytest.mark.keyvault(strict_auth=True)
def test_strict_auth_refuses_other_tokens(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    app = keyvault.identity.add_service_principal(APP_ID, secret="s")
    for_arm, _ = keyvault.identity.issue(app, "https://management.azure.com")  # a token for another resource
    other_tenant, _ = keyvault.identity.issue(app, "https://vault.azure.net", tenant_id="another-tenant")

    refusals = {
        "not-a-jwt": "AKV10010: Signature validation failed.",
        for_arm: "AKV10022: Invalid audience. Expected https://vault.azure.net, found: https://management.azure.com.",
        other_tenant: "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/",
    }
    for token, message in refusals.items():
        with pytest.raises(ClientAuthenticationError) as refused:
            read_password(keyvault.vault_url, FixedToken(token))
        assert refused.value.status_code == 401
        assert refused.value.error.code == "Unauthorized"
        assert refused.value.error.message.startswith(message)

    expiring, _ = keyvault.identity.issue(app, "https://vault.azure.net")
    keyvault.clock.advance(hours=2)  # tokens live 3599 seconds on the emulator's clock
    with pytest.raises(ClientAuthenticationError, match="AKV10013: Token is expired or not yet valid"):
        read_password(keyvault.vault_url, FixedToken(expiring))


def test_without_strict_auth_any_bearer_token_is_accepted(keyvault):
    keyvault.vault().secrets.set("db-password", "hunter2")
    assert read_password(keyvault.vault_url, FixedToken("anything")) == "hunter2"


# -- leaving Entra ID alone ---------------------------------------------------------------------------


@pytest.mark.keyvault(emulate_identity=False)
def test_emulate_identity_off_leaves_login_alone(keyvault):
    # Only the vault hosts are answered; token requests would go to the real Entra ID (or your own mocks).
    assert keyvault.handles("https://kv-emulator.vault.azure.net/secrets/db-password")
    assert not keyvault.handles("https://login.microsoftonline.com/common/discovery/instance")
    assert not keyvault.handles("http://169.254.169.254/metadata/identity/oauth2/token")
    keyvault.vault().secrets.set("db-password", "hunter2")
    assert read_password(keyvault.vault_url, keyvault.credential) == "hunter2"  # needs no HTTP for tokens
