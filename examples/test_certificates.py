"""Certificates through the unmodified ``CertificateClient``, and the key and secret behind each one.

Run with ``python -m pytest examples/test_certificates.py``. Everything the vault hands out is checked with
``cryptography``. How certificates are issued (the long-running operation, ``Unknown`` issuers and merge, the
emulator's test CA) is in ``examples/test_certificate_issuance.py``.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateContact,
    CertificateContentType,
    CertificatePolicy,
    CertificatePolicyAction,
    KeyCurveName,
    KeyType,
    KeyUsageType,
    LifetimeAction,
    WellKnownIssuerNames,
)
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from azure.keyvault.secrets import ContentType, SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = timezone.utc


@pytest.fixture
def client(keyvault) -> CertificateClient:
    return CertificateClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def secrets(keyvault) -> SecretClient:
    return SecretClient(keyvault.vault_url, keyvault.credential)


def ec_policy(subject: str = "CN=app.example", **kwargs) -> CertificatePolicy:
    """A self-signed EC P-256 policy: EC keys are made in microseconds, RSA keys take longer."""
    return CertificatePolicy(WellKnownIssuerNames.self, subject=subject, key_type=KeyType.ec, **kwargs)


def self_signed(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A key and certificate made outside the vault, as a team's own tooling would make them."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def test_create_a_certificate(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    poller = client.begin_create_certificate("web", CertificatePolicy.get_default())  # Self, CN=DefaultPolicy
    certificate = poller.result()  # in progress at the first poll; the poller's sleep costs no real time
    leaf = x509.load_der_x509_certificate(bytes(certificate.cer))
    assert leaf.subject.rfc4514_string() == "CN=DefaultPolicy" and leaf.issuer == leaf.subject
    assert certificate.key_id == f"{keyvault.vault_url}/keys/web/{certificate.properties.version}"
    assert keyvault.requests.operations() == [
        "CreateCertificate",
        "GetCertificateOperation",
        "GetCertificateOperation",
        "GetCertificate",
    ]


def test_the_policy_shapes_the_certificate(keyvault, client):
    keyvault.clock.freeze(datetime(2030, 1, 15, tzinfo=UTC))
    policy = CertificatePolicy(
        WellKnownIssuerNames.self,
        subject="CN=api.contoso.com, O=Contoso, C=US",
        san_dns_names=["api.contoso.com", "www.contoso.com"],
        san_emails=["ops@contoso.com"],
        san_ip_addresses=["10.0.0.1"],
        key_type=KeyType.ec,
        key_curve_name=KeyCurveName.p_384,
        key_usage=[KeyUsageType.digital_signature],
        enhanced_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH.dotted_string],
        validity_in_months=3,
    )
    certificate = client.begin_create_certificate("api", policy, tags={"team": "web"}).result()

    leaf = x509.load_der_x509_certificate(bytes(certificate.cer))
    assert leaf.subject.rfc4514_string() == "CN=api.contoso.com,O=Contoso,C=US"
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey) and leaf.public_key().curve.name == "secp384r1"
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["api.contoso.com", "www.contoso.com"]
    assert sans.get_values_for_type(x509.RFC822Name) == ["ops@contoso.com"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.0.0.1"]
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_encipherment
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    # Valid from ten minutes before issuance, for three calendar months.
    assert leaf.not_valid_before_utc == datetime(2030, 1, 14, 23, 50, tzinfo=UTC)
    assert leaf.not_valid_after_utc == datetime(2030, 4, 15, tzinfo=UTC)
    assert certificate.properties.expires_on == leaf.not_valid_after_utc
    assert certificate.properties.tags == {"team": "web"}
    assert certificate.properties.x509_thumbprint == hashlib.sha1(bytes(certificate.cer)).digest()


def test_the_defaults_of_a_policy(client):
    # A policy gives an issuer and a subject (or SANs); the vault fills in the rest.
    client.begin_create_certificate("c", CertificatePolicy(WellKnownIssuerNames.self, subject="CN=c")).result()
    policy = client.get_certificate_policy("c")
    assert (policy.key_type, policy.key_size, policy.exportable, policy.reuse_key) == (KeyType.rsa, 2048, True, False)
    assert policy.content_type == CertificateContentType.pkcs12 and policy.validity_in_months == 12
    assert policy.key_usage == [KeyUsageType.digital_signature, KeyUsageType.key_encipherment]
    assert policy.enhanced_key_usage == ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]  # server and client auth
    [action] = policy.lifetime_actions
    assert (action.action, action.lifetime_percentage) == (CertificatePolicyAction.auto_renew, 80)


def test_versions_update_and_list(client):
    first = client.begin_create_certificate("c", ec_policy()).result()
    second = client.begin_create_certificate("c", ec_policy()).result()  # a new version from the same policy
    assert client.get_certificate("c").properties.version == second.properties.version
    old = client.get_certificate_version("c", first.properties.version)
    assert bytes(old.cer) == bytes(first.cer)
    versions = [p.version for p in client.list_properties_of_certificate_versions("c")]
    assert versions == [first.properties.version, second.properties.version]  # oldest first

    updated = client.update_certificate_properties("c", enabled=False, tags={"env": "test"})
    assert updated.properties.enabled is False and updated.properties.tags == {"env": "test"}
    assert [p.name for p in client.list_properties_of_certificates()] == ["c"]

    # The policy is the recipe for the next version.
    client.update_certificate_policy("c", ec_policy("CN=renewed.example", key_curve_name=KeyCurveName.p_521))
    renewed = client.begin_create_certificate("c", client.get_certificate_policy("c")).result()
    assert x509.load_der_x509_certificate(bytes(renewed.cer)).public_key().curve.name == "secp521r1"


def test_import_a_pfx_with_or_without_a_password(client):
    key, leaf = self_signed("imported.example")
    protected = pkcs12.serialize_key_and_certificates(
        b"imported", key, leaf, None, serialization.BestAvailableEncryption(b"s3cret")
    )
    certificate = client.import_certificate("imported", protected, password="s3cret")
    assert bytes(certificate.cer) == leaf.public_bytes(serialization.Encoding.DER)
    # The policy is read from the certificate; the issuer of an imported certificate is Unknown.
    assert certificate.policy.subject == "CN=imported.example" and certificate.policy.issuer_name == "Unknown"
    assert (certificate.policy.key_type, certificate.policy.key_curve_name) == (KeyType.ec, KeyCurveName.p_256)

    plain = pkcs12.serialize_key_and_certificates(b"plain", key, leaf, None, serialization.NoEncryption())
    assert client.import_certificate("plain", plain, enabled=False).properties.enabled is False

    with pytest.raises(HttpResponseError) as refused:
        client.import_certificate("wrong", protected, password="guess")
    assert refused.value.status_code == 400 and refused.value.error.code == "BadParameter"


def test_import_pem_with_its_chain(client, secrets):
    ca_key, ca = self_signed("Team CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "svc.example")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .sign(ca_key, hashes.SHA256())
    )
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    content = pkcs8 + ca.public_bytes(serialization.Encoding.PEM) + leaf.public_bytes(serialization.Encoding.PEM)
    pem_policy = CertificatePolicy(content_type=CertificateContentType.pem)  # PEM imports need it

    client.import_certificate("svc", content, policy=pem_policy)
    stored = x509.load_pem_x509_certificates(secrets.get_secret("svc").value.encode())
    assert stored == [leaf, ca]  # the leaf first

    client.import_certificate("as-given", content, policy=pem_policy, preserve_order=True)
    assert x509.load_pem_x509_certificates(secrets.get_secret("as-given").value.encode()) == [ca, leaf]


def test_the_managed_key_signs(keyvault, client):
    certificate = client.begin_create_certificate("signer", ec_policy()).result()
    key = KeyClient(keyvault.vault_url, keyvault.credential).get_key("signer")
    assert key.id == certificate.key_id and key.properties.managed is True
    assert key.key_operations == ["sign", "verify"]  # from the policy's key usage (digitalSignature)

    crypto = CryptographyClient(key, keyvault.credential)
    signed = crypto.sign(SignatureAlgorithm.es256, hashlib.sha256(b"release notes").digest())

    # Anyone holding the certificate can check the signature (JWS r || s, made DER for cryptography).
    leaf = x509.load_der_x509_certificate(bytes(certificate.cer))
    r, s = int.from_bytes(signed.signature[:32], "big"), int.from_bytes(signed.signature[32:], "big")
    leaf.public_key().verify(encode_dss_signature(r, s), b"release notes", ec.ECDSA(hashes.SHA256()))


def test_an_rsa_certificate_key(keyvault, client):
    certificate = client.begin_create_certificate("rsa", CertificatePolicy.get_default()).result()
    crypto = CryptographyClient(certificate.key_id, keyvault.credential)
    signed = crypto.sign(SignatureAlgorithm.rs256, hashlib.sha256(b"payload").digest())
    leaf = x509.load_der_x509_certificate(bytes(certificate.cer))
    leaf.public_key().verify(signed.signature, b"payload", padding.PKCS1v15(), hashes.SHA256())


def test_the_secret_holds_the_pfx(client, secrets):
    certificate = client.begin_create_certificate("tls", ec_policy()).result()
    secret = secrets.get_secret("tls")
    assert secret.properties.managed is True and secret.properties.key_id == certificate.key_id
    assert secret.properties.content_type == CertificateContentType.pkcs12

    key, leaf, chain = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)  # no password
    assert leaf is not None and leaf.public_bytes(serialization.Encoding.DER) == bytes(certificate.cer)
    assert key is not None and key.public_key() == leaf.public_key()
    assert chain == []  # self-signed: no issuer certificates

    # outContentType: the same secret as PEM (PFX to PEM is the only conversion).
    pem = secrets.get_secret("tls", out_content_type=ContentType.PEM)
    assert pem.properties.content_type == CertificateContentType.pem
    assert serialization.load_pem_private_key(pem.value.encode(), None).public_key() == leaf.public_key()
    assert x509.load_pem_x509_certificates(pem.value.encode()) == [leaf]


def test_a_pem_certificate_and_a_key_that_stays_in_the_vault(client, secrets):
    client.begin_create_certificate("pem", ec_policy(content_type=CertificateContentType.pem)).result()
    value = secrets.get_secret("pem").value  # the PKCS#8 key, then the certificates
    assert value.startswith("-----BEGIN PRIVATE KEY-----")

    locked = client.begin_create_certificate("locked", ec_policy(exportable=False)).result()
    key, cert, others = pkcs12.load_key_and_certificates(base64.b64decode(secrets.get_secret("locked").value), None)
    assert key is None  # a non-exportable key is not in the secret, only the certificate
    assert [c for c in (cert, *others) if c is not None] == [x509.load_der_x509_certificate(bytes(locked.cer))]


def test_the_key_and_secret_cannot_be_changed_directly(keyvault, client, secrets):
    client.begin_create_certificate("c", ec_policy()).result()
    with pytest.raises(HttpResponseError) as refused:
        secrets.set_secret("c", "overwrite")
    error = refused.value.error
    assert refused.value.status_code == 403
    assert error is not None and error.code == "Forbidden" and error.innererror == {"code": "SecretManagedByKeyVault"}
    assert error.message == 'Operation "set" is not allowed as this object\'s lifetime is managed by Key Vault.'

    with pytest.raises(HttpResponseError) as key_refused:
        KeyClient(keyvault.vault_url, keyvault.credential).begin_delete_key("c")
    assert key_refused.value.error is not None
    assert key_refused.value.error.innererror == {"code": "KeyManagedByKeyVault"}

    # Disabling the certificate disables its key and secret.
    client.update_certificate_properties("c", enabled=False)
    with pytest.raises(HttpResponseError) as disabled:
        secrets.get_secret("c")
    assert disabled.value.status_code == 403


def test_delete_recover_purge(keyvault, client, secrets):
    client.begin_create_certificate("c", ec_policy()).result()
    deleted = client.begin_delete_certificate("c").result()  # the key and secret are deleted with it
    assert deleted.recovery_id == f"{keyvault.vault_url}/deletedcertificates/c"
    assert secrets.get_deleted_secret("c").properties.managed is True
    with pytest.raises(ResourceExistsError):  # the name stays taken while it is recoverable
        client.begin_create_certificate("c", ec_policy())

    client.begin_recover_deleted_certificate("c").result()  # and recovered with it
    assert secrets.get_secret("c").properties.managed is True

    client.begin_delete_certificate("c").wait()
    client.purge_deleted_certificate("c")  # purged with it
    with pytest.raises(ResourceNotFoundError):
        secrets.get_deleted_secret("c")


def test_backup_and_restore(client, secrets):
    original = client.begin_create_certificate("c", ec_policy()).result()
    value = secrets.get_secret("c").value
    blob = client.backup_certificate("c")  # every version, the policy, the key and the secret
    client.begin_delete_certificate("c").wait()
    client.purge_deleted_certificate("c")

    restored = client.restore_certificate_backup(blob)
    assert restored.id == original.id and bytes(restored.cer) == bytes(original.cer)
    assert secrets.get_secret("c").value == value


def test_contacts_and_issuers(client):
    client.set_contacts([CertificateContact(email="ops@contoso.com", name="Ops")])
    assert [c.email for c in client.get_contacts()] == ["ops@contoso.com"]
    client.delete_contacts()
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_contacts()
    assert missing.value.error is not None and missing.value.error.code == "ContactsNotFound"

    issuer = client.create_issuer("digicert", "DigiCert", account_id="contoso", password="not shown")
    assert (issuer.provider, issuer.account_id, issuer.password) == ("DigiCert", "contoso", None)
    assert client.update_issuer("digicert", enabled=False).enabled is False
    assert [i.name for i in client.list_properties_of_issuers()] == ["digicert"]
    client.delete_issuer("digicert")
    with pytest.raises(ResourceNotFoundError) as gone:
        client.get_issuer("digicert")
    assert gone.value.error is not None and gone.value.error.code == "CertificateIssuerNotFound"


def test_auto_renew_follows_the_emulator_clock(keyvault, client, secrets):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    policy = ec_policy(
        validity_in_months=12,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.auto_renew, days_before_expiry=30)],
    )
    first = client.begin_create_certificate("c", policy).result()

    keyvault.clock.advance(days=330)
    assert client.get_certificate("c").properties.version == first.properties.version  # not yet

    keyvault.clock.advance(days=10)  # 30 days before expiry has passed: the vault renewed it
    renewed = client.get_certificate("c")
    assert renewed.properties.version != first.properties.version
    assert renewed.properties.created_on == first.properties.expires_on - timedelta(days=30)  # when it was due
    assert renewed.properties.expires_on == datetime(2031, 12, 2, tzinfo=UTC)
    assert secrets.get_secret("c").properties.version == renewed.properties.version  # a new key and secret too
    assert renewed.properties.not_before == start + timedelta(days=335, minutes=-10)


def test_email_contacts_are_recorded(keyvault, client):
    keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=UTC))
    client.set_contacts([CertificateContact(email="ops@contoso.com")])
    email = LifetimeAction(CertificatePolicyAction.email_contacts, lifetime_percentage=90)
    certificate = client.begin_create_certificate("c", ec_policy(lifetime_actions=[email])).result()

    keyvault.clock.advance(days=300)
    client.get_certificate("c")  # lifetime actions run when the vault is next used
    assert keyvault.vault().certificates.notifications == []
    keyvault.clock.advance(days=30)  # 90% of the year has passed
    client.get_certificate("c")
    [sent] = keyvault.vault().certificates.notifications  # where the real service would send an e-mail
    assert (sent["name"], sent["version"], sent["emails"]) == ("c", certificate.properties.version, ["ops@contoso.com"])


def test_seed_and_inspect_without_http(keyvault, client):
    store = keyvault.vault().certificates  # the direct-access API: no HTTP, no journal entries

    store.create("quick")  # self-signed, CN=quick, from the default policy
    assert client.get_certificate("quick").policy.subject == "CN=quick"

    store.create("api", {"x509_props": {"subject": "CN=api"}, "key_props": {"kty": "EC"}, "issuer": {"name": "Self"}})
    key, leaf = self_signed("known.example")
    pfx = pkcs12.serialize_key_and_certificates(b"k", key, leaf, None, serialization.NoEncryption())
    store.import_certificate("known", pfx, tags={"seeded": "yes"})  # password= for a protected one

    stored = store.get("known")  # .name, .version, .attributes, .tags, .payload
    assert stored.payload.x509 == leaf and stored.payload.chain == [leaf]
    assert stored.payload.cer == leaf.public_bytes(serialization.Encoding.DER)  # DER; .thumbprint is the x5t
    assert store.get_policy("known").issuer_name == "Unknown"
    assert keyvault.vault().keys.get("known").managed and keyvault.vault().secrets.get("known").managed
    assert sorted(store) == ["api", "known", "quick"]
    assert keyvault.requests.operations() == ["GetCertificate"]


def test_not_found_and_conflicts(keyvault, client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_certificate("nope")
    assert missing.value.error is not None and missing.value.error.code == "CertificateNotFound"

    # A certificate's key and secret share its name: a plain secret of that name keeps it from being used.
    SecretClient(keyvault.vault_url, keyvault.credential).set_secret("taken", "v")
    with pytest.raises(ResourceExistsError) as conflict:
        client.begin_create_certificate("taken", ec_policy())
    assert conflict.value.status_code == 409


@pytest.mark.asyncio
async def test_the_async_certificate_client(keyvault):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        certificate = await client.create_certificate("web", ec_policy())  # awaits its poller itself
        assert certificate.name == "web" and certificate.cer
        assert [p.name async for p in client.list_properties_of_certificates()] == ["web"]

        deleted = await client.delete_certificate("web")
        assert deleted.name == "web"
        recovered = await client.recover_deleted_certificate("web")
        assert recovered.properties.version == certificate.properties.version
