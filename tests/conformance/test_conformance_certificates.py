"""Issue 12 for certificates: what client code written against the service expects, through the SDK (sync
and async) and raw HTTP."""

from __future__ import annotations

import base64

import pytest
from azure.keyvault.certificates import (
    CertificateClient,
    CertificatePolicy,
    KeyUsageType,
    PlatformManaged,
    WellKnownIssuerNames,
)
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from certs_support import assert_error, b64, create, der, ec_policy, make_ca, pem_of, policy, sign
from cryptography import x509

from kv_emulator.http.api_versions import PUBLISHED

# These tests read certificates right after the 202: issuance completes at once here. The timed issuance the
# service shows (complete within seconds, polled or not) is tested in test_fidelity_certificates.py.
pytestmark = [pytest.mark.keyvault(certificate_issuance_time=0), pytest.mark.usefixtures("never_a_500")]


def pem_body(cert: x509.Certificate) -> bytes:
    """The PEM body without its header lines: the base64 text of the DER, as a user copies it from a file."""
    return b"".join(line for line in pem_of(cert).splitlines() if not line.startswith(b"-----"))


# -- item 2: merge accepts DER, PEM and the base64 text of the DER ----------------------------------------------


@pytest.mark.parametrize("form", ["der", "pem", "pem-body", "pem-body-with-newlines"])
def test_merge_x5c_item_forms_over_the_wire(wire, form):
    csr = x509.load_der_x509_csr(base64.b64decode(create(wire, "ext", policy("Unknown"))["csr"]))
    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    item = {
        "der": der(leaf),
        "pem": pem_of(leaf),
        "pem-body": pem_body(leaf),
        "pem-body-with-newlines": b"".join(pem_of(leaf).splitlines(keepends=True)[1:-1]),
    }[form]
    merged = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(item), b64(pem_body(ca[1]))]})
    assert merged.status_code == 201, merged.get_json()
    assert base64.b64decode(merged.get_json()["cer"]) == der(leaf)


def test_merge_still_refuses_base64_text_that_is_no_certificate(wire):
    create(wire, "ext", policy("Unknown"))
    not_der = base64.b64encode(b"plainly not a certificate at all")
    response = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(not_der)]})
    assert_error(response, 400, "BadParameter", "Property x5c has invalid value X5C must has at least one valid item")


def test_sdk_merges_the_pem_body_bytes(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    operation = client.begin_create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown)).result()
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    merged = client.merge_certificate("ext", [pem_body(leaf), pem_body(ca[1])])
    assert bytes(merged.cer) == der(leaf)


async def test_async_sdk_merges_the_pem_body_bytes(keyvault):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        operation = await client.create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown))
        csr = x509.load_der_x509_csr(bytes(operation.csr))
        leaf = sign(csr.public_key(), csr.subject, make_ca())
        merged = await client.merge_certificate("ext", [pem_body(leaf)])
        assert bytes(merged.cer) == der(leaf)


@pytest.mark.parametrize("api_version", PUBLISHED)
def test_merge_of_a_pem_body_at_every_api_version(wire, api_version):
    made = wire.post("/certificates/ext/create", body={"policy": policy("Unknown")}, api_version=api_version)
    csr = x509.load_der_x509_csr(base64.b64decode(made.get_json()["csr"]))
    leaf = sign(csr.public_key(), csr.subject, make_ca())
    merged = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(pem_body(leaf))]}, api_version=api_version)
    assert merged.status_code == 201
    bundle = merged.get_json()
    assert base64.b64decode(bundle["cer"]) == der(leaf)
    assert bundle["attributes"]["enabled"] is True and bundle["x5t"]
    assert wire.get("/certificates/ext/pending", api_version=api_version).get_json()["status"] == "completed"
    current = wire.get("/certificates/ext", api_version=api_version).get_json()
    assert (current["id"], current["cer"]) == (bundle["id"], bundle["cer"])


# -- item 3: encipherOnly / decipherOnly without keyAgreement ---------------------------------------------------


def _key_usage(cert_der: bytes) -> x509.KeyUsage | None:
    try:
        return x509.load_der_x509_certificate(cert_der).extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


@pytest.mark.parametrize("only", ["encipherOnly", "decipherOnly"])
def test_only_bits_without_key_agreement_over_the_wire(wire, only):
    usages = ["digitalSignature", only]
    body = policy(x509_props={"subject": "CN=usage.example", "key_usage": usages})
    made = wire.post("/certificates/u/create", body={"policy": body})
    assert made.status_code == 202, made.get_json()
    assert wire.get("/certificates/u/policy").get_json()["x509_props"]["key_usage"] == usages
    usage = _key_usage(base64.b64decode(wire.get("/certificates/u").get_json()["cer"]))
    assert usage is not None and usage.digital_signature and not usage.key_agreement


def test_only_bits_alone_give_no_key_usage_extension(wire):
    body = policy(x509_props={"subject": "CN=usage.example", "key_usage": ["decipherOnly"]})
    assert wire.post("/certificates/u/create", body={"policy": body}).status_code == 202
    assert wire.get("/certificates/u/policy").get_json()["x509_props"]["key_usage"] == ["decipherOnly"]
    assert _key_usage(base64.b64decode(wire.get("/certificates/u").get_json()["cer"])) is None


def test_only_bits_with_key_agreement_are_in_the_certificate(wire):
    usages = ["keyAgreement", "decipherOnly"]
    body = policy(x509_props={"subject": "CN=usage.example", "key_usage": usages})
    assert wire.post("/certificates/u/create", body={"policy": body}).status_code == 202
    usage = _key_usage(base64.b64decode(wire.get("/certificates/u").get_json()["cer"]))
    assert usage is not None and usage.key_agreement and usage.decipher_only and not usage.encipher_only


def test_sdk_round_trips_decipher_only(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    cert = client.begin_create_certificate("u", ec_policy(key_usage=[KeyUsageType.decipher_only])).result()
    assert client.get_certificate_policy("u").key_usage == [KeyUsageType.decipher_only]
    assert _key_usage(bytes(cert.cer)) is None


async def test_async_sdk_round_trips_encipher_only(keyvault):
    usages = [KeyUsageType.digital_signature, KeyUsageType.encipher_only]
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        cert = await client.create_certificate("u", ec_policy(key_usage=usages))
        assert (await client.get_certificate_policy("u")).key_usage == usages
        usage = _key_usage(bytes(cert.cer))
        assert usage is not None and usage.digital_signature


# -- item 4: platform-managed policies --------------------------------------------------------------------------

PLATFORM = {"certificateUsage": "TLS", "metadata": {"sans": {"dns_names": ["platform.example"]}}}


def test_platform_managed_policy_without_subject_over_the_wire(wire):
    made = wire.post("/certificates/pm/create", body={"policy": {"platformManaged": PLATFORM}})
    assert made.status_code == 202, made.get_json()
    assert made.get_json()["status"] == "inProgress"
    policy_json = wire.get("/certificates/pm/policy").get_json()
    assert policy_json["platformManaged"] == PLATFORM
    assert wire.get("/certificates/pm/pending").get_json()["status"] == "inProgress"


@pytest.mark.parametrize("api_version", [v for v in PUBLISHED if v not in ("2026-04-01",)])
def test_before_2026_04_01_platform_managed_is_an_unknown_property(wire, api_version):
    made = wire.post("/certificates/pm/create", body={"policy": {"platformManaged": PLATFORM}}, api_version=api_version)
    assert_error(made, 400, "BadParameter")  # as if there were no platformManaged: no subject, no SANs
    with_subject = {"platformManaged": PLATFORM, "x509_props": {"subject": "CN=old"}, "key_props": {"kty": "EC"}}
    made = wire.post("/certificates/pm/create", body={"policy": with_subject}, api_version=api_version)
    assert made.status_code == 202
    assert "platformManaged" not in wire.get("/certificates/pm/policy", api_version=api_version).get_json()
    assert "platformManaged" not in wire.get("/certificates/pm/policy").get_json()  # it was never read


@pytest.mark.parametrize(
    "bad", ["TLS", {"metadata": {}}, {"certificateUsage": 7}, {"certificateUsage": "x", "metadata": 1}]
)
def test_platform_managed_needs_its_certificate_usage(wire, bad):
    made = wire.post("/certificates/pm/create", body={"policy": {"platformManaged": bad}})
    assert_error(made, 400, "BadParameter", "Property platformManaged has invalid value\r\n")
    assert wire.get("/certificates/pm").status_code == 404


def test_sdk_platform_managed_policy(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    given = PlatformManaged(certificate_usage="TLS", metadata={"sans": {"dns_names": ["a.example"]}})
    operation = client.begin_create_certificate("pm", CertificatePolicy(platform_managed=given)).result()
    assert operation.status == "inProgress"
    got = client.get_certificate_policy("pm").platform_managed
    assert (got.certificate_usage, got.metadata) == ("TLS", {"sans": {"dns_names": ["a.example"]}})


async def test_async_sdk_platform_managed_policy(keyvault):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        given = PlatformManaged(certificate_usage="TLS")
        operation = await client.create_certificate("pm", CertificatePolicy(platform_managed=given))
        assert operation.status == "inProgress"
        assert (await client.get_certificate_policy("pm")).platform_managed.certificate_usage == "TLS"


# -- failed certificate operations -----------------------------------------------------------------------------


def _issuer(wire, name: str = "digi", **fields) -> None:
    body = {"provider": "DigiCert", "credentials": {"account_id": "a", "pwd": "p"}, **fields}
    assert wire.put(f"/certificates/issuers/{name}", body=body).status_code == 200


def test_a_disabled_issuer_fails_the_operation_over_the_wire(wire):
    _issuer(wire, attributes={"enabled": False})
    made = wire.post("/certificates/c/create", body={"policy": policy("digi")})
    assert made.status_code == 202 and made.get_json()["status"] == "inProgress"
    failed = wire.get("/certificates/c/pending").get_json()
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "IssuerDisabled", "message": "The issuer 'digi' is disabled."}
    assert "cer" not in wire.get("/certificates/c").get_json()  # the version stays pending, no certificate
    merge = wire.post("/certificates/c/pending/merge", body={"x5c": [b64(b"x")]})
    assert_error(merge, 400, "BadParameter", "The certificate operation for c is failed; there is nothing to merge.")


@pytest.mark.keyvault(certificate_pending_polls=1)
def test_a_deleted_issuer_fails_the_operation(wire):
    _issuer(wire)
    assert wire.post("/certificates/c/create", body={"policy": policy("digi")}).status_code == 202
    assert wire.delete("/certificates/issuers/digi").status_code == 200
    assert wire.get("/certificates/c/pending").get_json()["status"] == "inProgress"  # one poll still pending
    failed = wire.get("/certificates/c/pending").get_json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "CertificateIssuerNotFound")


def test_a_merge_after_cancellation_is_refused(wire):
    made = create(wire, "ext", policy("Unknown"))
    csr = x509.load_der_x509_csr(base64.b64decode(made["csr"]))
    assert wire.patch("/certificates/ext/pending", body={"cancellation_requested": True}).status_code == 200
    assert wire.get("/certificates/ext/pending").get_json()["status"] == "cancelled"
    leaf = sign(csr.public_key(), csr.subject, make_ca())
    merge = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(der(leaf))]})
    assert_error(
        merge, 400, "BadParameter", "The certificate operation for ext is cancelled; there is nothing to merge."
    )
    assert "cer" not in wire.get("/certificates/ext").get_json()


def test_sdk_poller_ends_with_the_failed_operation(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    client.create_issuer("digi", "DigiCert", enabled=False)
    result = client.begin_create_certificate("c", ec_policy("digi")).result()
    assert result.status == "failed"
    assert (result.error.code, result.error.message) == ("IssuerDisabled", "The issuer 'digi' is disabled.")


async def test_async_sdk_poller_ends_with_the_failed_operation(keyvault):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.create_issuer("digi", "DigiCert", enabled=False)
        result = await client.create_certificate("c", ec_policy("digi"))
        assert result.status == "failed" and result.error.code == "IssuerDisabled"
        assert (await client.get_certificate_operation("c")).status == "failed"


# -- UpdateCertificate honours nbf, exp and enabled -------------------------------------------------------------


def test_update_certificate_sets_nbf_and_exp_over_the_wire(wire, keyvault):
    create(wire, "c", policy())
    bundle = wire.get("/certificates/c").get_json()
    version = bundle["id"].rsplit("/", 1)[-1]
    nbf, exp = bundle["attributes"]["nbf"] + 60, bundle["attributes"]["exp"] - 60
    updated = wire.patch(f"/certificates/c/{version}", body={"attributes": {"nbf": nbf, "exp": exp, "enabled": False}})
    assert updated.status_code == 200
    attributes = updated.get_json()["attributes"]
    assert (attributes["nbf"], attributes["exp"], attributes["enabled"]) == (nbf, exp, False)
    assert wire.get(f"/certificates/c/{version}").get_json()["attributes"]["exp"] == exp
    vault = keyvault.vault()
    for store in (vault.keys, vault.secrets):  # the key and secret of the version follow
        mirrored = store.get("c", version).attributes
        assert (mirrored.not_before, mirrored.expires, mirrored.enabled) == (nbf, exp, False)
    cleared = wire.patch(f"/certificates/c/{version}", body={"attributes": {"exp": None}}).get_json()["attributes"]
    assert "exp" not in cleared and cleared["nbf"] == nbf


def test_update_certificate_refuses_a_non_integer_exp(wire):
    create(wire, "c", policy())
    version = wire.get("/certificates/c").get_json()["id"].rsplit("/", 1)[-1]
    before = wire.get("/certificates/c").get_json()["attributes"]
    refused = wire.patch(f"/certificates/c/{version}", body={"attributes": {"exp": "tomorrow"}})
    assert_error(refused, 400, "BadParameter")
    assert wire.get("/certificates/c").get_json()["attributes"] == before


def test_sdk_reads_the_updated_validity_and_updates_enabled(keyvault, wire):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    cert = client.begin_create_certificate("c", ec_policy()).result()
    exp = int(cert.properties.expires_on.timestamp()) - 3600
    wire.patch(f"/certificates/c/{cert.properties.version}", body={"attributes": {"exp": exp}})
    assert int(client.get_certificate("c").properties.expires_on.timestamp()) == exp
    assert client.update_certificate_properties("c", enabled=False).properties.enabled is False
    assert int(client.get_certificate("c").properties.expires_on.timestamp()) == exp  # kept


async def test_async_sdk_reads_the_updated_validity(keyvault, wire):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        cert = await client.create_certificate("c", ec_policy())
        nbf = int(cert.properties.not_before.timestamp()) + 3600
        wire.patch(f"/certificates/c/{cert.properties.version}", body={"attributes": {"nbf": nbf}})
        assert int((await client.get_certificate("c")).properties.not_before.timestamp()) == nbf


def test_an_issuer_whose_provider_key_vault_does_not_know_fails_the_operation(wire):
    _issuer(wire, "contoso", provider="Contoso")
    assert wire.post("/certificates/c/create", body={"policy": policy("contoso")}).status_code == 202
    failed = wire.get("/certificates/c/pending").get_json()
    assert (failed["status"], failed["error"]["code"]) == ("failed", "UnknownIssuerProvider")
    assert "'Contoso'" in failed["error"]["message"]
    _issuer(wire, "gs", provider="GlobalSign")  # a partner CA issues (signed by the emulator's test CA)
    assert wire.post("/certificates/g/create", body={"policy": policy("gs")}).status_code == 202
    assert wire.get("/certificates/g/pending").get_json()["status"] == "completed"


def test_sdk_poller_ends_failed_for_an_unknown_provider(keyvault):
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    client.create_issuer("contoso", "Contoso")
    result = client.begin_create_certificate("c", ec_policy("contoso")).result()
    assert (result.status, result.error.code) == ("failed", "UnknownIssuerProvider")


async def test_async_sdk_poller_ends_failed_for_an_unknown_provider(keyvault):
    async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.create_issuer("contoso", "Contoso")
        result = await client.create_certificate("c", ec_policy("contoso"))
        assert (result.status, result.error.code) == ("failed", "UnknownIssuerProvider")
