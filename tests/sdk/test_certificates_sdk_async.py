"""The async CertificateClient (aiohttp transport, unmodified): all 27 certificate operations, no real sleeping."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateContact,
    CertificateContentType,
    CertificateOperation,
    CertificatePolicy,
    CertificatePolicyAction,
    KeyVaultCertificate,
    LifetimeAction,
    WellKnownIssuerNames,
)
from certs_support import der, ec_policy, leaf_and_ca, make_ca, open_secret, pfx, public_der, sign
from cryptography import x509


@pytest.fixture
def client(async_certificates):
    """The async CertificateClient under test (tests/sdk/conftest.py)."""
    return async_certificates


async def test_create_get_versions_and_update(client, async_secrets, keyvault, no_real_sleep):
    cert = await client.create_certificate("web", ec_policy(), tags={"t": "1"})
    assert isinstance(cert, KeyVaultCertificate) and cert.properties.tags == {"t": "1"}
    # In progress at the first poll, as on the service; the poller's sleep ends the issuance without waiting.
    assert keyvault.requests.operations()[-4:] == [
        "CreateCertificate",
        "GetCertificateOperation",
        "GetCertificateOperation",
        "GetCertificate",
    ]
    second = await client.create_certificate("web", ec_policy())
    assert (await client.get_certificate("web")).properties.version == second.properties.version
    old = await client.get_certificate_version("web", cert.properties.version)
    assert bytes(old.cer) == bytes(cert.cer)
    versions = [p.version async for p in client.list_properties_of_certificate_versions("web", max_page_size=1)]
    assert versions == [cert.properties.version, second.properties.version]
    key, [leaf] = open_secret(
        (await async_secrets.get_secret("web", second.properties.version)).value, "application/x-pkcs12"
    )
    assert public_der(key) == public_der(leaf) == public_der(x509.load_der_x509_certificate(bytes(second.cer)))
    updated = await client.update_certificate_properties("web", enabled=False, tags={"t": "2"})
    assert updated.properties.enabled is False and updated.properties.tags == {"t": "2"}
    with pytest.raises(HttpResponseError) as disabled:
        await async_secrets.get_secret("web")
    assert disabled.value.status_code == 403


async def test_list_with_pending_and_the_operation_lifecycle(client, no_real_sleep):
    await client.create_certificate("done", ec_policy())
    operation = await client.create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown))
    assert isinstance(operation, CertificateOperation) and operation.status == "inProgress"
    assert [p.name async for p in client.list_properties_of_certificates()] == ["done"]
    assert [p.name async for p in client.list_properties_of_certificates(include_pending=True)] == ["done", "ext"]
    assert (await client.get_certificate_operation("ext")).csr == operation.csr
    cancelled = await client.cancel_certificate_operation("ext")
    assert cancelled.cancellation_requested is True
    assert (await client.get_certificate_operation("ext")).status == "cancelled"
    assert (await client.delete_certificate_operation("ext")).status == "cancelled"
    with pytest.raises(ResourceNotFoundError) as missing:
        await client.get_certificate_operation("ext")
    assert missing.value.error.code == "PendingCertificateNotFound"


async def test_merge(client, no_real_sleep):
    operation = await client.create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown))
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    merged = await client.merge_certificate("ext", [der(leaf), der(ca[1])], tags={"merged": "yes"})
    assert bytes(merged.cer) == der(leaf) and merged.properties.tags == {"merged": "yes"}
    with pytest.raises(HttpResponseError) as again:
        await client.merge_certificate("ext", [der(leaf)])
    assert again.value.status_code == 400


async def test_import_policy_and_errors(client):
    key, leaf, ca = leaf_and_ca()
    cert = await client.import_certificate("imp", pfx(key, leaf, [ca], password=b"pw"), password="pw")
    assert bytes(cert.cer) == der(leaf)
    policy = await client.get_certificate_policy("imp")
    assert policy.issuer_name == "Unknown" and policy.content_type == CertificateContentType.pkcs12
    changed = CertificatePolicy(
        WellKnownIssuerNames.self,
        subject="CN=renew.example",
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.auto_renew, lifetime_percentage=90)],
    )
    updated = await client.update_certificate_policy("imp", changed)
    assert updated.issuer_name == "Self" and updated.lifetime_actions[0].lifetime_percentage == 90
    with pytest.raises(HttpResponseError) as wrong:
        await client.import_certificate("bad", pfx(key, leaf, password=b"pw"), password="nope")
    assert wrong.value.status_code == 400


async def test_delete_recover_purge_backup_restore(client, keyvault, no_real_sleep):
    await client.create_certificate("c", ec_policy())
    blob = await client.backup_certificate("c")
    deleted = await client.delete_certificate("c")
    assert deleted.recovery_id.endswith("/deletedcertificates/c")
    assert (await client.get_deleted_certificate("c")).name == "c"
    assert [d.name async for d in client.list_deleted_certificates()] == ["c"]
    with pytest.raises(ResourceExistsError):
        await client.create_certificate("c", ec_policy())
    recovered = await client.recover_deleted_certificate("c")
    assert recovered.name == "c" and keyvault.vault().secrets.get("c").managed
    await client.delete_certificate("c")
    await client.purge_deleted_certificate("c")
    with pytest.raises(ResourceNotFoundError) as gone:
        await client.get_deleted_certificate("c")
    assert gone.value.error.message == "Deleted Certificate not found: c"
    restored = await client.restore_certificate_backup(blob)
    assert restored.name == "c" and "c" in keyvault.vault().keys


async def test_contacts_and_issuers(client, keyvault):
    await client.set_contacts([CertificateContact(email="a@contoso.com", name="A")])
    assert [c.email for c in await client.get_contacts()] == ["a@contoso.com"]
    assert [c.name for c in await client.delete_contacts()] == ["A"]
    with pytest.raises(ResourceNotFoundError):
        await client.get_contacts()
    created = await client.create_issuer("gs", "GlobalSign", account_id="me")
    assert created.provider == "GlobalSign" and created.account_id == "me"
    assert (await client.update_issuer("gs", account_id="you")).account_id == "you"
    assert (await client.get_issuer("gs")).account_id == "you"
    assert [i.name async for i in client.list_properties_of_issuers()] == ["gs"]
    cert = await client.create_certificate("signed", ec_policy("gs"))
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    leaf.verify_directly_issued_by(keyvault.vault().certificates.certificate_authority.issuing_certificate)
    assert (await client.delete_issuer("gs")).name == "gs"
    with pytest.raises(ResourceNotFoundError):
        await client.get_issuer("gs")
