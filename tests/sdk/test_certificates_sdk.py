"""Certificates through the real, unmodified sync CertificateClient (and the Key/Secret/Cryptography clients for the
key and secret behind each certificate). Every issued certificate is checked with ``cryptography``."""

from __future__ import annotations

import base64
import datetime

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    AdministratorContact,
    CertificateClient,
    CertificateContact,
    CertificateContentType,
    CertificateOperation,
    CertificatePolicy,
    CertificatePolicyAction,
    KeyCurveName,
    KeyType,
    KeyUsageType,
    KeyVaultCertificate,
    LifetimeAction,
    WellKnownIssuerNames,
)
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import ContentType
from certs_support import (
    der,
    ec_key,
    ec_policy,
    leaf_and_ca,
    make_ca,
    name,
    open_secret,
    pem_of,
    pfx,
    pkcs8,
    public_der,
    sign,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store

UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
DAY = datetime.timedelta(days=1)


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture
def client(keyvault):
    return CertificateClient(keyvault.vault_url, keyvault.credential)


def create(client, cert_name: str, policy: CertificatePolicy, **kw) -> KeyVaultCertificate:
    result = client.begin_create_certificate(cert_name, policy, **kw).result()
    assert isinstance(result, KeyVaultCertificate), result
    return result


# -- creating ---------------------------------------------------------------------------------------------------


def test_default_policy_creates_a_self_signed_rsa_certificate_without_sleeping(client, keyvault, no_real_sleep):
    cert = create(client, "web", CertificatePolicy.get_default())
    x = x509.load_der_x509_certificate(bytes(cert.cer))
    assert x.subject.rfc4514_string() == "CN=DefaultPolicy" and x.issuer == x.subject
    assert isinstance(x.public_key(), rsa.RSAPublicKey) and x.public_key().key_size == 2048
    x.verify_directly_issued_by(x)
    assert cert.properties.x509_thumbprint == x.fingerprint(hashes.SHA1())
    assert cert.id == f"{keyvault.vault_url}/certificates/web/{cert.properties.version}"
    assert cert.key_id == f"{keyvault.vault_url}/keys/web/{cert.properties.version}"
    assert cert.secret_id == f"{keyvault.vault_url}/secrets/web/{cert.properties.version}"
    # As on the service: the first poll (right after the 202) finds it in progress; the poller's 5 s sleep
    # ends the issuance in-process instead of waiting (certificate_issuance_time), and the next poll finds it done.
    assert keyvault.requests.operations()[-4:] == [
        "CreateCertificate",
        "GetCertificateOperation",
        "GetCertificateOperation",
        "GetCertificate",
    ]
    # The service's defaults, as real answers show them.
    policy = cert.policy
    assert (policy.key_type, policy.key_size, policy.exportable, policy.reuse_key) == ("RSA", 2048, True, False)
    assert policy.content_type == CertificateContentType.pkcs12 and policy.validity_in_months == 12
    assert policy.enhanced_key_usage == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]
    assert policy.key_usage == [KeyUsageType.digital_signature, KeyUsageType.key_encipherment]
    [action] = policy.lifetime_actions
    assert (action.action, action.lifetime_percentage) == (CertificatePolicyAction.auto_renew, 80)


def test_issued_certificate_follows_the_policy(client, keyvault):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 31, 12, tzinfo=datetime.timezone.utc))
    policy = ec_policy(
        subject="CN=api.contoso.com, O=Contoso, C=US",
        san_dns_names=["api.contoso.com", "www.contoso.com"],
        san_emails=["ops@contoso.com"],
        san_user_principal_names=["svc@contoso.com"],
        key_curve_name=KeyCurveName.p_384,
        enhanced_key_usage=[ExtendedKeyUsageOID.CODE_SIGNING.dotted_string],
        key_usage=[KeyUsageType.digital_signature, KeyUsageType.non_repudiation],
        validity_in_months=1,
    )
    cert = create(client, "api", policy, tags={"team": "web"})
    x = x509.load_der_x509_certificate(bytes(cert.cer))
    assert x.subject.rfc4514_string() == "CN=api.contoso.com,O=Contoso,C=US"
    assert isinstance(x.public_key(), ec.EllipticCurvePublicKey) and x.public_key().curve.name == "secp384r1"
    sans = x.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["api.contoso.com", "www.contoso.com"]
    assert sans.get_values_for_type(x509.RFC822Name) == ["ops@contoso.com"]
    [upn] = [o for o in sans.get_values_for_type(x509.OtherName) if o.type_id == UPN_OID]
    assert upn.value == b"\x0c\x0fsvc@contoso.com"  # a DER UTF8String
    assert list(x.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CODE_SIGNING]
    usage = x.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_encipherment
    assert x.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    # Valid from ten minutes before creation for one calendar month (31 January + 1 month = 29 February).
    assert x.not_valid_before_utc == keyvault.clock.now() - datetime.timedelta(minutes=10)
    assert x.not_valid_after_utc == datetime.datetime(2030, 2, 28, 12, tzinfo=datetime.timezone.utc)
    assert (cert.properties.not_before, cert.properties.expires_on) == (x.not_valid_before_utc, x.not_valid_after_utc)
    assert cert.properties.tags == {"team": "web"} and cert.properties.enabled


def test_secret_holds_the_pfx_whose_private_key_matches(client, secrets, keyvault):
    cert = create(client, "c", ec_policy())
    secret = secrets.get_secret("c")
    assert secret.properties.managed is True
    assert secret.properties.content_type == CertificateContentType.pkcs12
    assert secret.properties.key_id == cert.key_id
    assert secret.properties.version == cert.properties.version
    key, chain = open_secret(secret.value, secret.properties.content_type)
    assert der(chain[0]) == bytes(cert.cer)
    assert public_der(key) == public_der(chain[0])
    signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    chain[0].public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


def test_pem_content_type_and_conversion_on_get(client, secrets):
    create(client, "pem", ec_policy(content_type=CertificateContentType.pem))
    secret = secrets.get_secret("pem")
    assert secret.properties.content_type == CertificateContentType.pem
    assert secret.value.startswith("-----BEGIN PRIVATE KEY-----")
    key, [leaf] = open_secret(secret.value, CertificateContentType.pem)
    assert public_der(key) == public_der(leaf)
    # outContentType: a PFX-backed secret read as PEM.
    create(client, "pfx", ec_policy())
    converted = secrets.get_secret("pfx", out_content_type=ContentType.PEM)
    assert converted.properties.content_type == CertificateContentType.pem
    key, [leaf] = open_secret(converted.value, CertificateContentType.pem)
    assert der(leaf) == bytes(client.get_certificate("pfx").cer) and public_der(key) == public_der(leaf)


def test_non_exportable_key_stays_out_of_the_secret(client, secrets):
    create(client, "locked", ec_policy(exportable=False))
    key, [leaf] = open_secret(secrets.get_secret("locked").value, CertificateContentType.pkcs12)
    assert key is None and der(leaf) == bytes(client.get_certificate("locked").cer)
    assert client.get_certificate_policy("locked").exportable is False


def test_managed_key_signs_and_the_certificate_verifies(client, keys, keyvault):
    cert = create(client, "signer", ec_policy())
    key = keys.get_key("signer")
    assert key.properties.managed is True and key.id == cert.key_id
    assert key.key_operations == ["sign", "verify"]
    crypto = CryptographyClient(key, keyvault.credential)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"payload")
    signed = crypto.sign(SignatureAlgorithm.es256, digest.finalize())
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    r, s = int.from_bytes(signed.signature[:32], "big"), int.from_bytes(signed.signature[32:], "big")
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    leaf.public_key().verify(encode_dss_signature(r, s), b"payload", ec.ECDSA(hashes.SHA256()))


def test_rsa_key_operations_follow_key_usage(client, keys, keyvault):
    cert = create(client, "rsa", CertificatePolicy.get_default())
    key = keys.get_key("rsa")
    assert key.key_operations == ["sign", "verify", "wrapKey", "unwrapKey"]
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"payload")
    signed = CryptographyClient(key.id, keyvault.credential).sign(SignatureAlgorithm.rs256, digest.finalize())
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    leaf.public_key().verify(signed.signature, b"payload", padding.PKCS1v15(), hashes.SHA256())


def test_named_issuer_signs_with_the_emulator_ca_and_the_chain_verifies(client, secrets, keyvault):
    client.create_issuer("my-ca", "Test")
    policy = ec_policy("my-ca", subject="CN=shop.example", san_dns_names=["shop.example"])
    cert = create(client, "shop", policy)
    leaf = x509.load_der_x509_certificate(bytes(cert.cer))
    root = keyvault.vault().certificates.ca_certificate
    key, chain = open_secret(secrets.get_secret("shop").value, CertificateContentType.pkcs12)
    assert der(chain[0]) == der(leaf) and public_der(key) == public_der(leaf)
    issuing = chain[1]
    leaf.verify_directly_issued_by(issuing)  # the leaf's signature checks with the issuing CA's key
    issuing.verify_directly_issued_by(root)
    verifier = (
        PolicyBuilder().store(Store([root])).time(keyvault.clock.now()).build_server_verifier(DNSName("shop.example"))
    )
    assert verifier.verify(leaf, chain[1:])[-1] == root


def test_unknown_issuer_waits_for_a_merge_of_a_certificate_signed_for_its_csr(client, secrets, no_real_sleep):
    operation = client.begin_create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown)).result()
    assert isinstance(operation, CertificateOperation)
    assert operation.status == "inProgress" and operation.issuer_name == "Unknown"
    assert operation.status_details == "Pending certificate created. Please Perform Merge to complete the request."
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=app.example"
    pending = client.get_certificate("ext")
    assert pending.cer is None and pending.properties.enabled is False
    assert [c.name for c in client.list_properties_of_certificates()] == []
    assert [c.name for c in client.list_properties_of_certificates(include_pending=True)] == ["ext"]

    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    merged = client.merge_certificate("ext", [der(leaf), der(ca[1])])
    assert bytes(merged.cer) == der(leaf) and merged.properties.enabled is True
    assert merged.properties.version == pending.properties.version
    assert client.get_certificate_operation("ext").status == "completed"
    key, chain = open_secret(secrets.get_secret("ext").value, CertificateContentType.pkcs12)
    assert public_der(key) == public_der(leaf) and [der(c) for c in chain] == [der(leaf), der(ca[1])]
    chain[0].verify_directly_issued_by(ca[1])


def test_merge_refuses_a_certificate_not_made_for_the_csr(client):
    client.begin_create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown)).result()
    _key, stranger, _ = leaf_and_ca()
    with pytest.raises(HttpResponseError) as refused:
        client.merge_certificate("ext", [der(stranger)])
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"
    assert refused.value.error.message == "Unable to parse X5c certificate chain and locate leaf certificate"
    assert client.get_certificate_operation("ext").status == "inProgress"


def test_cancel_then_delete_the_operation(client):
    client.begin_create_certificate("c", ec_policy(WellKnownIssuerNames.unknown)).result()
    cancelled = client.cancel_certificate_operation("c")
    assert cancelled.cancellation_requested is True and cancelled.status == "inProgress"  # as the service answers
    assert client.get_certificate_operation("c").status == "cancelled"
    deleted = client.delete_certificate_operation("c")
    assert deleted.status == "cancelled" and deleted.cancellation_requested
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_certificate_operation("c")
    assert missing.value.error.code == "PendingCertificateNotFound"
    assert missing.value.error.message == "Pending Certificate not found: c"
    assert client.get_certificate("c").properties.enabled is False  # the pending version stays
    create(client, "c", ec_policy())  # and a new version can be made


def test_operations_can_stay_pending_for_some_polls(client, keyvault):
    keyvault.vault().certificates.pending_polls = 2
    poller = client.begin_create_certificate("slow", ec_policy(), _polling_interval=0)
    assert isinstance(poller.result(), KeyVaultCertificate)
    polls = [op for op in keyvault.requests.operations() if op == "GetCertificateOperation"]
    assert len(polls) == 3  # two answered inProgress, the third completed


def test_merge_is_forbidden_while_an_issuer_works_on_it(client, keyvault):
    keyvault.vault().certificates.pending_polls = 5
    keyvault.vault().certificates.create("busy", {"x509_props": {"subject": "CN=b"}, "issuer": {"name": "Self"}})
    _key, leaf, _ca = leaf_and_ca()
    with pytest.raises(HttpResponseError) as refused:
        client.merge_certificate("busy", [der(leaf)])
    assert refused.value.status_code == 403
    assert refused.value.error.message == (
        "Merge is forbidden on pending object created with issuer : Self while it is in progess."
    )
    with pytest.raises(ResourceExistsError) as conflict:
        client.begin_create_certificate("busy", ec_policy())
    assert conflict.value.status_code == 409 and conflict.value.error.code == "Conflict"


# -- reading and changing ---------------------------------------------------------------------------------------


def test_versions_get_version_and_paging(client):
    versions = [create(client, "multi", ec_policy()).properties.version for _ in range(3)]
    listed = [p.version for p in client.list_properties_of_certificate_versions("multi", max_page_size=2)]
    assert listed == versions
    old = client.get_certificate_version("multi", versions[0])
    # The service shows no policy on a GET of one version (issue 19, recorded traffic).
    assert old.properties.version == versions[0] and old.policy is None
    assert client.get_certificate("multi").properties.version == versions[-1]
    for i in range(3):
        create(client, f"other-{i}", ec_policy())
    names = [p.name for p in client.list_properties_of_certificates(max_page_size=2)]
    assert names == ["multi", "other-0", "other-1", "other-2"]


def test_update_properties_disables_the_key_and_secret_too(client, secrets, keys, keyvault):
    cert = create(client, "c", ec_policy())
    updated = client.update_certificate_properties("c", enabled=False, tags={"env": "test"})
    assert updated.properties.enabled is False and updated.properties.tags == {"env": "test"}
    with pytest.raises(HttpResponseError) as disabled:
        secrets.get_secret("c")
    assert disabled.value.status_code == 403 and disabled.value.error.innererror == {"code": "SecretDisabled"}
    assert keys.get_key("c").properties.enabled is False
    client.update_certificate_properties("c", cert.properties.version, enabled=True)
    assert secrets.get_secret("c").properties.enabled is True


def test_get_and_update_policy(client):
    create(client, "c", ec_policy())
    policy = client.get_certificate_policy("c")
    assert (policy.issuer_name, policy.key_type, policy.key_curve_name) == ("Self", "EC", "P-256")
    assert policy.san_dns_names == ["app.example"]
    policy = CertificatePolicy(
        WellKnownIssuerNames.self,
        subject="CN=renewed.example",
        validity_in_months=24,
        key_type=KeyType.ec,
        key_curve_name=KeyCurveName.p_384,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=30)],
    )
    updated = client.update_certificate_policy("c", policy)
    assert (updated.subject, updated.validity_in_months, updated.key_curve_name) == ("CN=renewed.example", 24, "P-384")
    assert updated.lifetime_actions[0].days_before_expiry == 30
    renewed = client.begin_create_certificate("c", client.get_certificate_policy("c")).result()
    x = x509.load_der_x509_certificate(bytes(renewed.cer))
    assert x.subject.rfc4514_string() == "CN=renewed.example" and x.public_key().curve.name == "secp384r1"


def test_bad_policy_is_refused(client):
    with pytest.raises(HttpResponseError) as refused:
        client.begin_create_certificate("bad", CertificatePolicy("Self", subject="CN=x", key_type="RSA", key_size=1024))
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"
    with pytest.raises(HttpResponseError) as unknown_issuer:
        client.begin_create_certificate("bad", ec_policy("no-such-issuer"))
    assert unknown_issuer.value.status_code == 400


def test_not_found_messages(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_certificate("nope")
    assert missing.value.error.code == "CertificateNotFound"
    assert missing.value.error.message.startswith("A certificate with (name/id) nope was not found in this key vault.")
    create(client, "c", ec_policy())
    with pytest.raises(ResourceNotFoundError) as missing_version:
        client.get_certificate_version("c", "0" * 32)
    # A certificate version is named "<name>/versions/<version>" (recorded traffic, issue 19).
    assert f"(name/id) c/versions/{'0' * 32} was not found" in missing_version.value.error.message
    with pytest.raises(ResourceNotFoundError) as not_deleted:
        client.get_deleted_certificate("c")
    assert not_deleted.value.error.message == "Deleted Certificate not found: c"


# -- importing --------------------------------------------------------------------------------------------------


def test_import_pfx_with_password_and_read_it_back(client, secrets):
    utc = datetime.timezone.utc
    key, leaf, ca = leaf_and_ca(
        "imported.example",
        not_before=datetime.datetime(2030, 1, 1, tzinfo=utc),
        not_after=datetime.datetime(2031, 1, 1, tzinfo=utc),
    )
    cert = client.import_certificate("imp", pfx(key, leaf, [ca], password=b"s3cret"), password="s3cret")
    assert bytes(cert.cer) == der(leaf)
    policy = cert.policy
    assert policy.subject == "CN=imported.example" and policy.san_dns_names == ["leaf.example"]
    assert (policy.issuer_name, policy.key_type, policy.key_curve_name) == ("Unknown", "EC", "P-256")
    assert policy.validity_in_months == 12
    [action] = policy.lifetime_actions
    assert (action.action, action.lifetime_percentage) == (CertificatePolicyAction.email_contacts, 80)
    stored_key, chain = open_secret(secrets.get_secret("imp").value, CertificateContentType.pkcs12)
    assert public_der(stored_key) == public_der(key)  # the secret's PFX has no password any more
    assert [der(c) for c in chain] == [der(leaf), der(ca)]


def test_import_pfx_without_password(client):
    key, leaf, _ = leaf_and_ca()
    cert = client.import_certificate("plain", pfx(key, leaf), enabled=False, tags={"a": "b"})
    assert cert.properties.enabled is False and cert.properties.tags == {"a": "b"}


def test_import_pfx_with_a_wrong_password_is_refused(client):
    key, leaf, _ = leaf_and_ca()
    with pytest.raises(HttpResponseError) as refused:
        client.import_certificate("bad", pfx(key, leaf, password=b"right"), password="wrong")
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"
    with pytest.raises(ResourceNotFoundError):
        client.get_certificate("bad")


def test_import_pem_with_pkcs8_key_and_chain(client, secrets):
    key, leaf, ca = leaf_and_ca()
    content = pkcs8(key) + pem_of(ca) + pem_of(leaf)  # leaf not first
    policy = CertificatePolicy(content_type=CertificateContentType.pem)
    cert = client.import_certificate("pem", content, policy=policy)
    assert bytes(cert.cer) == der(leaf)
    stored_key, chain = open_secret(secrets.get_secret("pem").value, CertificateContentType.pem)
    assert [der(c) for c in chain] == [der(leaf), der(ca)]  # the leaf first by default
    assert public_der(stored_key) == public_der(key)
    kept = client.import_certificate("kept", content, policy=policy, preserve_order=True)
    assert kept.properties.preserve_order is True
    _, chain = open_secret(secrets.get_secret("kept").value, CertificateContentType.pem)
    assert [der(c) for c in chain] == [der(ca), der(leaf)]


def test_import_of_a_key_that_does_not_match_is_refused(client):
    _, leaf, _ = leaf_and_ca()
    content = pkcs8(ec_key()) + pem_of(leaf)
    with pytest.raises(HttpResponseError) as refused:
        client.import_certificate("mismatch", content, policy=CertificatePolicy(content_type="application/x-pem-file"))
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"


def test_seeding_and_inspecting_directly(client, keyvault):
    key, leaf, ca = leaf_and_ca()
    vault = keyvault.vault()
    vault.certificates.import_certificate("seeded", pfx(key, leaf, [ca]))
    assert bytes(client.get_certificate("seeded").cer) == der(leaf)
    vault.certificates.create("quick")  # self-signed CN=quick
    assert x509.load_der_x509_certificate(bytes(client.get_certificate("quick").cer)).subject == name("quick")
    assert vault.certificates.get("quick").payload.x509.subject == name("quick")
    assert "quick" in vault.certificates and vault.keys.get("quick").managed


# -- lifecycle --------------------------------------------------------------------------------------------------


def test_delete_recover_and_purge_carry_the_key_and_secret(client, secrets, keys, no_real_sleep):
    create(client, "c", ec_policy())
    deleted = client.begin_delete_certificate("c").result()
    assert deleted.recovery_id.endswith("/deletedcertificates/c")
    assert deleted.scheduled_purge_date - deleted.deleted_on == datetime.timedelta(days=90)
    assert secrets.get_deleted_secret("c").properties.managed is True
    assert keys.get_deleted_key("c").properties.managed is True
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret("c")
    assert [d.name for d in client.list_deleted_certificates()] == ["c"]
    recovered = client.begin_recover_deleted_certificate("c").result()
    assert recovered.name == "c"
    assert secrets.get_secret("c").properties.managed and keys.get_key("c").properties.managed
    client.begin_delete_certificate("c").wait()
    client.purge_deleted_certificate("c")
    for getter in (client.get_deleted_certificate, secrets.get_deleted_secret, keys.get_deleted_key):
        with pytest.raises(ResourceNotFoundError):
            getter("c")
    create(client, "c", ec_policy())


def test_a_soft_deleted_name_conflicts(client):
    create(client, "c", ec_policy())
    client.begin_delete_certificate("c").wait()
    with pytest.raises(ResourceExistsError) as conflict:
        client.begin_create_certificate("c", ec_policy())
    assert conflict.value.error.code == "Conflict"
    assert conflict.value.error.innererror == {"code": "ObjectIsDeletedButRecoverable"}
    assert conflict.value.error.message == (
        "Certificate c is currently in a deleted but recoverable state, and its name cannot be reused; in this "
        "state, the certificate can only be recovered or purged."
    )


def test_key_and_secret_cannot_be_changed_directly(client, secrets, keys):
    create(client, "c", ec_policy())
    with pytest.raises(HttpResponseError) as set_refused:
        secrets.set_secret("c", "overwrite")
    assert set_refused.value.status_code == 403
    assert set_refused.value.error.message == (
        'Operation "set" is not allowed as this object\'s lifetime is managed by Key Vault.'
    )
    assert set_refused.value.error.innererror == {"code": "SecretManagedByKeyVault"}
    for attempt in (
        lambda: secrets.update_secret_properties("c", enabled=False),
        lambda: secrets.begin_delete_secret("c"),
        lambda: secrets.backup_secret("c"),
        lambda: keys.update_key_properties("c", enabled=False),
        lambda: keys.begin_delete_key("c"),
        lambda: keys.create_ec_key("c"),
    ):
        with pytest.raises(HttpResponseError) as refused:
            attempt()
        assert refused.value.status_code == 403 and "ManagedByKeyVault" in refused.value.error.innererror["code"]


def test_backup_and_restore_bring_back_versions_key_and_secret(client, secrets, keys):
    versions = [create(client, "c", ec_policy()).properties.version for _ in range(2)]
    secret_value = secrets.get_secret("c").value
    blob = client.backup_certificate("c")
    assert isinstance(blob, bytes) and b"PRIVATE" not in blob
    client.begin_delete_certificate("c").wait()
    client.purge_deleted_certificate("c")
    restored = client.restore_certificate_backup(blob)
    assert restored.name == "c" and restored.properties.version == versions[-1]
    assert [p.version for p in client.list_properties_of_certificate_versions("c")] == versions
    assert secrets.get_secret("c").value == secret_value and keys.get_key("c").properties.managed
    with pytest.raises(ResourceExistsError):
        client.restore_certificate_backup(blob)


# -- contacts and issuers ---------------------------------------------------------------------------------------


def test_contacts(client):
    contacts = [CertificateContact(email="a@contoso.com", name="A", phone="1"), CertificateContact(email="b@x.io")]
    assert [c.email for c in client.set_contacts(contacts)] == ["a@contoso.com", "b@x.io"]
    got = client.get_contacts()
    assert [(c.email, c.name, c.phone) for c in got] == [("a@contoso.com", "A", "1"), ("b@x.io", None, None)]
    assert len(client.delete_contacts()) == 2
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_contacts()
    assert missing.value.error.code == "ContactsNotFound"


def test_issuers(client):
    admin = AdministratorContact(first_name="Jo", last_name="Doe", email="jo@contoso.com", phone="555")
    created = client.create_issuer(
        "digi", "DigiCert", account_id="acct", password="hunter2", organization_id="org-1", admin_contacts=[admin]
    )
    assert (created.name, created.provider, created.account_id, created.password) == ("digi", "DigiCert", "acct", None)
    assert created.organization_id == "org-1" and created.admin_contacts[0].email == "jo@contoso.com"
    assert created.enabled is True and created.created_on is not None
    updated = client.update_issuer("digi", account_id="acct2", enabled=False)
    assert (updated.account_id, updated.enabled, updated.organization_id) == ("acct2", False, "org-1")
    assert client.get_issuer("digi").account_id == "acct2"
    client.create_issuer("globalsign", "GlobalSign")
    assert [(i.name, i.provider) for i in client.list_properties_of_issuers()] == [
        ("digi", "DigiCert"),
        ("globalsign", "GlobalSign"),
    ]
    assert client.delete_issuer("digi").provider == "DigiCert"
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_issuer("digi")
    assert (missing.value.error.code, missing.value.error.message) == ("CertificateIssuerNotFound", "Issuer not found")


# -- lifetime actions -------------------------------------------------------------------------------------------


def test_auto_renew_makes_a_new_version_as_the_clock_advances(client, secrets, keys, keyvault):
    keyvault.clock.freeze()
    policy = ec_policy(
        validity_in_months=12,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.auto_renew, lifetime_percentage=50)],
    )
    first = create(client, "renewing", policy)
    keyvault.clock.advance(days=100)
    assert client.get_certificate("renewing").properties.version == first.properties.version
    keyvault.clock.advance(days=100)  # past half of the year
    renewed = client.get_certificate("renewing")
    assert renewed.properties.version != first.properties.version
    half_life = first.properties.not_before + (first.properties.expires_on - first.properties.not_before) / 2
    assert abs(renewed.properties.created_on - half_life) <= datetime.timedelta(seconds=1)  # renewed when due
    assert len(list(client.list_properties_of_certificate_versions("renewing"))) == 2
    assert secrets.get_secret("renewing").properties.version == renewed.properties.version
    assert keys.get_key("renewing").properties.version == renewed.properties.version
    assert secrets.get_secret("renewing").properties.previous_version == first.properties.version
    new_key = keys.get_key("renewing").key
    assert new_key.x != keys.get_key("renewing", first.properties.version).key.x  # reuse_key is off


def test_auto_renew_days_before_expiry_is_evaluated_lazily_on_any_access(client, secrets, keyvault):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    policy = ec_policy(
        validity_in_months=1,
        reuse_key=True,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.auto_renew, days_before_expiry=10)],
    )
    first = create(client, "short", policy)
    # Valid to 1 February, renewed 22 January (10 days before); that one to 22 February, renewed 12 February.
    keyvault.clock.advance(days=45)
    assert len(list(secrets.list_properties_of_secret_versions("short"))) == 3
    versions = list(client.list_properties_of_certificate_versions("short"))
    assert len(versions) == 3 and versions[0].version == first.properties.version
    leaves = [
        x509.load_der_x509_certificate(bytes(client.get_certificate_version("short", v.version).cer)) for v in versions
    ]
    assert public_der(leaves[0]) == public_der(leaves[2])  # reuse_key keeps the key pair


def test_email_contacts_are_recorded(client, keyvault):
    keyvault.clock.freeze()
    client.set_contacts([CertificateContact(email="ops@contoso.com")])
    policy = ec_policy(lifetime_actions=[LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=30)])
    cert = create(client, "mail", policy)
    store = keyvault.vault().certificates
    keyvault.clock.advance(days=300)
    client.get_certificate("mail")
    assert store.notifications == []
    keyvault.clock.advance(days=60)
    client.get_certificate("mail")
    client.get_certificate("mail")
    [sent] = store.notifications
    assert (sent["name"], sent["version"], sent["emails"]) == ("mail", cert.properties.version, ["ops@contoso.com"])


def test_an_rsa_certificate_exported_from_one_name_imports_into_another(client, secrets):
    original = create(client, "rsa-source", CertificatePolicy.get_default())
    exported = base64.b64decode(secrets.get_secret("rsa-source").value)
    copy = client.import_certificate("rsa-copy", exported)
    assert bytes(copy.cer) == bytes(original.cer)
    assert (copy.policy.key_type, copy.policy.key_size, copy.policy.subject) == ("RSA", 2048, "CN=DefaultPolicy")
    assert copy.policy.key_usage == [KeyUsageType.digital_signature, KeyUsageType.key_encipherment]
    key, _ = open_secret(secrets.get_secret("rsa-copy").value, CertificateContentType.pkcs12)
    assert isinstance(key, rsa.RSAPrivateKey) and public_der(key) == public_der(copy_x509(copy))


def copy_x509(cert: KeyVaultCertificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(cert.cer))
