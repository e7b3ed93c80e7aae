"""Routes and versions as the service answers them (issue 19, items 1-4): crypto operations and key attestation
without a version segment, every preview api-version an SDK shipped, empty object names, and the Managed HSM
administration operations kv-emulator does not implement yet."""

from __future__ import annotations

import base64
import hashlib

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.administration import (
    KeyVaultAccessControlClient,
    KeyVaultRoleScope,
    KeyVaultSetting,
    KeyVaultSettingsClient,
)
from azure.keyvault.secrets import SecretClient
from tests_support import error_of

from kv_emulator.api import HANDLERS
from kv_emulator.api.versions import PREVIEWS
from kv_emulator.http.routes import MANAGED_HSM_OPERATIONS, route

HSM = "https://contoso-hsm.managedhsm.azure.net"
VAULT = "https://kv-emulator.vault.azure.net"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(params=[VAULT, HSM], ids=["vault", "hsm"])
def host_wire(request, keyvault, wire_for):
    return wire_for(keyvault.app, base_url=request.param)


def _two_versions(wire, name: str = "k", kty: str = "RSA") -> str:
    """Create a key twice; the second version's kid (the latest)."""
    assert wire.post(f"/keys/{name}/create", body={"kty": kty}).status_code == 200
    latest = wire.post(f"/keys/{name}/create", body={"kty": kty})
    assert latest.status_code == 200
    return latest.get_json()["key"]["kid"]


# -- 1. crypto operations and attestation without a version segment --------------------------------------------


def test_crypto_without_a_version_segment_uses_the_latest_version(host_wire):
    """The service answers ``POST /keys/{name}/encrypt`` (no version segment) 200 with the latest version, on
    vaults and Managed HSMs, and its ``kid`` is that version's id (recorded: azure-sdk-for-go azkeys
    recordings, 2023)."""
    latest = _two_versions(host_wire)
    sealed = host_wire.post("/keys/k/encrypt", body={"alg": "RSA-OAEP-256", "value": _b64(b"plaintext")})
    assert sealed.status_code == 200
    assert sealed.get_json()["kid"] == latest
    opened = host_wire.post("/keys/k/decrypt", body={"alg": "RSA-OAEP-256", "value": sealed.get_json()["value"]})
    assert opened.status_code == 200
    assert opened.get_json() == {"kid": latest, "value": _b64(b"plaintext")}

    digest = _b64(hashlib.sha256(b"message").digest())
    signed = host_wire.post("/keys/k/sign", body={"alg": "RS256", "value": digest})
    assert signed.status_code == 200 and signed.get_json()["kid"] == latest
    verified = host_wire.post(
        "/keys/k/verify", body={"alg": "RS256", "digest": digest, "value": signed.get_json()["value"]}
    )
    assert verified.status_code == 200 and verified.get_json() == {"value": True}

    wrapped = host_wire.post("/keys/k/wrapkey", body={"alg": "RSA-OAEP", "value": _b64(b"k" * 32)})
    assert wrapped.status_code == 200 and wrapped.get_json()["kid"] == latest
    unwrapped = host_wire.post("/keys/K/UnwrapKey", body={"alg": "RSA-OAEP", "value": wrapped.get_json()["value"]})
    assert unwrapped.status_code == 200 and unwrapped.get_json() == {"kid": latest, "value": _b64(b"k" * 32)}


@pytest.mark.parametrize("operation", ["release", "securewrapkey", "secureunwrapkey"])
def test_the_other_key_operations_route_without_a_version_segment_too(keyvault, wire, operation):
    """Release and the secure wrap operations share the crypto operations' path shape, so the service's
    version-less form reaches them too (as for encrypt: Go SDK recordings, 2023)."""
    _two_versions(wire)
    response = wire.post(f"/keys/k/{operation}", body={})
    assert response.status_code == 400  # the operation itself: its required field is missing
    assert keyvault.requests[-1].operation == operation


def test_key_attestation_without_a_version_segment_is_the_latest_versions_attestation(wire_for, keyvault):
    """The JavaScript SDK's getKeyAttestation without a version sends ``GET /keys/{name}/attestation``; the
    service answers the latest version's attestation (issue 19, the JavaScript SDK samples against main)."""
    hsm = wire_for(keyvault.app, base_url=HSM)
    latest = _two_versions(hsm, "att", "RSA-HSM")
    response = hsm.get("/keys/att/attestation")
    assert response.status_code == 200
    body = response.get_json()
    assert body["key"]["kid"] == latest
    assert body["attributes"]["attestation"]["version"] == "1.0"
    assert keyvault.requests[-1].operation == "GetKeyAttestation"


def test_attestation_before_7_6_is_still_a_version_called_attestation(wire_for, keyvault):
    """Before 7.6 the service has no attestation: the path is GetKey of a version called "attestation"."""
    hsm = wire_for(keyvault.app, base_url=HSM)
    _two_versions(hsm, "att", "RSA-HSM")
    response = hsm.get("/keys/att/attestation", api_version="7.5")
    assert response.status_code == 404
    assert error_of(response)["code"] == "KeyNotFound"


def test_a_key_named_like_an_operation_is_still_a_key(wire):
    """The version-less operations are POSTs on ``/keys/{name}/{op}``: ``GET /keys/sign`` and
    ``GET /keys/sign/{version}`` remain the key named "sign", ``POST /keys/sign/sign`` signs with it, and
    ``GET /keys/k/sign`` remains GetKey of a version called "sign" (404)."""
    kid = _two_versions(wire, "sign")
    version = kid.rsplit("/", 1)[1]
    assert wire.get("/keys/sign").get_json()["key"]["kid"] == kid
    assert wire.get(f"/keys/sign/{version}").get_json()["key"]["kid"] == kid
    digest = _b64(hashlib.sha256(b"m").digest())
    assert wire.post("/keys/sign/sign", body={"alg": "RS256", "value": digest}).get_json()["kid"] == kid
    missing = wire.get("/keys/sign/sign")
    assert missing.status_code == 404 and error_of(missing)["code"] == "KeyNotFound"


# -- 2. preview api-versions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["7.0-preview", "7.1-preview", "2026-01-01-preview", "2026-03-01-preview"])
def test_previews_refused_before_are_served(wire, version):
    """SDKs of their years sent these previews and the service answered (issue 19; the specs' version list:
    Microsoft.KeyVault/preview folders and the TypeSpec Versions enum)."""
    assert wire.get("/secrets", api_version=version).status_code == 200


@pytest.mark.keyvault(strict_api_version=True)
@pytest.mark.parametrize("version", sorted(PREVIEWS))
def test_every_shipped_preview_is_served_even_in_strict_mode(wire, version):
    assert wire.get("/secrets", api_version=version).status_code == 200


@pytest.mark.parametrize(("preview", "has_recoverable_days"), [("7.0-preview", False), ("7.1-preview", True)])
def test_a_preview_behaves_as_its_stable_version(wire, preview, has_recoverable_days):
    """``recoverableDays`` came with 7.1: 7.0-preview renders as 7.0, 7.1-preview as 7.1."""
    wire.put("/secrets/s", body={"value": "v"})
    attributes = wire.get("/secrets/s/", api_version=preview).get_json()["attributes"]
    assert ("recoverableDays" in attributes) is has_recoverable_days


@pytest.mark.parametrize("version", ["2016-10-01-preview", "7.2-preview.1", "2026-04-01-preview"])
def test_previews_no_sdk_shipped_are_still_refused(wire, version):
    """No SDK sent these; the service's 400 for an unknown version (recorded, see test_wire_api_version.py)."""
    response = wire.get("/secrets", api_version=version)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith(f"The specified version ({version}) is not recognized.")


# -- 3. empty object names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/secrets/"),  # recorded, 2022
        ("POST", "/certificates//create"),  # recorded, 2022
        ("PUT", "/secrets//"),
        ("PUT", "/keys/"),
        ("PATCH", "/secrets//"),
        ("DELETE", "/certificates/"),
        ("POST", "/deletedsecrets//recover"),
    ],
)
def test_an_empty_name_is_the_service_405(wire, method, path):
    """``PUT /secrets/`` and ``POST /certificates//create`` get 405 MethodNotAllowed "HTTP PUT not allowed" /
    "HTTP POST not allowed" from the service, no innererror (recorded: azure-sdk-assets, Java
    SecretClientTest.setSecretEmptyName 2023-10, CertificateClientTest.createCertificateEmptyName 2026-06);
    the same shape with another collection or method gets the same form."""
    response = wire.request(method, path, body={"value": "v"} if method in ("PUT", "POST", "PATCH") else None)
    assert response.status_code == 405
    assert error_of(response) == {"code": "MethodNotAllowed", "message": f"HTTP {method} not allowed"}


@pytest.mark.parametrize("path", ["/keys//create", "/keys//sign"])
def test_a_key_operation_with_an_empty_name_is_operation_not_specified(wire, path):
    """Keys differ: ``POST /keys//create`` is 400 BadParameter "Operation not specified" (recorded:
    azure-sdk-assets, Java ``KeyAsyncClientTest.createKeyEmptyName[1].json``, 2023-09-25, api 7.4)."""
    response = wire.post(path, body={"kty": "RSA", "attributes": {}})
    assert response.status_code == 400
    assert error_of(response) == {"code": "BadParameter", "message": "Operation not specified"}


def test_key_attestation_without_a_version_on_a_vault_is_refused_by_the_76_previews(wire):
    """On a vault (not a Managed HSM) the 7.6 previews refused the version-less attestation form with 400
    (recorded: azure-sdk-assets, .NET ``KeyClientLiveTests/GetKeyAttestationNonExisting.json``, 2025-03-24, api
    7.6-preview.2); stable versions answer it (examples/test_key_release.py)."""
    for path in ("/keys/k//attestation", "/keys/k/attestation"):
        response = wire.get(path, api_version="7.6-preview.2")
        assert response.status_code == 400
        assert error_of(response) == {
            "code": "BadParameter",
            "message": "Method GET does not allow operation 'attestation'",
        }


def test_a_list_with_a_trailing_slash_is_still_a_list(wire):
    assert wire.get("/secrets/").get_json() == {"value": [], "nextLink": None}


def test_the_sdk_sees_the_service_405_for_an_empty_secret_name(keyvault):
    client = SecretClient(VAULT, keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        client.set_secret("", "v")
    assert refused.value.status_code == 405
    assert refused.value.error is not None and refused.value.error.code == "MethodNotAllowed"
    assert refused.value.error.message == "HTTP PUT not allowed"


# -- 4. Managed HSM administration: routed, answered 501 naming the operation ---------------------------------


def test_the_access_control_client_reaches_each_operation(keyvault):
    """Implemented (tests/hsm/test_hsm_rbac.py has the shapes): no operation of rbac.json answers 501 any more."""
    client = KeyVaultAccessControlClient(HSM, keyvault.credential)
    definition = "4bd23610-cdcf-4971-bdee-bdc562cc28e4"
    assert any(d.name == definition for d in client.list_role_definitions(KeyVaultRoleScope.GLOBAL))
    assert (
        client.get_role_definition(KeyVaultRoleScope.GLOBAL, definition).role_name == "Managed HSM Policy Administrator"
    )
    custom = client.set_role_definition(KeyVaultRoleScope.KEYS)
    assignment = client.create_role_assignment(KeyVaultRoleScope.GLOBAL, definition, "00000000-0000-0000-0000-1")
    assert client.get_role_assignment(KeyVaultRoleScope.GLOBAL, assignment.name).name == assignment.name
    assert assignment.name in {a.name for a in client.list_role_assignments(KeyVaultRoleScope.GLOBAL)}
    client.delete_role_assignment(KeyVaultRoleScope.GLOBAL, assignment.name)
    client.delete_role_definition(KeyVaultRoleScope.KEYS, custom.name)


# The backup client's operations are implemented: tests/hsm/test_hsm_backup.py.


def test_the_settings_client_reaches_each_operation(keyvault):
    """Implemented (tests/hsm/test_hsm_settings.py has the shapes)."""
    client = KeyVaultSettingsClient(HSM, keyvault.credential)
    name = "AllowKeyManagementOperationsThroughARM"
    assert [s.name for s in client.list_settings()] == [name]
    assert client.get_setting(name).value == "false"
    assert client.update_setting(KeyVaultSetting(name=name, value=True)).value == "true"


def test_every_administration_operation_has_its_handler():
    """Issue 23 implemented the 23 operations issue 19 routed as 501s; a new administration route without a
    handler would be a 501 again (the 501 itself: tests/wire/test_wire_errors.py)."""
    missing = [op for _, _, op in MANAGED_HSM_OPERATIONS if op not in HANDLERS]
    assert not missing


def test_the_global_role_scope_routes_with_or_without_its_empty_segment():
    """The SDK sends the scope "/" as ``/providers/...``; a client that keeps the empty segment sends
    ``//providers/...`` (werkzeug's test client reads that as a host, so this one goes through the router)."""
    roles = "/providers/Microsoft.Authorization/roleDefinitions"
    for path in (roles, "/" + roles):
        assert route(path, "GET", managed_hsm=True) == ("RoleDefinitions_List", {"scope": ""})
    assert route("/keys/k/providers/Microsoft.Authorization/roleAssignments/a1", "DELETE", managed_hsm=True) == (
        "RoleAssignments_Delete",
        {"scope": "keys/k", "role_assignment": "a1"},
    )


def test_administration_routes_follow_their_api_versions(keyvault, wire_for):
    """Settings came with 7.4 and pre-backup with 7.6: before, the Managed HSM does not know the path."""
    hsm = wire_for(keyvault.app, base_url=HSM)
    assert hsm.get("/settings", api_version="7.3").status_code == 404
    assert hsm.get("/settings", api_version="7.4").status_code == 200
    assert hsm.post("/prebackup", body={}, api_version="7.5").status_code == 404
    assert hsm.post("/prebackup", body={}, api_version="7.6").status_code == 400  # known: its body is missing


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/settings", 404),
        ("POST", "/backup", 404),
        ("GET", "/providers/Microsoft.Authorization/roleDefinitions", 404),
        ("PUT", "/keys/k/restore", 405),  # GET and PATCH of a version called "restore" exist there
    ],
)
def test_a_vault_has_no_administration_routes(wire, method, path, status):
    """A vault (not a Managed HSM) has none of these operations: the service does not route them there (it
    answers 404/400; the exact text is unrecorded), and the emulator answers as for any unknown path."""
    response = wire.request(method, path, body={} if method != "GET" else None)
    assert response.status_code == status
    assert error_of(response)["code"] == ("NotFound" if status == 404 else "MethodNotAllowed")
