"""Operations and fields newer than the requested api-version (issue 12): one table in code
(``kv_emulator/api/availability.py``) decides; older versions answer as for a path they do not know."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from keys_support import assert_error

from kv_emulator.api import OPERATION_SINCE
from kv_emulator.api.versions import PUBLISHED
from kv_emulator.http.routes import MANAGED_HSM_OPERATIONS, OPERATIONS

HSM = "https://kv-emulator-hsm.managedhsm.azure.net"
KEY_NOT_FOUND = (
    "A key with (name/id) k/rotationpolicy was not found in this key vault. If you recently deleted this key you may "
    "be able to recover it using the correct recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)


def test_the_table_names_only_real_operations_and_versions():
    operations = {operation for _, _, operation in OPERATIONS + MANAGED_HSM_OPERATIONS}
    assert set(OPERATION_SINCE) <= operations
    assert set(OPERATION_SINCE.values()) <= set(PUBLISHED)


def test_rotation_policy_before_7_3_is_a_get_key_of_a_version_called_rotationpolicy(wire):
    assert wire.post("/keys/k/create", body={"kty": "EC"}).status_code == 200
    before = wire.get("/keys/k/rotationpolicy", api_version="7.2")
    assert_error(before, 404, "KeyNotFound", KEY_NOT_FOUND)
    assert wire.get("/keys/k/rotationpolicy", api_version="7.3").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "version", "status"),
    [
        ("POST", "/keys/k/rotate", "7.2", 405),  # only GET and PATCH on /keys/{name}/{version} then
        ("PUT", "/keys/k/rotationpolicy", "7.2", 405),
        ("POST", "/keys/k/v/release", "7.2", 404),
        ("GET", "/keys/k/v/attestation", "7.5", 404),
        ("POST", "/keys/k/v/securewrapkey", "2025-07-01", 404),
        ("GET", "/deletedsecrets", "2015-06-01", 404),
        ("POST", "/certificates/c/backup", "2016-10-01", 405),
    ],
)
def test_operations_newer_than_the_version_are_unknown_paths(wire, method, path, version, status):
    response = wire.request(method, path, api_version=version, body={} if method in ("POST", "PUT") else None)
    assert response.status_code == status
    assert set(response.get_json()) == {"error"}


def test_random_bytes_from_7_3_on_a_managed_hsm(keyvault, wire_for):
    hsm = wire_for(keyvault.app, base_url=HSM)
    assert_error(hsm.post("/rng", body={"count": 4}, api_version="7.2"), 404, "NotFound")
    assert hsm.post("/rng", body={"count": 4}, api_version="7.3").status_code == 200


def test_sdk_at_7_2_sees_no_rotation_policy(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential, api_version="7.2")
    client.create_ec_key("k")
    with pytest.raises(ResourceNotFoundError):
        client.get_key_rotation_policy("k")
    assert KeyClient(keyvault.vault_url, keyvault.credential).get_key_rotation_policy("k") is not None


async def test_async_sdk_at_7_2_cannot_get_random_bytes(keyvault):
    async with AsyncKeyClient(HSM, keyvault.async_credential, api_version="7.2") as client:
        with pytest.raises(HttpResponseError) as refused:
            await client.get_random_bytes(4)
        assert refused.value.status_code == 404
    async with AsyncKeyClient(HSM, keyvault.async_credential, api_version="7.3") as client:
        assert len(await client.get_random_bytes(4)) == 4


@pytest.mark.keyvault(certificate_issuance_time=0)  # reads the secret right after the 202
def test_out_content_type_is_ignored_before_2025_07_01(wire):
    policy = {"key_props": {"kty": "EC", "crv": "P-256"}, "x509_props": {"subject": "CN=c"}, "issuer": {"name": "Self"}}
    assert wire.post("/certificates/c/create", body={"policy": policy}).status_code == 202
    pem = "application/x-pem-file"
    old = wire.get(f"/secrets/c?outContentType={pem}", api_version="7.6").get_json()
    new = wire.get(f"/secrets/c?outContentType={pem}", api_version="2025-07-01").get_json()
    assert (old["contentType"], new["contentType"]) == ("application/x-pkcs12", pem)
