"""ARM's wire conventions, checked byte by byte on the management app: tokens, headers, api-versions,
error shapes, long-running operations, loud 501s, and bad input that changes nothing."""

from __future__ import annotations

import pytest
from arm_support import GROUP, MANAGEMENT, SECRETS_USER, SUB, vault_body, vault_path
from tests_support import Wire

import kv_emulator

KV = "2026-05-15"
RG = "2025-04-01"


@pytest.fixture
def arm(keyvault) -> Wire:
    wire = Wire(keyvault.management, MANAGEMENT)
    token = keyvault.credential.get_token("https://management.azure.com/.default").token
    wire.token = token  # type: ignore[attr-defined]
    return wire


def _send(arm: Wire, method: str, path: str, version: str | None, headers: dict | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {arm.token}", **(headers or {})}  # type: ignore[attr-defined]
    return arm.request(method, path, api_version=version, token=False, headers=headers, **kwargs)


@pytest.fixture
def group(arm):
    assert (
        _send(arm, "PUT", f"/subscriptions/{SUB}/resourceGroups/{GROUP}", RG, body={"location": "westus"}).status_code
        == 201
    )


def _error(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


def test_missing_token_is_arms_401(keyvault):
    wire = Wire(keyvault.management, MANAGEMENT)
    response = wire.request("GET", "/subscriptions", api_version="2022-12-01", token=False)
    assert response.status_code == 401
    assert _error(response) == {
        "code": "AuthenticationFailed",
        "message": "Authentication failed. The 'Authorization' header is missing.",
    }
    assert response.headers["WWW-Authenticate"].startswith(
        f'Bearer authorization_uri="https://login.windows.net/{keyvault.settings.tenant_id}"'
    )
    malformed = wire.request(
        "GET", "/subscriptions", api_version="2022-12-01", token=False, headers={"Authorization": "Basic x"}
    )
    assert (
        _error(malformed)["message"]
        == "Authentication failed. The 'Authorization' header is provided in an invalid format."
    )


def test_vault_token_is_refused_for_its_audience(keyvault):
    wire = Wire(keyvault.management, MANAGEMENT)
    token = keyvault.credential.get_token("https://vault.azure.net/.default").token
    response = wire.request(
        "GET", "/subscriptions", api_version="2022-12-01", token=False, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "InvalidAuthenticationTokenAudience"
    assert error["message"].startswith(
        "The access token has been obtained for wrong audience or resource 'https://vault.azure.net'."
    )


def test_strict_auth_refuses_foreign_and_expired_tokens():
    with kv_emulator.emulate(strict_auth=True, virtual_time=True) as kv:
        wire = Wire(kv.management, MANAGEMENT)
        opaque = wire.request(
            "GET", "/subscriptions", api_version="2022-12-01", headers={"Authorization": "Bearer opaque"}, token=False
        )
        assert _error(opaque) == {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
        token = kv.credential.get_token("https://management.azure.com/.default").token
        fine = wire.request(
            "GET", "/subscriptions", api_version="2022-12-01", headers={"Authorization": f"Bearer {token}"}, token=False
        )
        assert fine.status_code == 200
        kv.clock.advance(hours=2)
        expired = wire.request(
            "GET", "/subscriptions", api_version="2022-12-01", headers={"Authorization": f"Bearer {token}"}, token=False
        )
        assert _error(expired)["code"] == "ExpiredAuthenticationToken"


def test_request_ids_and_correlation(arm):
    response = _send(arm, "GET", "/subscriptions", "2022-12-01", headers={"x-ms-correlation-request-id": "corr-1"})
    assert response.status_code == 200
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert len(response.headers["x-ms-request-id"]) == 36
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["x-ms-ratelimit-remaining-subscription-reads"]


def test_api_version_missing_and_unknown(arm, group):
    missing = _send(arm, "GET", vault_path("nope"), None)
    assert missing.status_code == 400
    assert _error(missing) == {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests.",
    }
    unknown_rg = _send(arm, "GET", f"/subscriptions/{SUB}/resourceGroups", "2099-01-01")
    assert _error(unknown_rg)["code"] == "InvalidApiVersionParameter"
    assert _error(unknown_rg)["message"].startswith(
        "The api-version '2099-01-01' is invalid. The supported versions are '"
    )
    unknown_kv = _send(arm, "GET", vault_path("nope"), "2099-01-01")
    assert unknown_kv.status_code == 400 and _error(unknown_kv)["code"] == "NoRegisteredProviderFound"


def test_create_is_a_long_running_operation_finished_at_once(keyvault, arm, group):
    response = _send(arm, "PUT", vault_path("lro-vault"), KV, body=vault_body(keyvault.settings.tenant_id))
    assert response.status_code == 201
    status_url = response.headers["Azure-AsyncOperation"]
    assert status_url.startswith(
        f"{MANAGEMENT}/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westus/operationResults/"
    )
    path = status_url.removeprefix(MANAGEMENT)
    status = arm.client.get(path, base_url=MANAGEMENT, headers={"Authorization": f"Bearer {arm.token}"})
    assert status.status_code == 200 and status.get_json()["status"] == "Succeeded"
    again = _send(arm, "PUT", vault_path("lro-vault"), KV, body=vault_body(keyvault.settings.tenant_id))
    assert again.status_code == 200 and "Azure-AsyncOperation" not in again.headers


def test_pollers_do_not_sleep(keyvault):
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    ResourceManagementClient(keyvault.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    client = KeyVaultManagementClient(keyvault.credential, SUB)
    client.vaults.begin_create_or_update(GROUP, "quick", vault_body(keyvault.settings.tenant_id)).result()
    client.vaults.delete(GROUP, "quick")
    client.vaults.begin_purge_deleted("quick", "westus").result()
    assert not [e.delay for e in keyvault.requests if e.delay], "a poller slept"


def test_unknown_subscription_group_and_malformed_ids(keyvault, arm, group):
    body = vault_body(keyvault.settings.tenant_id)
    malformed = _send(
        arm,
        "PUT",
        f"/subscriptions/not-a-guid/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/vault1",
        KV,
        body=body,
    )
    assert malformed.status_code == 400 and _error(malformed)["code"] == "InvalidSubscriptionId"
    other = "11111111-1111-1111-1111-111111111111"
    unknown = _send(
        arm,
        "PUT",
        f"/subscriptions/{other}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/vaults/vault1",
        KV,
        body=body,
    )
    assert (
        unknown.status_code == 404 and _error(unknown)["message"] == f"The subscription '{other}' could not be found."
    )
    no_group = _send(arm, "PUT", vault_path("vault1", group="missing-rg"), KV, body=body)
    assert no_group.status_code == 404
    assert _error(no_group) == {
        "code": "ResourceGroupNotFound",
        "message": "Resource group 'missing-rg' could not be found.",
    }
    missing = _send(arm, "GET", vault_path("vault1"), KV)
    assert _error(missing)["code"] == "ResourceNotFound"
    assert keyvault.management.state.vaults == {}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"properties": {"softDeleteRetentionInDays": 6}}, "BadRequest"),
        ({"properties": {"softDeleteRetentionInDays": 91}}, "BadRequest"),
        ({"properties": {"softDeleteRetentionInDays": "30"}}, "InvalidRequestContent"),
        ({"properties": {"enablePurgeProtection": "yes"}}, "InvalidRequestContent"),
        ({"properties": {"enableSoftDelete": False}}, "BadRequest"),
        ({"properties": {"enablePurgeProtection": False}}, "BadRequest"),
        ({"properties": {"surprise": 1}}, "InvalidRequestContent"),
        ({"surprise": 1}, "InvalidRequestContent"),
        ({"properties": {"sku": {"family": "A", "name": "gold"}}}, "BadRequest"),
        ({"properties": {"tenantId": "not-a-guid"}}, "InvalidRequestContent"),
        ({"properties": {"networkAcls": {"defaultAction": "Deny", "ipRules": [{"value": "999.1.1.1"}]}}}, "BadRequest"),
        (
            {
                "properties": {
                    "accessPolicies": [{"tenantId": SUB, "objectId": "x", "permissions": {"secrets": ["fly"]}}]
                }
            },
            "BadRequest",
        ),
        ({"location": ""}, "LocationRequired"),
    ],
)
def test_bad_vault_bodies_change_nothing(keyvault, arm, group, change, code):
    body = vault_body(keyvault.settings.tenant_id)
    for key, value in change.items():
        if key == "properties":
            body["properties"].update(value)
        else:
            body[key] = value
    response = _send(arm, "PUT", vault_path("bad-input"), KV, body=body)
    assert response.status_code == 400, response.get_json()
    assert _error(response)["code"] == code
    assert keyvault.management.state.vaults == {}
    assert "bad-input" not in {v.name for v in keyvault.vaults}


def test_bad_json_and_bad_name(keyvault, arm, group):
    broken = _send(arm, "PUT", vault_path("vault1"), KV, raw=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and _error(broken)["code"] == "InvalidRequestContent"
    bad_name = _send(arm, "PUT", vault_path("a--b"), KV, body=vault_body(keyvault.settings.tenant_id))
    assert _error(bad_name)["code"] == "VaultNameNotValid"
    bad_group = _send(arm, "PUT", f"/subscriptions/{SUB}/resourceGroups/bad%20name!", RG, body={"location": "westus"})
    assert bad_group.status_code == 400
    assert keyvault.management.state.vaults == {} and set(keyvault.management.state.groups) == {GROUP.lower()}


def test_bad_patch_changes_nothing(keyvault, arm, group):
    _send(
        arm,
        "PUT",
        vault_path("patched"),
        KV,
        body=vault_body(keyvault.settings.tenant_id, softDeleteRetentionInDays=30),
    )
    before = _send(arm, "GET", vault_path("patched"), KV).get_json()
    for body in (
        {"properties": {"softDeleteRetentionInDays": 99}},
        {"properties": {"softDeleteRetentionInDays": 45}},
        {"tags": "x"},
    ):
        assert _send(arm, "PATCH", vault_path("patched"), KV, body=body).status_code == 400
    after = _send(arm, "GET", vault_path("patched"), KV).get_json()
    assert after == before
    assert keyvault.vault("patched").settings.soft_delete_retention_in_days == 30


def test_unanswered_operations_are_loud_501s(arm, group):
    response = _send(arm, "GET", vault_path("vault1") + "/privateLinkResources", KV)
    assert response.status_code == 501
    error = _error(response)
    assert error["code"] == "NotImplemented" and "PrivateLinkResources_ListByVault" in error["message"]
    unknown = _send(arm, "GET", f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines", "2024-01-01")
    assert unknown.status_code == 501 and "kv-emulator does not emulate" in _error(unknown)["message"]


def test_delete_is_idempotent_and_head_checks_groups(arm, group):
    assert _send(arm, "DELETE", vault_path("never-made"), KV).status_code == 204
    assert _send(arm, "HEAD", f"/subscriptions/{SUB}/resourcegroups/{GROUP}", RG).status_code == 204
    assert _send(arm, "HEAD", f"/subscriptions/{SUB}/resourcegroups/absent", RG).status_code == 404


@pytest.mark.parametrize(
    "host", ["management.azure.com", "management.chinacloudapi.cn", "management.usgovcloudapi.net"]
)
def test_sovereign_hosts_are_intercepted(keyvault, host):
    assert keyvault.app_for(f"https://{host}/subscriptions?api-version=2022-12-01") is keyvault.management
    assert keyvault.app_for("https://management.example.com/subscriptions") is None


def test_arm_requests_are_journaled_but_not_vault_audit_events(keyvault, arm, group):
    assert [e.operation for e in keyvault.requests] == ["ResourceGroups_CreateOrUpdate"]
    assert keyvault.requests[0].vault == "management.azure.com"
    assert len(keyvault.audit) == 0


def test_role_assignment_bad_input(keyvault, arm, group):
    _send(arm, "PUT", vault_path("roles-vault"), KV, body=vault_body(keyvault.settings.tenant_id))
    scope = vault_path("roles-vault")
    principal = "11111111-2222-3333-4444-555555555555"
    good = {
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}",
            "principalId": principal,
        }
    }
    path = scope + "/providers/Microsoft.Authorization/roleAssignments/"
    name = "6f1a3b9e-0000-4000-8000-000000000001"
    assert _error(_send(arm, "PUT", path + "not-a-guid", "2022-04-01", body=good))["code"] == "InvalidRoleAssignmentId"
    unknown = {
        "properties": {
            **good["properties"],
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
            + "0" * 8
            + "-0000-0000-0000-000000000001",
        }
    }
    assert _error(_send(arm, "PUT", path + name, "2022-04-01", body=unknown))["code"] == "RoleDefinitionDoesNotExist"
    tenant_root = f"/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert _error(_send(arm, "PUT", tenant_root, "2022-04-01", body=good))["code"] == "InvalidScope"
    no_group = f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert _error(_send(arm, "PUT", no_group, "2022-04-01", body=good))["code"] == "ResourceGroupNotFound"
    missing_vault = vault_path("no-such-vault") + f"/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert _send(arm, "PUT", missing_vault, "2022-04-01", body=good).status_code == 404
    assert keyvault.management.state.assignments == {}
    assert keyvault.vault("roles-vault").authorization.assignments == []
    assert _send(arm, "PUT", path + name, "2022-04-01", body=good).status_code == 201
    duplicate = _send(arm, "PUT", path + "6f1a3b9e-0000-4000-8000-000000000002", "2022-04-01", body=good)
    assert duplicate.status_code == 409 and _error(duplicate)["code"] == "RoleAssignmentExists"
    assert len(keyvault.vault("roles-vault").authorization.assignments) == 1
    secret_scope = scope + "/secrets/db"
    scoped = _send(
        arm,
        "PUT",
        secret_scope + "/providers/Microsoft.Authorization/roleAssignments/6f1a3b9e-0000-4000-8000-000000000003",
        "2022-04-01",
        body=good,
    )
    assert scoped.status_code == 201 and scoped.get_json()["properties"]["scope"] == secret_scope
    assert {a.scope for a in keyvault.vault("roles-vault").authorization.assignments} == {"/", "/secrets/db"}


def test_access_policy_bad_input_changes_nothing(keyvault, arm, group):
    _send(arm, "PUT", vault_path("ap-vault"), KV, body=vault_body(keyvault.settings.tenant_id))
    entry = {"tenantId": keyvault.settings.tenant_id, "objectId": "x", "permissions": {"secrets": ["get"]}}
    assert (
        _send(
            arm,
            "PUT",
            vault_path("ap-vault") + "/accessPolicies/merge",
            KV,
            body={"properties": {"accessPolicies": [entry]}},
        ).status_code
        == 400
    )
    bad = {**entry, "permissions": {"secrets": "get"}}
    assert (
        _send(
            arm,
            "PUT",
            vault_path("ap-vault") + "/accessPolicies/add",
            KV,
            body={"properties": {"accessPolicies": [bad]}},
        ).status_code
        == 400
    )
    assert (
        _send(arm, "PUT", vault_path("ap-vault") + "/accessPolicies/add", KV, body={"properties": {}}).status_code
        == 400
    )
    assert _send(arm, "GET", vault_path("ap-vault"), KV).get_json()["properties"]["accessPolicies"] == []


def test_resource_group_bad_input(arm, group):
    base = f"/subscriptions/{SUB}/resourceGroups"
    assert _error(_send(arm, "PUT", f"{base}/rg-x", RG, body={}))["code"] == "LocationRequired"
    assert (
        _error(_send(arm, "PUT", f"{base}/rg-x", RG, body={"location": "westus", "color": "red"}))["code"]
        == "InvalidRequestContent"
    )
    assert (
        _error(_send(arm, "PUT", f"{base}/trailing.", RG, body={"location": "westus"}))["code"]
        == "InvalidResourceGroupName"
    )
    moved = _send(arm, "PUT", f"{base}/{GROUP}", RG, body={"location": "eastus"})
    assert moved.status_code == 409 and _error(moved)["code"] == "InvalidResourceGroupLocation"
    assert [g["name"] for g in _send(arm, "GET", base, RG).get_json()["value"]] == [GROUP]


def test_a_vault_read_back_can_be_sent_again(keyvault, arm, group):
    created = _send(arm, "PUT", vault_path("round-trip"), KV, body=vault_body(keyvault.settings.tenant_id)).get_json()
    again = _send(arm, "PUT", vault_path("round-trip"), KV, body=created)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["properties"] == created["properties"]


def test_emulate_management_off_leaves_arm_alone():
    with kv_emulator.emulate(emulate_management=False) as kv:
        assert kv.app_for("https://management.azure.com/subscriptions?api-version=2022-12-01") is None
        assert kv.app_for("https://kv-emulator.vault.azure.net/secrets") is kv.app
