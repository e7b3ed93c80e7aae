"""Error answers as recorded from the real service (issue 19): status, error.code, innererror.code and message.

Each test cites where the answer was seen. Sources: the Azure SDKs' recordings of real traffic, read from git
history (Python ``tests/recordings/*.yaml`` 2018-2021, Go ``testdata/recordings/*.json`` 2021-2023, JavaScript
``recordings/{node,browsers}`` 2019-2021, C++ ``test/ut/recordings`` 2021-2022) and Azure/azure-sdk-assets
(Java and JavaScript session records, 2023-2026). docs/errors.md lists each text with its source.
"""

from __future__ import annotations

import base64
import json

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys import KeyClient, KeyReleasePolicy
from certs_support import ec_policy
from keys_support import assert_error
from tests_support import VAULT

pytestmark = pytest.mark.usefixtures("never_a_500")

HSM = "https://contoso-hsm.managedhsm.azure.net"
LINK = "https://go.microsoft.com/fwlink/?linkid=2125182"
SELF_POLICY = {"x509_props": {"subject": "CN=c"}, "issuer": {"name": "Self"}, "key_props": {"kty": "EC"}}


def restore_conflict(kind: str, ident: str) -> str:
    return (
        f"There was a conflict restoring the {kind} '{ident}'. This can happen if either: a second {kind} with the "
        f"same name was created after the first {kind} was deleted; thus trying to restore a {kind} whose name is "
        f"already in use. To fix this, rename the second {kind} to something else so that the restore works. The "
        f"second probable cause of this exception is when multiple operations are performed in parallel against "
        f"the {kind}. To avoid this error, perform operations against a {kind} in a sequential manner."
    )


def not_found(kind: str, ident: str) -> str:
    return (
        f"A {kind} with (name/id) {ident} was not found in this key vault. If you recently deleted this {kind} you "
        f"may be able to recover it using the correct recovery command. For help resolving this issue, please see "
        f"{LINK}"
    )


# -- restore over a name in use ----------------------------------------------------------------------------------


def test_restoring_a_secret_whose_name_is_in_use_names_the_backed_up_version(wire):
    """Recorded: 409 Conflict, no inner code, the text naming the latest backed-up version's full id (Go SDK
    sdk/keyvault/azsecrets/testdata/recordings/TestBackupRestore.json, 2023-03-28, api 7.4; the same since 2021-02
    in js SDK recordings; 2019-2020 the text was "Conflict while restoring secret ... - secret already exists")."""
    version = wire.put("/secrets/s", body={"value": "v1"}).get_json()["id"].rsplit("/", 1)[1]
    blob = wire.post("/secrets/s/backup").get_json()
    refused = wire.post("/secrets/restore", body=blob)
    error = assert_error(refused, 409, "Conflict", restore_conflict("secret", f"{VAULT}/secrets/s/{version}"))
    assert "innererror" not in error


def test_restoring_a_key_whose_name_is_in_use_names_the_latest_version(wire):
    """Recorded: Go SDK sdk/keyvault/azkeys/testdata/recordings/TestBackupRestore/KV.json (2023-03-28, api 7.4) and
    TestBackupKey_HSM.json on a Managed HSM (2022-05-17, api 7.3)."""
    wire.post("/keys/k/create", body={"kty": "EC"})
    latest = wire.post("/keys/k/create", body={"kty": "EC"}).get_json()["key"]["kid"].rsplit("/", 1)[1]
    blob = wire.post("/keys/k/backup").get_json()
    refused = wire.post("/keys/restore", body=blob)
    assert_error(refused, 409, "Conflict", restore_conflict("key", f"{VAULT}/keys/k/{latest}"))


def test_restoring_a_certificate_whose_name_is_in_use(keyvault, wire):
    """Recorded: Go SDK sdk/keyvault/azcertificates/testdata/recordings/TestBackupRestore.json (2023-03-23, api 7.4)."""
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    certificate = client.begin_create_certificate("c", ec_policy()).result()
    blob = wire.post("/certificates/c/backup").get_json()
    refused = wire.post("/certificates/restore", body=blob)
    assert_error(
        refused,
        409,
        "Conflict",
        restore_conflict("certificate", f"{VAULT}/certificates/c/{certificate.properties.version}"),
    )


def test_the_sdk_sees_the_restore_conflict_as_resource_exists(keyvault):
    """The SDK maps the recorded 409 to ResourceExistsError (Go SDK recordings 2023, api 7.4)."""
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_ec_key("k")
    with pytest.raises(ResourceExistsError) as conflict:
        client.restore_key_backup(client.backup_key("k"))
    assert conflict.value.error.code == "Conflict"
    assert conflict.value.error.message.startswith("There was a conflict restoring the key '")


# -- backups that are not backups ---------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["secrets", "keys", "certificates"])
def test_a_blob_of_zeros_has_an_invalid_version(wire, collection):
    """Recorded: 400, error.code "Malformed backup blob" (with spaces), no inner code (Azure/azure-sdk-assets
    js/sdk/keyvault/keyvault-keys/recordings/node/keys_client__restore_keys_and_recover_backups/
    recording_fails_to_restore_a_key_with_a_malformed_backup.json, 2026-05-13, api 2025-07-01; secrets and
    certificates in the js SDK's browser recordings, 2021-02, api 7.2)."""
    zeros = base64.urlsafe_b64encode(bytes(8000)).decode().rstrip("=")
    refused = wire.post(f"/{collection}/restore", body={"value": zeros})
    error = assert_error(refused, 400, "Malformed backup blob", "Backup blob contains invalid or corrupt version.")
    assert "innererror" not in error


# -- certificate operations ---------------------------------------------------------------------------------------


def test_no_operation_is_pending_certificate_not_found_with_a_capital_c(wire):
    """Recorded: 404 PendingCertificateNotFound "Pending Certificate not found: non-existing" (Azure/azure-sdk-assets
    java/.../CertificateClientTest.getCertificateOperationNotFound[1].json, 2026-06-02, api 2026-03-01-preview;
    the text had a lower-case c in 2018-2022 recordings)."""
    refused = wire.get("/certificates/non-existing/pending")
    assert_error(refused, 404, "PendingCertificateNotFound", "Pending Certificate not found: non-existing")


def test_create_while_an_operation_is_in_progress_is_a_409_conflict(wire):
    """Recorded: 409 with error.code Conflict, not the Forbidden of the service's docs (js SDK
    certificates_client__list_certificates_in_various_ways/recording_can_retrieve_all_versions_of_a_certificate,
    2019-08 .. 2019-11, api 7.0)."""
    unknown = dict(SELF_POLICY, issuer={"name": "Unknown"})
    assert wire.post("/certificates/c/create", body={"policy": unknown}).status_code == 202
    refused = wire.post("/certificates/c/create", body={"policy": SELF_POLICY})
    error = assert_error(
        refused,
        409,
        "Conflict",
        "A new key vault certificate can not be created or imported while a pending key vault certificate's "
        "status is inProgress.",
    )
    assert "innererror" not in error


def test_missing_contacts_and_issuers(wire):
    """Recorded: 404 ContactsNotFound "Contacts not found" and 404 CertificateIssuerNotFound "Issuer not found"
    (Go SDK sdk/keyvault/azcertificates/testdata/recordings/TestClient_ContactsCRUD.json and
    TestClient_IssuerCRUD.json, 2022-05-16, api 7.3; Python SDK test_crud_contacts/test_crud_issuer 2018-2020)."""
    assert_error(wire.get("/certificates/contacts"), 404, "ContactsNotFound", "Contacts not found")
    assert_error(wire.get("/certificates/issuers/issuer"), 404, "CertificateIssuerNotFound", "Issuer not found")


def test_a_missing_certificate_everywhere_is_the_long_text(wire):
    """Recorded: 404 CertificateNotFound with the long text for GET .../policy and POST .../backup (Azure/azure-sdk-
    assets java/.../CertificateClientTest.getCertificatePolicyNotFound[1].json and deleteCertificateIssuerNotFound
    [1].json, 2026-06-02, api 2026-03-01-preview)."""
    text = not_found("certificate", "non-existing")
    assert_error(wire.get("/certificates/non-existing/policy"), 404, "CertificateNotFound", text)
    assert_error(wire.post("/certificates/non-existing/backup"), 404, "CertificateNotFound", text)


@pytest.mark.keyvault(certificate_issuance_time=0)  # the certificate's key and secret exist at once
@pytest.mark.parametrize(
    ("collection", "inner"), [("keys", "KeyManagedByKeyVault"), ("secrets", "SecretManagedByKeyVault")]
)
def test_deleting_a_certificates_key_or_secret_is_forbidden(wire, collection, inner):
    """Recorded: 403 Forbidden, inner KeyManagedByKeyVault / SecretManagedByKeyVault (js SDK
    keys_client__list_keys_in_various_ways/recording_can_purge_all_keys.js, 2020-06, and
    secret_client__list_secrets_in_various_ways/recording_can_purge_all_secrets.json, 2021-05-21, api 7.2)."""
    wire.post("/certificates/c/create", body={"policy": SELF_POLICY})
    wire.get("/certificates/c/pending")
    refused = wire.delete(f"/{collection}/c")
    text = 'Operation "delete" is not allowed as this object\'s lifetime is managed by Key Vault.'
    assert_error(refused, 403, "Forbidden", text, inner)


# -- lifecycle texts of keys and certificates ---------------------------------------------------------------------


def test_key_texts_follow_the_recorded_ones(wire):
    """Recorded: KeyNotFound long text, with name/version for a version (Go SDK sdk/keyvault/azkeys/testdata/
    recordings/TestRecoverDeletedKey/KV.json, 2023-03-28, api 7.4); "Deleted Key not found: k" and the
    deleted-but-recoverable 409 (C++ SDK KeyVaultKeyClient.CreateDeletedKey.json, 2021-12-01, api 7.3)."""
    assert_error(wire.get("/keys/k/"), 404, "KeyNotFound", not_found("key", "k"))
    wire.post("/keys/k/create", body={"kty": "EC"})
    missing = "c7da41e670054717ae64f26fa3d49495"
    assert_error(wire.get(f"/keys/k/{missing}"), 404, "KeyNotFound", not_found("key", f"k/{missing}"))
    assert_error(wire.get("/deletedkeys/k"), 404, "KeyNotFound", "Deleted Key not found: k")
    wire.delete("/keys/k")
    refused = wire.post("/keys/k/create", body={"kty": "EC"})
    assert_error(
        refused,
        409,
        "Conflict",
        "Key k is currently in a deleted but recoverable state, and its name cannot be reused; in this state, "
        "the key can only be recovered or purged.",
        "ObjectIsDeletedButRecoverable",
    )


def test_certificate_lifecycle_texts(wire):
    """Recorded: "Deleted Certificate not found: c" (C++ and Go SDK recordings, 2021-2023) and the
    deleted-but-recoverable 409 for a certificate (js SDK certificates_client__lro__recoverdelete, 2019-11-15,
    api 7.0)."""
    assert_error(wire.get("/deletedcertificates/c"), 404, "CertificateNotFound", "Deleted Certificate not found: c")
    wire.post("/certificates/c/create", body={"policy": SELF_POLICY})
    wire.get("/certificates/c/pending")
    wire.delete("/certificates/c")
    refused = wire.post("/certificates/c/create", body={"policy": SELF_POLICY})
    assert_error(
        refused,
        409,
        "Conflict",
        "Certificate c is currently in a deleted but recoverable state, and its name cannot be reused; in this "
        "state, the certificate can only be recovered or purged.",
        "ObjectIsDeletedButRecoverable",
    )


def test_a_disabled_secret_cannot_be_read(wire):
    """Recorded: 403 Forbidden, inner SecretDisabled (js SDK recording_cant_get_a_disabled_secret, 2019-2021;
    azure-sdk-for-js#25759 quotes the same body with api 7.4 in 2023)."""
    wire.put("/secrets/s", body={"value": "v", "attributes": {"enabled": False}})
    refused = wire.get("/secrets/s/")
    assert_error(refused, 403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")


# -- keys -----------------------------------------------------------------------------------------------------------


def test_create_key_without_kty(wire):
    """Recorded: POST /keys/{name}/create with {"attributes": {}} answers 400 BadParameter "Property  has invalid
    value\\r\\n" twice, with two spaces (Azure/azure-sdk-assets java/sdk/keyvault/azure-security-keyvault-keys/src/
    test/resources/session-records/KeyAsyncClientTest.createKeyNullType[1].json, 2023-09-25, api 7.4)."""
    refused = wire.post("/keys/k/create", body={"attributes": {}})
    assert_error(refused, 400, "BadParameter", "Property  has invalid value\r\nProperty  has invalid value\r\n")


@pytest.mark.parametrize("name", ["key!@#$", "invalidkey[]()"])
def test_an_invalid_key_name(wire, name):
    """Recorded: 400 BadParameter "The request URI contains an invalid name: key!@#$" on a vault (Go SDK
    sdk/keyvault/azkeys/testdata/recordings/TestCreateECKey/TestCreateECKey_NON-HSM.json and TestGetKey_NON-HSM.json,
    2022-05-17, api 7.3)."""
    quoted = name.replace("!", "%21").replace("#", "%23").replace("$", "%24").replace("[", "%5B").replace("]", "%5D")
    refused = wire.post(f"/keys/{quoted.replace('(', '%28').replace(')', '%29')}/create", body={"kty": "EC"})
    assert_error(refused, 400, "BadParameter", f"The request URI contains an invalid name: {name}")


def test_an_oct_key_of_an_invalid_size_on_a_managed_hsm(keyvault, wire_for):
    """Recorded: 400 BadParameter "Invalid key size: '64' (Activity ID: …)" (Azure/azure-sdk-assets java/.../
    KeyClientManagedHsmTest.createOctKeyWithInvalidSize[1].json, 2023-09, api 7.4). The emulator leaves out the
    activity id, as for GetRandomBytes."""
    hsm = wire_for(keyvault.app, base_url=HSM)
    refused = hsm.post("/keys/k/create", body={"kty": "oct-HSM", "key_size": 64})
    assert_error(refused, 400, "BadParameter", "Invalid key size: '64'")


def test_release_with_a_token_the_vault_cannot_verify(keyvault):
    """Recorded: 403 Forbidden "Target environment attestation statement cannot be verified." with inner
    AccessDenied (Go SDK sdk/keyvault/azkeys/testdata/recordings/TestReleaseKey/TestReleaseKey_NON-HSM.json,
    2021-12-20, api 7.3-preview, target "target")."""
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    document = {"version": "1.0.0", "anyOf": [{"authority": keyvault.attestation.issuer, "allOf": []}]}
    policy = KeyReleasePolicy(json.dumps(document).encode())
    client.create_rsa_key("k", hardware_protected=True, exportable=True, release_policy=policy)
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", "target")
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert refused.value.error.message == "Target environment attestation statement cannot be verified."
    assert refused.value.error.innererror == {"code": "AccessDenied"}


def test_a_request_without_a_token(wire):
    """Recorded: 401 Unauthorized "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token." with the
    challenge (Azure/azure-sdk-assets js keys recording_fails_to_restore_a_key_with_a_malformed_backup.json,
    2026-05-13, api 2025-07-01; "Bearer or PoP token." before 2024)."""
    refused = wire.post("/keys/restore", token=False)
    assert_error(refused, 401, "Unauthorized", "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.")
    assert refused.headers["WWW-Authenticate"].endswith('resource="https://vault.azure.net"')


def test_a_subject_that_is_no_distinguished_name(wire):
    """Recorded: 400 BadParameter "Property policy.x509_props has invalid value. Invalid X.500 distinguished
    name\\r\\n" for the subject "Self" (Azure/azure-sdk-assets net/sdk/keyvault/Azure.Security.KeyVault.Certificates/
    tests/SessionRecords/CertificateClientLiveTests/StartCreateCertificateError.json, 2024-08-02, api
    7.6-preview.1)."""
    policy = dict(SELF_POLICY, x509_props={"subject": "Self"})
    refused = wire.post("/certificates/c/create", body={"policy": policy})
    text = "Property policy.x509_props has invalid value. Invalid X.500 distinguished name\r\n"
    assert_error(refused, 400, "BadParameter", text)


def test_merge_without_an_operation_is_pending_certificate_not_found(wire):
    """Recorded: POST .../pending/merge with {"x5c": ["dGVzdA=="]} for a certificate that has no operation answers
    404 PendingCertificateNotFound "Pending Certificate not found: {name}" (Azure/azure-sdk-assets java/.../
    CertificateClientTest.mergeCertificateNotFound[1].json, 2026-06-02, api 2026-03-01-preview)."""
    refused = wire.post("/certificates/testcert/pending/merge", body={"x5c": ["dGVzdA=="]})
    assert_error(refused, 404, "PendingCertificateNotFound", "Pending Certificate not found: testcert")
