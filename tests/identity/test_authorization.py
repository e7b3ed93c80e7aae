"""Azure RBAC and access policies: grants, refusals with the service's 403 bodies, revocation mid-test."""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

APP = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def app_client(keyvault, monkeypatch):
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    principal = keyvault.identity.add_service_principal(APP, secret="s")
    credential = ClientSecretCredential(keyvault.settings.tenant_id, APP, "s")
    keyvault.vault().secrets.set("db-password", "hunter2")
    return principal, SecretClient(keyvault.vault_url, credential), KeyClient(keyvault.vault_url, credential)


def test_authorization_is_off_by_default(app_client):
    _, secrets, _ = app_client
    assert secrets.get_secret("db-password").value == "hunter2"


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_rbac_refusal_is_the_service_403(app_client, keyvault):
    principal, secrets, _ = app_client
    with pytest.raises(HttpResponseError) as refused:
        secrets.get_secret("db-password")
    error = refused.value.error
    assert refused.value.status_code == 403
    assert (error.code, error.innererror) == ("Forbidden", {"code": "ForbiddenByRbac"})
    tenant = keyvault.settings.tenant_id
    assert error.message == (
        "Caller is not authorized to perform action on resource.\r\n"
        "If role assignments, deny assignments or role definitions were changed recently, please observe "
        "propagation time.\r\n"
        f"Caller: appid={APP};oid={principal.object_id};iss=https://sts.windows.net/{tenant}/\r\n"
        "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n"
        "Resource: '/subscriptions/00000000-0000-0000-0000-00000000c0de/resourcegroups/kv-emulator/providers/"
        "microsoft.keyvault/vaults/kv-emulator/secrets/db-password'\r\n"
        "Assignment: (not found)\r\n"
        "DenyAssignmentId: null\r\n"
        "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
        "Vault: kv-emulator;location=westus\r\n"
    )


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_grant_and_revoke_take_effect_at_once(app_client, keyvault):
    principal, secrets, _ = app_client
    assignment = keyvault.vault().authorization.assign("Key Vault Secrets User", principal)
    assert secrets.get_secret("db-password").value == "hunter2"
    assert [p.name for p in secrets.list_properties_of_secrets()] == ["db-password"]
    with pytest.raises(HttpResponseError) as cannot_write:
        secrets.set_secret("db-password", "changed")
    assert "secrets/setSecret/action" in cannot_write.value.error.message
    keyvault.vault().authorization.revoke(assignment)
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_object_scope_assignments(app_client, keyvault):
    principal, secrets, _ = app_client
    keyvault.vault().secrets.set("other", "x")
    keyvault.vault().authorization.assign("Key Vault Secrets User", principal, scope="/secrets/db-password")
    assert secrets.get_secret("db-password").value == "hunter2"
    with pytest.raises(HttpResponseError):
        secrets.get_secret("other")


@pytest.mark.keyvault(enable_rbac_authorization=True)
@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("Key Vault Administrator", ["get_secret", "set_secret", "create_key", "sign"], []),
        ("Key Vault Secrets Officer", ["get_secret", "set_secret"], ["create_key"]),
        ("Key Vault Crypto Officer", ["create_key", "sign"], ["get_secret"]),
        ("Key Vault Crypto User", ["sign"], ["create_key", "get_secret"]),
        ("Key Vault Crypto Service Encryption User", ["wrap"], ["sign", "get_secret"]),
        ("Key Vault Reader", ["list_secrets"], ["get_secret", "sign"]),
        ("Key Vault Certificate User", ["get_secret"], ["set_secret", "sign"]),
    ],
)
def test_built_in_roles(app_client, keyvault, wire, role, allowed, refused):
    principal, _, _ = app_client
    keyvault.vault().keys.create("k", "RSA")
    keyvault.vault().authorization.assign(role, principal)
    token, _ = keyvault.identity.issue(principal, "https://vault.azure.net")
    value = base64.urlsafe_b64encode(b"0" * 32).decode().rstrip("=")
    requests = {
        "get_secret": ("GET", "/secrets/db-password/", None),
        "set_secret": ("PUT", "/secrets/n", {"value": "v"}),
        "list_secrets": ("GET", "/secrets", None),
        "create_key": ("POST", "/keys/new/create", {"kty": "EC"}),
        "sign": ("POST", "/keys/k//sign", {"alg": "RS256", "value": value}),
        "wrap": ("POST", "/keys/k//wrapkey", {"alg": "RSA-OAEP-256", "value": value}),
    }

    def status(action):
        method, path, body = requests[action]
        return wire.request(method, path, body=body, token=False, headers={"Authorization": f"Bearer {token}"})

    for action in allowed:
        assert status(action).status_code == 200, action
    for action in refused:
        response = status(action)
        assert response.status_code == 403, action
        assert response.get_json()["error"]["innererror"] == {"code": "ForbiddenByRbac"}


@pytest.mark.keyvault(enable_rbac_authorization=False)
def test_access_policy_refusal_and_grant(app_client, keyvault):
    principal, secrets, _ = app_client
    with pytest.raises(HttpResponseError) as refused:
        secrets.get_secret("db-password")
    error = refused.value.error
    assert (error.code, error.innererror) == ("Forbidden", {"code": "AccessDenied"})
    tenant = keyvault.settings.tenant_id
    assert error.message == (
        f"The user, group or application 'appid={APP};oid={principal.object_id};iss=https://sts.windows.net/"
        f"{tenant}/' does not have secrets get permission on key vault 'kv-emulator;location=westus'. For help "
        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287"
    )
    keyvault.vault().authorization.set_access_policy(principal, secrets=["get"])
    assert secrets.get_secret("db-password").value == "hunter2"
    with pytest.raises(HttpResponseError) as no_list:
        list(secrets.list_properties_of_secrets())
    assert "secrets list permission" in no_list.value.error.message
    keyvault.vault().authorization.remove_access_policy(principal)
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_refusals_are_audited(app_client, keyvault):
    _, secrets, _ = app_client
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")
    event = keyvault.audit.events()[-1]
    assert (event["operationName"], event["resultType"], event["properties"]["httpStatusCode"]) == (
        "GetSecret",
        "Failure",
        403,
    )
    assert event["identity"]["claim"]["appid"] == APP


def test_unknown_role_is_refused(keyvault):
    with pytest.raises(ValueError, match="unknown role"):
        keyvault.vault().authorization.assign("Owner", "someone")


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_object_scope_is_the_object_not_a_name_prefix(app_client, keyvault):
    principal, secrets, _ = app_client
    keyvault.vault().secrets.set("db", "short name")
    keyvault.vault().authorization.assign("Key Vault Secrets User", principal, scope="/secrets/db")
    assert secrets.get_secret("db").value == "short name"
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")  # shares the prefix, not the scope


@pytest.mark.keyvault(enable_rbac_authorization=False)
def test_access_policy_permission_names_are_case_insensitive(app_client, keyvault, wire):
    principal, _, _ = app_client
    keyvault.vault().keys.create("k", "RSA")
    keyvault.vault().authorization.set_access_policy(principal, keys=["wrapKey"])
    token, _ = keyvault.identity.issue(principal, "https://vault.azure.net")
    value = base64.urlsafe_b64encode(b"0" * 32).decode().rstrip("=")
    headers = {"Authorization": f"Bearer {token}"}
    wrapped = wire.post("/keys/k//wrapkey", body={"alg": "RSA-OAEP", "value": value}, token=False, headers=headers)
    assert wrapped.status_code == 200
    signed = wire.post("/keys/k//sign", body={"alg": "RS256", "value": value}, token=False, headers=headers)
    assert signed.status_code == 403 and "keys sign permission" in signed.get_json()["error"]["message"]


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_a_role_on_one_certificate_does_not_reach_an_issuer_of_the_same_name(app_client, keyvault):
    """Issuers belong to the vault, not to a certificate: a Certificates Officer on ``/certificates/foo`` may
    not read or delete the issuer ``foo`` (the scope of ``/certificates/issuers/foo`` is the vault's)."""
    principal, _, _ = app_client
    vault = keyvault.vault()
    vault.certificates.issuers.set("foo", "DigiCert", account_id="a", password="p")
    vault.authorization.assign("Key Vault Certificates Officer", principal, scope="/certificates/foo")
    client = CertificateClient(keyvault.vault_url, _credential(keyvault))
    for call in (lambda: client.get_issuer("foo"), lambda: client.delete_issuer("foo")):
        with pytest.raises(HttpResponseError) as refused:
            call()
        assert refused.value.status_code == 403
    assert vault.certificates.issuers.get("foo").provider == "DigiCert"


@pytest.mark.keyvault(enable_rbac_authorization=False, strict_auth=True)
def test_access_policy_permissions_are_the_specs(app_client, keyvault):
    """The spec's texts: GetDeletedSecret "requires the secrets/get permission", DeleteCertificateOperation
    "requires the certificates/update permission" (certificates.json, secrets.json 2026-04-01)."""
    principal, _, _ = app_client
    vault = keyvault.vault()
    vault.secrets.set("s", "x")
    vault.secrets.delete("s")
    vault.authorization.set_access_policy(principal, secrets=["get"], certificates=["update", "get", "create"])
    assert SecretClient(keyvault.vault_url, _credential(keyvault)).get_deleted_secret("s").name == "s"
    vault.certificates.create("pending", {"issuer": {"name": "Unknown"}, "x509_props": {"subject": "CN=p"}})
    client = CertificateClient(keyvault.vault_url, _credential(keyvault))
    client.delete_certificate_operation("pending")  # allowed with certificates/update
    with pytest.raises(HttpResponseError) as gone:
        client.get_certificate_operation("pending")
    assert gone.value.status_code == 404


def _credential(keyvault) -> ClientSecretCredential:
    return ClientSecretCredential(keyvault.settings.tenant_id, APP, "s")
