"""A Managed HSM's local RBAC: built-in role definitions, custom roles, role assignments at a scope, and the
enforcement of every key and administration operation by these assignments alone."""

from __future__ import annotations

import json

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.identity import ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential
from azure.keyvault.administration import (
    KeyVaultAccessControlClient,
    KeyVaultDataAction,
    KeyVaultPermission,
    KeyVaultRoleScope,
)
from azure.keyvault.administration.aio import KeyVaultAccessControlClient as AsyncAccessControlClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from tests_support import error_of

from kv_emulator import Emulator
from kv_emulator.objects.hsm_rbac import HsmAccessControl, HsmRoleDefinition
from kv_emulator.server import Server, ServerOptions

HSM = "https://contoso-hsm.managedhsm.azure.net"
APP = "11111111-2222-3333-4444-555555555555"
ROLES = "/providers/Microsoft.Authorization/roleDefinitions"
ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments"
DEF = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/"
ADMIN = "a290e904-7015-4bba-90c8-60543313cdb4"
CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b"
# The built-in roles a Managed HSM lists, in its order (recorded: azure-sdk-for-js keyvault-admin recording
# keyvaultaccesscontrolclient_tracing, 2022), then the Restore role (learn.microsoft.com, 2025; its name unverified).
BUILT_IN = [
    ("7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8", "Managed HSM Backup User"),
    ("33413926-3206-4cdd-b39a-83574fe37a17", "Managed HSM Crypto Service Encryption User"),
    ("21dbd100-6940-42c2-9190-5d6cb909625c", "Managed HSM Crypto Service Release User"),
    ("2c18b078-7c48-4d3a-af88-5a3a1b3f82b3", "Managed HSM Crypto Auditor"),
    ("4bd23610-cdcf-4971-bdee-bdc562cc28e4", "Managed HSM Policy Administrator"),
    ("770fd66c-6266-4643-9d4e-b616870898d5", "Managed HSM ARM User"),
    (CRYPTO_USER, "Managed HSM Crypto User"),
    ("515eb02d-2335-4d2d-92f2-b1cbdf9c3778", "Managed HSM Crypto Officer"),
    (ADMIN, "Managed HSM Administrator"),
    ("6efe6056-5259-49d2-8b3d-d3d73544b20b", "Managed HSM Restore User"),
]


@pytest.fixture
def app_principal(keyvault, monkeypatch):
    """A second principal, registered with a secret: it holds no role until a test grants one."""
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    principal = keyvault.identity.add_service_principal(APP, secret="s")
    return principal, ClientSecretCredential(keyvault.settings.tenant_id, APP, "s")


# -- role definitions -------------------------------------------------------------------------------


def test_built_in_role_definitions_as_the_service_lists_them(hsm):
    response = hsm.get(ROLES)
    assert response.status_code == 200
    listed = response.get_json()["value"]
    assert [(d["name"], d["properties"]["roleName"]) for d in listed] == BUILT_IN
    crypto_user = next(d for d in listed if d["name"] == CRYPTO_USER)
    # recorded, 2022 (the whole definition, as the service wrote it)
    assert crypto_user == {
        "id": DEF + CRYPTO_USER,
        "name": CRYPTO_USER,
        "properties": {
            "assignableScopes": ["/"],
            "description": "",
            "permissions": [
                {
                    "actions": [],
                    "dataActions": [
                        "Microsoft.KeyVault/managedHsm/roleDefinitions/read/action",
                        "Microsoft.KeyVault/managedHsm/roleAssignments/read/action",
                        *(
                            f"Microsoft.KeyVault/managedHsm/keys/{a}"
                            for a in (
                                "read/action",
                                "write/action",
                                "delete",
                                "create",
                                "rotate/action",
                                "import/action",
                                "release/action",
                                "backup/action",
                                "restore/action",
                                "encrypt/action",
                                "decrypt/action",
                                "wrap/action",
                                "unwrap/action",
                                "sign/action",
                                "verify/action",
                                "derive/action",
                            )
                        ),
                        "Microsoft.KeyVault/managedHsm/rng/action",
                    ],
                    "notActions": [],
                    "notDataActions": [],
                }
            ],
            "roleName": "Managed HSM Crypto User",
            "type": "AKVBuiltInRole",
        },
        "type": "Microsoft.Authorization/roleDefinitions",
    }
    assert hsm.get(f"/keys{ROLES}").get_json()["value"] == listed  # every scope lists the same roles


def test_a_custom_role_is_created_read_and_deleted(hsm):
    """PUT answers 201 with the definition; DELETE answers 200 with it (recorded, 2022)."""
    name = "b36b00af-89c6-435f-a43d-9a3087015c27"
    body = {"properties": {"roleName": name, "type": "CustomRole", "assignableScopes": ["/"]}}
    created = hsm.put(f"{ROLES}/{name}", body=body)
    expected = {
        "id": DEF + name,
        "name": name,
        "properties": {
            "assignableScopes": ["/"],
            "description": "",
            "permissions": [],
            "roleName": name,
            "type": "CustomRole",
        },
        "type": "Microsoft.Authorization/roleDefinitions",
    }
    assert (created.status_code, created.get_json()) == (201, expected)
    assert hsm.get(f"{ROLES}/{name}").get_json() == expected
    deleted = hsm.delete(f"{ROLES}/{name}")
    assert (deleted.status_code, deleted.get_json()) == (200, expected)
    missing = hsm.get(f"{ROLES}/{name}")
    assert missing.status_code == 404
    request_id = missing.headers["x-ms-request-id"]
    assert error_of(missing) == {  # unverified text, modelled on the recorded RoleAssignmentNotFound
        "code": "RoleDefinitionNotFound",
        "message": f"Requested role definition not found (Activity ID: {request_id})",
    }


def test_a_built_in_role_cannot_be_changed_or_deleted(hsm):
    assert hsm.delete(f"{ROLES}/{ADMIN}").status_code == 400
    assert hsm.put(f"{ROLES}/{ADMIN}", body={"properties": {"roleName": "x"}}).status_code == 400
    assert hsm.get(f"{ROLES}/{ADMIN}").get_json()["properties"]["roleName"] == "Managed HSM Administrator"


# -- role assignments -------------------------------------------------------------------------------


def test_role_assignment_lifecycle_on_the_wire(hsm):
    """Shapes recorded (2022): 201 on create, ``/providers/...`` ids at scope "/", 404 RoleAssignmentNotFound
    naming the request as its Activity ID."""
    name = "b36b00af-89c6-435f-a43d-9a3087015c27"
    principal = "01ea9a65-813e-4238-8204-bf7328d63fc6"
    body = {"properties": {"roleDefinitionId": DEF + CRYPTO_USER, "principalId": principal}}
    created = hsm.put(f"{ASSIGNMENTS}/{name}", body=body)
    expected = {
        "id": f"{ASSIGNMENTS}/{name}",
        "name": name,
        "properties": {"principalId": principal, "roleDefinitionId": DEF + CRYPTO_USER, "scope": "/"},
        "type": "Microsoft.Authorization/roleAssignments",
    }
    assert (created.status_code, created.get_json()) == (201, expected)
    assert hsm.get(f"{ASSIGNMENTS}/{name}").get_json() == expected
    assert expected in hsm.get(ASSIGNMENTS).get_json()["value"]
    assert hsm.delete(f"{ASSIGNMENTS}/{name}").get_json() == expected
    missing = hsm.delete(f"{ASSIGNMENTS}/{name}")
    assert missing.status_code == 404
    assert error_of(missing) == {
        "code": "RoleAssignmentNotFound",
        "message": f"Requested role assignment not found (Activity ID: {missing.headers['x-ms-request-id']})",
    }


def test_assignments_at_a_key_scope_and_the_filters(hsm):
    principal = "22222222-0000-0000-0000-000000000002"
    body = {"properties": {"roleDefinitionId": DEF + CRYPTO_USER, "principalId": principal}}
    assert hsm.put(f"/keys/k1{ASSIGNMENTS}/a1", body=body).get_json()["id"] == f"/keys/k1{ASSIGNMENTS}/a1"
    assert hsm.put(f"/keys{ASSIGNMENTS}/a2", body=body).get_json()["properties"]["scope"] == "/keys"

    def names(path: str) -> list[str]:
        return sorted(a["name"] for a in hsm.get(path).get_json()["value"])

    mine = f"$filter=principalId eq '{principal}'"
    assert names(f"{ASSIGNMENTS}?{mine}") == ["a1", "a2"]  # everything under "/"
    assert names(f"/keys/k1{ASSIGNMENTS}?$filter=atScope() and principalId eq '{principal}'") == ["a1", "a2"]
    assert names(f"/keys{ASSIGNMENTS}?$filter=atScope() and principalId eq '{principal}'") == ["a2"]
    assert names(f"/keys/k2{ASSIGNMENTS}?{mine}") == ["a2"]


def test_the_initial_administrator_is_the_emulators_credential(hsm, keyvault):
    assignments = hsm.get(ASSIGNMENTS).get_json()["value"]
    assert [(a["properties"]["principalId"], a["properties"]["roleDefinitionId"]) for a in assignments] == [
        (keyvault.credential.principal.object_id, DEF + ADMIN)
    ]


def test_the_sdk_client_manages_roles_and_assignments(keyvault):
    client = KeyVaultAccessControlClient(HSM, keyvault.credential)
    names = {d.role_name for d in client.list_role_definitions(KeyVaultRoleScope.GLOBAL)}
    assert {"Managed HSM Administrator", "Managed HSM Crypto User", "Managed HSM Crypto Officer"} <= names
    custom = client.set_role_definition(
        KeyVaultRoleScope.GLOBAL,
        role_name="key reader",
        permissions=[KeyVaultPermission(data_actions=[KeyVaultDataAction.READ_HSM_KEY])],
    )
    assert client.get_role_definition(KeyVaultRoleScope.GLOBAL, custom.name).role_name == "key reader"
    assignment = client.create_role_assignment(KeyVaultRoleScope.KEYS, custom.id, "33333333-0000-0000-0000-3")
    assert assignment.properties.scope == KeyVaultRoleScope.KEYS
    assert assignment.properties.role_definition_id == custom.id
    assert assignment.name in {a.name for a in client.list_role_assignments(KeyVaultRoleScope.KEYS)}
    client.delete_role_assignment(KeyVaultRoleScope.KEYS, assignment.name)
    with pytest.raises(ResourceNotFoundError):
        client.get_role_assignment(KeyVaultRoleScope.KEYS, assignment.name)
    client.delete_role_definition(KeyVaultRoleScope.GLOBAL, custom.name)


async def test_the_async_sdk_client_manages_assignments(keyvault):
    async with AsyncAccessControlClient(HSM, keyvault.async_credential) as client:
        roles = [d async for d in client.list_role_definitions(KeyVaultRoleScope.GLOBAL)]
        officer = next(d for d in roles if d.role_name == "Managed HSM Crypto Officer")
        assignment = await client.create_role_assignment(KeyVaultRoleScope.GLOBAL, officer.id, "44444444-4")
        fetched = await client.get_role_assignment(KeyVaultRoleScope.GLOBAL, assignment.name)
        assert fetched.properties.principal_id == "44444444-4"
        await client.delete_role_assignment(KeyVaultRoleScope.GLOBAL, assignment.name)
        assert assignment.name not in {a.name async for a in client.list_role_assignments(KeyVaultRoleScope.GLOBAL)}


# -- enforcement ------------------------------------------------------------------------------------


def test_without_checks_every_caller_may_do_everything(keyvault, app_principal):
    _, credential = app_principal
    assert KeyClient(HSM, credential).create_rsa_key("k").name == "k"
    assert list(KeyVaultAccessControlClient(HSM, credential).list_role_assignments(KeyVaultRoleScope.GLOBAL))


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_a_caller_without_a_role_gets_the_managed_hsm_403(keyvault, app_principal):
    """A Managed HSM refuses with 403 AccessDenied "Not authorized to access {action} on {scope} (Activity ID:
    ...)" (seen: Azure/azure-cli issue 32719, 2026, for roleAssignments/read/action; the key form is unverified)."""
    _, credential = app_principal
    with pytest.raises(HttpResponseError) as refused:
        KeyClient(HSM, credential).create_rsa_key("k")
    assert refused.value.status_code == 403
    error = refused.value.error
    request_id = refused.value.response.headers["x-ms-request-id"]
    assert (error.code, error.message) == (
        "AccessDenied",
        f"Not authorized to access Microsoft.KeyVault/managedHsm/keys/create on /keys/k (Activity ID: {request_id})",
    )
    assert not error.innererror  # none: the error has only code and message
    with pytest.raises(HttpResponseError, match=r"roleAssignments/read/action on / \(Activity ID"):
        list(KeyVaultAccessControlClient(HSM, credential).list_role_assignments(KeyVaultRoleScope.GLOBAL))


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_the_administrator_grants_roles_but_uses_no_keys(keyvault, app_principal):
    principal, credential = app_principal
    admin = KeyVaultAccessControlClient(HSM, keyvault.credential)
    with pytest.raises(HttpResponseError, match="keys/create on /keys/k"):
        KeyClient(HSM, keyvault.credential).create_rsa_key("k")  # an Administrator has no key permission
    crypto_user = admin.get_role_definition(KeyVaultRoleScope.GLOBAL, CRYPTO_USER)
    assignment = admin.create_role_assignment(KeyVaultRoleScope.KEYS, crypto_user.id, principal.object_id)
    key = KeyClient(HSM, credential).create_rsa_key("k")
    signed = CryptographyClient(key, credential).sign(SignatureAlgorithm.rs256, b"d" * 32)
    assert signed.signature
    with pytest.raises(HttpResponseError, match="keys/deletedKeys/delete"):
        client = KeyClient(HSM, credential)
        client.begin_delete_key("k").wait()
        client.purge_deleted_key("k")  # purging is the Crypto Officer's
    admin.delete_role_assignment(KeyVaultRoleScope.KEYS, assignment.name)
    with pytest.raises(HttpResponseError, match="Not authorized to access"):
        KeyClient(HSM, credential).get_key("k2")


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_a_key_scoped_role_reaches_that_key_only(keyvault, app_principal):
    principal, credential = app_principal
    hsm = keyvault.vault(HSM)
    hsm.keys.create("k1", "RSA-HSM")
    hsm.keys.create("k2", "RSA-HSM")
    hsm.access_control.assign("Managed HSM Crypto User", principal, scope="/keys/k1")
    client = KeyClient(HSM, credential)
    assert client.get_key("k1").name == "k1"
    with pytest.raises(HttpResponseError, match="keys/read/action on /keys/k2"):
        client.get_key("k2")
    with pytest.raises(HttpResponseError, match="keys/read/action on / "):
        list(client.list_properties_of_keys())  # listing needs an HSM-wide role


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
async def test_enforcement_through_the_async_clients(keyvault, app_principal):
    principal, _ = app_principal
    credential = AsyncClientSecretCredential(keyvault.settings.tenant_id, APP, "s")
    async with credential, AsyncAccessControlClient(HSM, credential) as client:
        with pytest.raises(HttpResponseError) as refused:
            await client.get_role_definition(KeyVaultRoleScope.GLOBAL, ADMIN)
        assert refused.value.error.code == "AccessDenied"
        keyvault.vault(HSM).access_control.assign("Managed HSM Crypto Auditor", principal)
        assert (await client.get_role_definition(KeyVaultRoleScope.GLOBAL, ADMIN)).role_name == (
            "Managed HSM Administrator"
        )


def test_state_round_trips_as_plain_data(keyvault):
    control = keyvault.vault(HSM).access_control
    control.assign("Managed HSM Crypto User", "55555555-5", scope="/keys/k")
    control.put_definition(HsmRoleDefinition("c0ffee00-0000-0000-0000-000000000000", "custom"))
    state = control.to_state()
    copy = HsmAccessControl.from_state(json.loads(json.dumps(state)))
    assert copy.to_state() == state
    assert copy.allows("55555555-5", "Microsoft.KeyVault/managedHsm/keys/sign/action", "/keys/k")
    copy.set_administrators(["66666666-6"])  # the initial administrators are replaced, not added to
    assert [a.principal_id for a in copy.assignments if a.role_definition == ADMIN] == ["66666666-6"]


@pytest.mark.slow
def test_roles_and_settings_survive_a_server_restart(tmp_path):
    """Through the server's proxy (another door), and kept in its state across a restart."""
    options = ServerOptions(port=0, proxy_port=0, data_dir=tmp_path, write_runtime=False)

    def call(server: Server, method: str, path: str, **kwargs):
        return requests.request(
            method,
            HSM + path,
            params={"api-version": "7.5"},
            headers={"Authorization": "Bearer any-token"},
            proxies={"https": server.proxy_url},
            verify=str(server.ca_path),
            timeout=10,
            **kwargs,
        )

    body = {"properties": {"roleDefinitionId": DEF + CRYPTO_USER, "principalId": "88888888-8"}}
    setting = "/settings/AllowKeyManagementOperationsThroughARM"
    with Server(Emulator(), options) as first:
        created = call(first, "PUT", f"/keys{ASSIGNMENTS}/a1", json=body)
        assert created.status_code == 201, created.text
        assert call(first, "PATCH", setting, json={"value": "true"}).json()["value"] == "true"
    with Server(Emulator(), options) as second:
        assert call(second, "GET", f"/keys{ASSIGNMENTS}/a1").json() == created.json()
        assert call(second, "GET", setting).json()["value"] == "true"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (f"{ASSIGNMENTS}/a1", [], 400, "BadParameter"),
        (f"{ASSIGNMENTS}/a1", {"properties": "x"}, 400, "BadParameter"),
        (f"{ASSIGNMENTS}/a1", {"properties": {"principalId": "p"}}, 400, "BadParameter"),
        (
            f"{ASSIGNMENTS}/a1",
            {"properties": {"roleDefinitionId": DEF + "00000000-0000-0000-0000-000000000000", "principalId": "p"}},
            404,
            "RoleDefinitionNotFound",
        ),
        (f"{ROLES}/c1", {"properties": {"permissions": [{"dataActions": "x"}]}}, 400, "BadParameter"),
        (f"{ROLES}/c1", {"properties": {"permissions": "x"}}, 400, "BadParameter"),
        (f"{ROLES}/c1", {"properties": {"roleName": 7}}, 400, "BadParameter"),
    ],
)
def test_bad_bodies_get_a_key_vault_shaped_4xx(hsm, path, body, status, code):
    """Texts unverified; the point is a 4xx in the service's shape, never a 500."""
    response = hsm.put(path, body=body)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_an_assignment_name_in_use_is_a_conflict(hsm):
    body = {"properties": {"roleDefinitionId": DEF + CRYPTO_USER, "principalId": "p1"}}
    assert hsm.put(f"{ASSIGNMENTS}/a1", body=body).status_code == 201
    again = hsm.put(f"{ASSIGNMENTS}/a1", body=body)
    assert again.status_code == 409  # unverified status, code and text
    assert error_of(again) == {"code": "RoleAssignmentExists", "message": "The role assignment already exists."}


def test_a_vault_has_no_local_rbac(wire):
    """The administration paths are a Managed HSM's only: a vault does not know them (404)."""
    assert wire.get(ROLES).status_code == 404
