"""Access control: Azure RBAC and access policies, the service's 403s, and the audit log.

Run with ``python -m pytest examples/test_access_control.py``. Checks are off unless a test turns them on
with ``enable_rbac_authorization`` (True: Azure RBAC, False: access policies), as on the vault's ARM
resource. Grants and revocations take effect on the next request. The guide is docs/identity.md.
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

APP_ID = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def app(keyvault, monkeypatch):
    """The app under test: a registered service principal, and the clients it builds with its credential."""
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TOKEN_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    principal = keyvault.identity.add_service_principal(APP_ID, secret="app-secret")
    credential = ClientSecretCredential(keyvault.settings.tenant_id, APP_ID, "app-secret")
    keyvault.vault().secrets.set("db-password", "hunter2")  # seeding needs no permission
    return principal, SecretClient(keyvault.vault_url, credential), KeyClient(keyvault.vault_url, credential)


# -- Azure RBAC ---------------------------------------------------------------------------------------


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_rbac_refusal_is_the_service_403(keyvault, app):
    principal, secrets, _ = app
    with pytest.raises(HttpResponseError) as refused:
        secrets.get_secret("db-password")

    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert refused.value.error.innererror == {"code": "ForbiddenByRbac"}
    lines = refused.value.error.message.split("\r\n")
    assert lines[0] == "Caller is not authorized to perform action on resource."
    assert lines[2] == (
        f"Caller: appid={APP_ID};oid={principal.object_id};iss=https://sts.windows.net/{keyvault.settings.tenant_id}/"
    )
    assert lines[3] == "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
    assert lines[4].endswith("/providers/microsoft.keyvault/vaults/kv-emulator/secrets/db-password'")
    assert lines[7] == "DecisionReason: 'DeniedWithNoValidRBAC' "


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_grant_and_revoke_mid_test(keyvault, app):
    principal, secrets, _ = app
    authorization = keyvault.vault().authorization

    assignment = authorization.assign("Key Vault Secrets User", principal)  # vault scope
    assert secrets.get_secret("db-password").value == "hunter2"
    with pytest.raises(HttpResponseError, match="secrets/setSecret/action"):
        secrets.set_secret("db-password", "changed")  # a Secrets User reads, it does not write

    authorization.revoke(assignment)
    with pytest.raises(HttpResponseError, match="ForbiddenByRbac"):
        secrets.get_secret("db-password")


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_object_scope(keyvault, app):
    principal, secrets, _ = app
    keyvault.vault().secrets.set("api-key", "k-1")
    keyvault.vault().authorization.assign("Key Vault Secrets User", principal, scope="/secrets/db-password")

    assert secrets.get_secret("db-password").value == "hunter2"
    with pytest.raises(HttpResponseError):
        secrets.get_secret("api-key")  # another secret
    with pytest.raises(HttpResponseError):
        list(secrets.list_properties_of_secrets())  # listing needs a role on the vault


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_roles_for_keys(keyvault, app):
    principal, secrets, keys = app
    keyvault.vault().authorization.assign("Key Vault Crypto Officer", principal)
    assert keys.create_rsa_key("signing").name == "signing"
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")  # a key role gives nothing on secrets


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_the_emulators_own_credential_needs_a_role_too(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    with pytest.raises(HttpResponseError, match="ForbiddenByRbac"):
        client.set_secret("a", "1")
    keyvault.vault().authorization.assign("Key Vault Administrator", keyvault.credential.principal)
    assert client.set_secret("a", "1").value == "1"


# -- access policies ----------------------------------------------------------------------------------


@pytest.mark.keyvault(enable_rbac_authorization=False)
def test_access_policies(keyvault, app):
    principal, secrets, _ = app
    authorization = keyvault.vault().authorization
    with pytest.raises(HttpResponseError) as refused:
        secrets.get_secret("db-password")
    assert refused.value.error.innererror == {"code": "AccessDenied"}
    assert "does not have secrets get permission on key vault 'kv-emulator;location=westus'" in (
        refused.value.error.message
    )

    authorization.set_access_policy(principal, secrets=["get"])
    assert secrets.get_secret("db-password").value == "hunter2"
    with pytest.raises(HttpResponseError, match="does not have secrets list permission"):
        list(secrets.list_properties_of_secrets())

    authorization.set_access_policy(principal, secrets=["get", "list"])  # replaces the whole policy
    assert [p.name for p in secrets.list_properties_of_secrets()] == ["db-password"]

    authorization.remove_access_policy(principal)
    with pytest.raises(HttpResponseError, match="AccessDenied"):
        secrets.get_secret("db-password")


# -- the audit log ------------------------------------------------------------------------------------


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_audit_log(keyvault, app, tmp_path):
    principal, secrets, _ = app
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")
    keyvault.vault().authorization.assign("Key Vault Secrets Officer", principal)
    secrets.set_secret("db-password", "correct-horse-battery-staple")

    path = tmp_path / "audit.jsonl"
    text = keyvault.audit.to_jsonl(path)  # one JSON object per line, also written to the file
    assert "correct-horse-battery-staple" not in text and "hunter2" not in text  # never a value
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["operationName"], e["properties"]["httpStatusCode"]) for e in events] == [
        ("Unknown", 401),  # the SDK's first request carries no token: the challenge
        ("GetSecret", 403),
        ("SetSecret", 200),
    ]
    refused, written = events[1], events[2]
    assert (refused["resultType"], refused["resultSignature"]) == ("Failure", "Forbidden")
    assert written["resultType"] == "Success" and written["category"] == "AuditEvent"
    assert written["identity"]["claim"]["appid"] == APP_ID
    assert written["identity"]["claim"]["oid"] == principal.object_id
    assert written["properties"]["id"] == f"{keyvault.vault_url}/secrets/db-password"
    assert written["resourceId"].endswith("/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-EMULATOR")
