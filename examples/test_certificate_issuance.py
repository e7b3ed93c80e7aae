"""How certificates are issued: the long-running operation, ``Self``, ``Unknown`` and merge, and named issuers.

Run with ``python -m pytest examples/test_certificate_issuance.py``. Three kinds of issuer:

- ``Self``: the vault signs the certificate with its own new key, ``certificate_issuance_time`` (2 s of the
  emulator's clock) after the create, polled or not. The SDK poller's sleep costs no real time.
- ``Unknown``: the vault makes the key and a CSR, and waits. The test signs the CSR (here with ``cryptography``
  and a CA of its own) and merges the result.
- a named issuer (``create_issuer(name, provider)``): the emulator's test CA signs, whatever the provider. Trust
  ``keyvault.vault().certificates.ca_certificate`` and the chain verifies.
"""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.certificates import (
    CertificateClient,
    CertificateOperation,
    CertificatePolicy,
    KeyType,
    KeyVaultCertificate,
    WellKnownIssuerNames,
)
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import DNSName, PolicyBuilder, Store
from werkzeug.test import Client

UTC = timezone.utc


@pytest.fixture
def client(keyvault) -> CertificateClient:
    return CertificateClient(keyvault.vault_url, keyvault.credential)


def policy_for(issuer: str, host: str = "shop.example") -> CertificatePolicy:
    return CertificatePolicy(issuer, subject=f"CN={host}", san_dns_names=[host], key_type=KeyType.ec)


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA of the test's own, standing in for the external CA an ``Unknown`` issuer means."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Team CA")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def test_creation_is_a_long_running_operation(keyvault, client):
    poller = client.begin_create_certificate("web", policy_for(WellKnownIssuerNames.self))
    certificate = poller.result()
    assert isinstance(certificate, KeyVaultCertificate)
    # 202 with the pending operation; the poller's first GET finds it in progress, as on the service. Its 5 s
    # sleep ends the issuance at once (in-process, nothing waits), and the next GET finds it completed.
    assert keyvault.requests.operations() == [
        "CreateCertificate",
        "GetCertificateOperation",
        "GetCertificateOperation",
        "GetCertificate",
    ]
    assert keyvault.requests.filter("CreateCertificate")[0].status == 202
    operation = client.get_certificate_operation("web")
    assert operation.status == "completed" and operation.target == f"{keyvault.vault_url}/certificates/web"


def test_cancel_right_after_the_create(keyvault, client):
    poller = client.begin_create_certificate("web", policy_for(WellKnownIssuerNames.self))  # polls in a thread
    assert client.cancel_certificate_operation("web").cancellation_requested  # still in progress: allowed
    assert poller.result().status == "cancelled"


def test_a_slow_issuer(keyvault, client):
    keyvault.clock.freeze()
    keyvault.vault().certificates.create("web", issuance_time=60)  # as a CreateCertificate would, no poller
    keyvault.clock.advance(seconds=60)
    assert client.get_certificate("web").cer  # complete, though nobody polled


def test_the_202_on_the_wire(keyvault):
    wire = Client(keyvault.app)
    body = {"policy": {"issuer": {"name": "Self"}, "x509_props": {"subject": "CN=wire"}, "key_props": {"kty": "EC"}}}
    response = wire.post(
        "/certificates/wire/create?api-version=2026-04-01",
        base_url=keyvault.vault_url,
        headers={"Authorization": "Bearer anything"},
        json=body,
    )
    assert response.status_code == 202
    assert response.headers["Location"] == f"{keyvault.vault_url}/certificates/wire/pending?api-version=2026-04-01"
    assert response.headers["Retry-After"] == "10"
    operation = response.json
    assert (operation["status"], operation["issuer"]) == ("inProgress", {"name": "Self"})
    csr = x509.load_der_x509_csr(base64.b64decode(operation["csr"]))  # a real PKCS#10 request
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=wire"


@pytest.mark.keyvault(certificate_pending_polls=2, virtual_time=True)
def test_an_operation_that_stays_pending(keyvault, client):
    started = keyvault.clock.time()
    certificate = client.begin_create_certificate("slow", policy_for(WellKnownIssuerNames.self)).result()
    assert certificate.cer
    assert len(keyvault.requests.filter("GetCertificateOperation")) == 3  # inProgress, inProgress, completed
    assert keyvault.clock.time() - started >= 10  # the poller's two 5 s sleeps, on the emulator's clock


def wait_until_issued(client: CertificateClient, name: str, *, interval: float = 5.0, sleep=time.sleep):
    """Code under test: wait for a certificate that another process asked for."""
    operation = client.get_certificate_operation(name)
    while operation.status == "inProgress":
        sleep(interval)
        operation = client.get_certificate_operation(name)
    if operation.status != "completed":
        raise RuntimeError(f"certificate {name} was not issued: {operation.status}")
    return client.get_certificate(name)


@pytest.mark.keyvault(certificate_pending_polls=3)
def test_your_own_polling_code(keyvault, client):
    keyvault.vault().certificates.create("web")  # started without HTTP; three polls will answer inProgress
    slept: list[float] = []
    certificate = wait_until_issued(client, "web", sleep=slept.append)
    assert certificate.name == "web" and slept == [5.0, 5.0, 5.0]
    assert keyvault.requests.operations() == ["GetCertificateOperation"] * 4 + ["GetCertificate"]

    keyvault.vault().certificates.create("cancelled")
    with pytest.raises(RuntimeError, match="cancelled"):  # someone cancels while the code waits
        wait_until_issued(client, "cancelled", sleep=lambda _: client.cancel_certificate_operation("cancelled"))


def test_unknown_issuer_csr_then_merge(client):
    # An Unknown issuer: the poller returns the operation at once, with the CSR to sign.
    operation = client.begin_create_certificate("ext", policy_for(WellKnownIssuerNames.unknown)).result()
    assert isinstance(operation, CertificateOperation) and operation.status == "inProgress"
    assert operation.status_details == "Pending certificate created. Please Perform Merge to complete the request."
    pending = client.get_certificate("ext")
    assert pending.cer is None and pending.properties.enabled is False  # a pending version, disabled
    assert [c.name for c in client.list_properties_of_certificates(include_pending=True)] == ["ext"]

    # The test plays the external CA: sign the CSR with cryptography.
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    ca_key, ca = make_ca()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=90))
    )
    for extension in csr.extensions:  # the SANs, key usage and EKUs the policy asked for
        builder = builder.add_extension(extension.value, critical=extension.critical)
    leaf = builder.sign(ca_key, hashes.SHA256())

    der = serialization.Encoding.DER
    merged = client.merge_certificate("ext", [leaf.public_bytes(der), ca.public_bytes(der)])
    assert bytes(merged.cer) == leaf.public_bytes(der) and merged.properties.enabled is True
    assert merged.properties.version == pending.properties.version  # the pending version, completed
    assert merged.properties.expires_on == leaf.not_valid_after_utc  # the validity is the certificate's
    assert client.get_certificate_operation("ext").status == "completed"


def test_merge_refuses_a_certificate_not_made_for_the_csr(client):
    client.begin_create_certificate("ext", policy_for(WellKnownIssuerNames.unknown)).result()
    _, ca = make_ca()
    with pytest.raises(HttpResponseError) as refused:
        client.merge_certificate("ext", [ca.public_bytes(serialization.Encoding.DER)])
    assert refused.value.status_code == 400 and refused.value.error is not None
    assert refused.value.error.message == "Unable to parse X5c certificate chain and locate leaf certificate"


def test_a_named_issuer_signs_with_the_emulators_test_ca(keyvault, client):
    client.create_issuer("my-ca", "DigiCert")  # any provider: the emulator's test CA signs
    certificate = client.begin_create_certificate("shop", policy_for("my-ca")).result()
    leaf = x509.load_der_x509_certificate(bytes(certificate.cer))

    # The secret holds the leaf and the issuing CA; trust the test CA's root and the chain verifies.
    secret = SecretClient(keyvault.vault_url, keyvault.credential).get_secret("shop")
    key, cert, intermediates = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
    assert cert == leaf and key is not None and key.public_key() == leaf.public_key()
    root = keyvault.vault().certificates.ca_certificate
    verifier = PolicyBuilder().store(Store([root])).build_server_verifier(DNSName("shop.example"))
    assert verifier.verify(leaf, intermediates) == [leaf, *intermediates, root]

    authority = keyvault.vault().certificates.certificate_authority
    assert intermediates == [authority.issuing_certificate]
    assert authority.pem.startswith(b"-----BEGIN CERTIFICATE-----")  # the root, for a trust store


def test_a_disabled_issuer_fails_the_operation(client):
    client.create_issuer("paused-ca", "DigiCert", enabled=False)
    operation = client.begin_create_certificate("shop", policy_for("paused-ca")).result()

    # The poller stops at the failed operation, which carries the service's error object.
    assert operation.status == "failed"
    assert (operation.error.code, operation.error.message) == ("IssuerDisabled", "The issuer 'paused-ca' is disabled.")


def test_cancel_and_delete_an_operation(keyvault, client):
    client.begin_create_certificate("c", policy_for(WellKnownIssuerNames.unknown)).result()
    cancelled = client.cancel_certificate_operation("c")
    assert cancelled.status == "inProgress" and cancelled.cancellation_requested  # a request, as on the service
    assert client.get_certificate_operation("c").status == "cancelled"  # taken at the next read

    deleted = client.delete_certificate_operation("c")
    assert deleted.status == "cancelled"
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_certificate_operation("c")
    assert missing.value.error is not None and missing.value.error.code == "PendingCertificateNotFound"
    assert client.get_certificate("c").cer is None  # the pending version stays, disabled


def test_while_an_operation_is_in_progress(keyvault, client):
    client.begin_create_certificate("c", policy_for(WellKnownIssuerNames.unknown)).result()
    with pytest.raises(ResourceExistsError) as conflict:  # no new version until it is merged or cancelled
        client.begin_create_certificate("c", policy_for(WellKnownIssuerNames.self))
    assert conflict.value.status_code == 409 and conflict.value.error is not None
    assert conflict.value.error.code == "Conflict"  # recorded (js SDK, 2019)

    store = keyvault.vault().certificates
    store.pending_polls = 5  # this vault only, from now on
    store.create("busy")  # Self: an issuer works on it for the next five polls
    _, ca = make_ca()
    with pytest.raises(HttpResponseError) as forbidden:  # an issuer is working on it: no merge
        client.merge_certificate("busy", [ca.public_bytes(serialization.Encoding.DER)])
    assert forbidden.value.status_code == 403
