"""Certificates as real service traffic shows them (issue 19, items 7, 9-12, 14 and 15).

Evidence: recordings of the real service kept by the Azure SDK for JavaScript (nock recordings of
``@azure/keyvault-certificates``, service versions 1.1.6.0 to 1.9.79.2, 2020-2021) and by the Python and Go SDKs
(2016-2023), the JavaScript SDK's official samples run through ``kv-emulator serve``, as issue 19 reports them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import time

import pytest
from azure.keyvault.certificates import CertificatePolicy, WellKnownIssuerNames
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from certs_support import assert_error, b64, create, der, ec_key, ec_policy, make_ca, pem_of, pfx, policy, sign
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from tests_support import self_signed

from kv_emulator import Settings

pytestmark = pytest.mark.usefixtures("never_a_500")

UTC = datetime.timezone.utc


def pending_url(keyvault, name: str) -> dict[str, str]:
    return {"id": f"{keyvault.vault_url}/certificates/{name}/pending"}


# -- item 7: issuance is a span of the emulator's clock ----------------------------------------------------------


def test_right_after_the_create_the_operation_is_in_progress_and_can_be_cancelled(wire):
    """The JavaScript samples cancel right after creating and expect ``inProgress`` (issue 19, JS samples)."""
    assert create(wire, "c")["status"] == "inProgress"
    assert wire.get("/certificates/c/pending").get_json()["status"] == "inProgress"  # the JS poller's first GET
    cancelled = wire.patch("/certificates/c/pending", body={"cancellation_requested": True})
    assert cancelled.status_code == 200
    assert (cancelled.get_json()["status"], cancelled.get_json()["cancellation_requested"]) == ("inProgress", True)
    assert wire.get("/certificates/c/pending").get_json()["status"] == "cancelled"


def test_after_the_span_the_certificate_is_complete_without_any_poll(wire, keyvault):
    """The service finishes a self-signed certificate within seconds, polled or not (issue 19): no 409 for a
    second create, no 404 for the version, once the span has passed."""
    keyvault.clock.freeze()
    version = create(wire, "c")["id"]  # the operation; the pending version is the certificate's latest
    latest = wire.get("/certificates/c").get_json()
    assert "cer" not in latest and latest["attributes"]["enabled"] is False
    # code Conflict: recorded, js SDK 2019 (api 7.0); see tests/conformance/test_conformance_recorded.py
    assert_error(wire.post("/certificates/c/create", body={"policy": policy()}), 409, "Conflict")
    keyvault.clock.advance(seconds=Settings().certificate_issuance_time)
    done = wire.get("/certificates/c").get_json()  # no GET of the operation in between
    assert done["cer"] and done["attributes"]["enabled"] is True and version.endswith("/pending")
    assert wire.get(f"/certificates/c/{done['id'].rsplit('/', 1)[1]}").status_code == 200
    assert [item["id"] for item in wire.get("/certificates").get_json()["value"]] == [
        f"{keyvault.vault_url}/certificates/c"
    ]
    assert create(wire, "c")["status"] == "inProgress"  # a second create is welcome
    assert done["attributes"]["updated"] - done["attributes"]["created"] == 2


def test_a_cancellation_asked_before_the_end_wins(wire, keyvault):
    keyvault.clock.freeze()
    create(wire, "c")
    wire.patch("/certificates/c/pending", body={"cancellation_requested": True})
    keyvault.clock.advance(seconds=10)
    assert wire.get("/certificates/c/pending").get_json()["status"] == "cancelled"
    assert "cer" not in wire.get("/certificates/c").get_json()


@pytest.mark.keyvault(certificate_issuance_time=30)
def test_the_span_is_a_setting(wire, keyvault):
    keyvault.clock.freeze()
    create(wire, "c")
    keyvault.clock.advance(seconds=29)
    assert wire.get("/certificates/c/pending").get_json()["status"] == "inProgress"
    keyvault.clock.advance(seconds=1)
    assert wire.get("/certificates/c/pending").get_json()["status"] == "completed"
    assert keyvault.vault().certificates.issuance_time == 30


@pytest.mark.keyvault(certificate_issuance_time=0)
def test_zero_issues_at_once(wire):
    assert create(wire, "c")["status"] == "inProgress"  # the 202 shows the operation as it was started
    assert wire.get("/certificates/c/pending").get_json()["status"] == "completed"


def test_the_setting_is_validated():
    assert Settings.from_options(certificate_issuance_time="5").certificate_issuance_time == 5  # ini text
    with pytest.raises(ValueError, match="certificate_issuance_time"):
        Settings.from_options(certificate_issuance_time=-1)


def test_the_python_poller_costs_no_real_seconds(certificates, keyvault, no_real_sleep):
    """The SDK polls at once (``inProgress``, as on the service), then sleeps 5 s: in-process that sleep ends
    the issuance instead of waiting, so ``result()`` takes milliseconds and never sleeps."""
    started = time.monotonic()
    cert = certificates.begin_create_certificate("c", ec_policy()).result()
    assert time.monotonic() - started < 2.0 and cert.cer
    operations = keyvault.requests.operations()
    assert operations[-4:] == [
        "CreateCertificate",
        "GetCertificateOperation",
        "GetCertificateOperation",
        "GetCertificate",
    ]
    assert keyvault.requests.filter("GetCertificateOperation")[-1].delay == 5.0  # the poller chose to wait 5 s


def test_the_async_poller_costs_no_real_seconds(keyvault, no_real_sleep):
    async def run() -> bytes:
        async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
            return bytes((await client.create_certificate("c", ec_policy())).cer)

    started = time.monotonic()
    assert asyncio.run(run())
    assert time.monotonic() - started < 2.0


def test_the_python_sdk_cancels_while_its_poller_runs(certificates):
    """The Python SDK's own test (test_async_request_cancellation_and_deletion, recorded against the service)
    cancels right after ``begin_create_certificate`` while the poller runs in its thread, and its ``result()``
    is the cancelled operation."""
    poller = certificates.begin_create_certificate("c", CertificatePolicy.get_default())
    cancelled = certificates.cancel_certificate_operation("c")
    assert cancelled.cancellation_requested is True
    assert poller.result().status.lower() == "cancelled"
    assert certificates.get_certificate_operation("c").status == "cancelled"


def test_the_async_sdk_cancels_while_its_poller_runs(keyvault):
    async def run() -> str:
        async with AsyncCertificateClient(keyvault.vault_url, keyvault.async_credential) as client:
            creating = asyncio.ensure_future(client.create_certificate("c", CertificatePolicy.get_default()))
            while keyvault.requests.operations()[-1:] != ["GetCertificateOperation"]:
                await asyncio.sleep(0)  # the poller has asked once
            assert (await client.cancel_certificate_operation("c")).cancellation_requested
            return (await creating).status.lower()

    assert asyncio.run(run()) == "cancelled"


@pytest.mark.keyvault(virtual_time=True)
def test_in_virtual_time_the_poller_sleep_moves_the_clock_past_the_span(certificates, keyvault):
    keyvault.clock.freeze()
    cert = certificates.begin_create_certificate("c", ec_policy()).result()
    assert cert.properties.updated_on - cert.properties.created_on == datetime.timedelta(seconds=2)


@pytest.mark.slow
def test_a_sleep_too_short_for_the_span_still_waits(certificates, keyvault):
    """Only a sleep that would reach the end of the issuance ends it early: with a 0.5 s poll interval the
    poller really waits and polls again, until the clock reaches the end."""
    keyvault.clock.freeze()  # frozen: nothing but the clock's advance below can end the issuance
    poller = certificates.begin_create_certificate("c", ec_policy(), _polling_interval=0.5)
    time.sleep(1.2)
    assert not poller.done() and poller.status() == "inprogress"
    keyvault.clock.advance(seconds=2)
    assert poller.result(timeout=10).cer


# -- item 9: bundles name the pending operation -----------------------------------------------------------------


@pytest.mark.keyvault(certificate_issuance_time=0)
def test_every_bundle_carries_the_pending_operation(wire, keyvault):
    """GET, PATCH, DELETE, get-deleted and recover (recorded: js SDK recordings 2020-2021, completed
    certificates with ``cer``; issue 19: every api-version through 2023)."""
    create(wire, "c")
    expected = pending_url(keyvault, "c")
    assert wire.get("/certificates/c").get_json()["pending"] == expected
    assert wire.patch("/certificates/c/", body={"tags": {"a": "b"}}).get_json()["pending"] == expected
    assert wire.delete("/certificates/c").get_json()["pending"] == expected
    assert wire.get("/deletedcertificates/c").get_json()["pending"] == expected
    assert wire.post("/deletedcertificates/c/recover").get_json()["pending"] == expected


# -- item 10: list items and a version's GET --------------------------------------------------------------------


@pytest.mark.keyvault(certificate_issuance_time=0)
def test_list_items_have_an_empty_subject_and_no_recovery_fields(wire):
    """Recorded (js SDK, GET /certificates and /versions, 2020-2021): ``{"id", "x5t", "attributes": {enabled,
    nbf, exp, created, updated}, "tags"?, "subject": ""}``; deleted items keep the recovery fields and have no
    subject (GET /deletedcertificates, same recordings)."""
    create(wire, "c", tags={"t": "1"})
    for path in ("/certificates", "/certificates/c/versions"):
        [item] = wire.get(path).get_json()["value"]
        assert list(item) == ["id", "x5t", "attributes", "tags", "subject"] and item["subject"] == ""
        assert list(item["attributes"]) == ["enabled", "nbf", "exp", "created", "updated"]
    wire.delete("/certificates/c")
    [deleted] = wire.get("/deletedcertificates").get_json()["value"]
    assert "subject" not in deleted
    assert {"recoveryLevel", "recoverableDays"} <= set(deleted["attributes"])


@pytest.mark.keyvault(certificate_issuance_time=0)
def test_a_version_get_has_no_policy(wire):
    """Issue 19 (recorded traffic): GET /certificates/{name}/{version} has no ``policy``; without a version it has."""
    create(wire, "c")
    latest = wire.get("/certificates/c").get_json()
    assert "policy" in latest
    one = wire.get(f"/certificates/c/{latest['id'].rsplit('/', 1)[1]}").get_json()
    assert "policy" not in one and one["cer"] == latest["cer"] and one["pending"] == latest["pending"]


# -- item 11: issuers echo what was sent ------------------------------------------------------------------------


def test_an_issuer_echoes_empty_credentials_and_no_org_details_it_was_not_sent(wire):
    """Issue 19 (recorded traffic): ``"credentials": {}`` comes back as sent, and no ``org_details`` appear
    unless sent; when sent they carry ``zip: 0`` (recorded: js SDK 2021)."""
    bare = wire.put("/certificates/issuers/i", body={"provider": "Test", "credentials": {}}).get_json()
    assert bare["credentials"] == {} and "org_details" not in bare
    assert "org_details" not in wire.get("/certificates/issuers/i").get_json()
    none = wire.put("/certificates/issuers/j", body={"provider": "Test"}).get_json()
    assert "credentials" not in none and "org_details" not in none
    admins = [{"first_name": "John", "last_name": "Doe", "email": "admin@microsoft.com", "phone": "4255555555"}]
    body = {"credentials": {}, "org_details": {"admin_details": admins}}
    patched = wire.patch("/certificates/issuers/i", body=body).get_json()
    assert patched["credentials"] == {} and patched["org_details"] == {"zip": 0, "admin_details": admins}


# -- item 12: the policy of an imported certificate ------------------------------------------------------------


def _imported_ca_certificate() -> tuple[object, x509.Certificate]:
    """A CA certificate valid like the service's own "12-month" ones: 365 days and 10 minutes (recorded:
    nbf 1613526044, exp 1645062644)."""
    key = ec_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Imported CA")])
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    usage.update(key_cert_sign=True, crl_sign=True, digital_signature=True)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(1613526044, UTC))
        .not_valid_after(datetime.datetime.fromtimestamp(1645062644, UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(**usage), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("ca.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def test_an_imported_ca_certificate_policy_as_the_service_reads_it(wire):
    """Issue 19 (recorded traffic): key usages sorted by name; ``basic_constraints.ca`` true for a CA; 13 months
    for 365 days and 10 minutes (recorded: js SDK imports of the service's own certificates, 2020-2021, report
    ``validity_months: 13``: calendar months, any part of one counting); empty ``emails`` and ``upns``."""
    key, cert = _imported_ca_certificate()
    body = {"value": base64.b64encode(pfx(key, cert)).decode()}
    imported = wire.post("/certificates/ca/import", body=body).get_json()
    x509_props = imported["policy"]["x509_props"]
    assert x509_props["key_usage"] == ["cRLSign", "digitalSignature", "keyCertSign"]
    assert x509_props["basic_constraints"] == {"ca": True}
    assert x509_props["validity_months"] == 13
    assert x509_props["sans"] == {"emails": [], "dns_names": ["ca.example"], "upns": []}
    assert imported["pending"] == {"id": imported["id"].rsplit("/", 1)[0] + "/pending"}


def test_an_imported_leaf_is_no_ca_and_without_sans_has_none(wire):
    """The recorded imports of the service's own certificates (no SAN extension) show no ``sans`` at all and
    ``basic_constraints.ca`` false (js SDK recordings, 2020-2021)."""
    key = ec_key()
    body = {"value": base64.b64encode(pfx(key, self_signed(key, "MyCert", days=365))).decode()}
    x509_props = wire.post("/certificates/leaf/import", body=body).get_json()["policy"]["x509_props"]
    assert "sans" not in x509_props and x509_props["basic_constraints"] == {"ca": False}
    assert x509_props["validity_months"] == 13  # 366 days (from a day ago): a part of a 13th month


# -- item 14: texts --------------------------------------------------------------------------------------------


def test_updating_a_missing_issuer_names_it(wire):
    """Issue 19 (recorded traffic): "Issuer notexist not found". The GET's text stays "Issuer not found"
    (recorded: js SDK 2021); status and code of the update are the GET's (unverified)."""
    response = wire.patch("/certificates/issuers/notexist", body={"provider": "Test"})
    assert_error(response, 404, "CertificateIssuerNotFound", "Issuer notexist not found")
    assert_error(wire.get("/certificates/issuers/notexist"), 404, "CertificateIssuerNotFound", "Issuer not found")


@pytest.mark.keyvault(certificate_issuance_time=0)
def test_a_missing_version_is_named_with_versions(wire):
    """Issue 19 (recorded traffic): the message names ``<name>/versions/<version>``."""
    create(wire, "c")
    missing = "0" * 32
    assert_error(
        wire.get(f"/certificates/c/{missing}"),
        404,
        "CertificateNotFound",
        f"A certificate with (name/id) c/versions/{missing} was not found in this key vault. If you recently "
        "deleted this certificate you may be able to recover it using the correct recovery command. For help "
        "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )


# -- item 15: merge accepts x5c items with PEM armour left on ---------------------------------------------------


def _js_sample_item(cert: x509.Certificate) -> bytes:
    """What the JavaScript SDK's merge sample sends: the PEM file without its first line, lines joined, so the
    ``-----END CERTIFICATE-----`` line stays on the base64 text."""
    return "".join(pem_of(cert).decode().splitlines()[1:]).encode()


def test_merge_accepts_items_with_pem_armour_left_on(wire, keyvault):
    """Issue 19: the service accepts them (the JS SDK's sample and test send them); the emulator refused
    them with "X5C must has at least one valid item"."""
    csr = x509.load_der_x509_csr(base64.b64decode(create(wire, "ext", policy("Unknown"))["csr"]))
    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    item = _js_sample_item(leaf)
    assert item.endswith(b"-----END CERTIFICATE-----")
    merged = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(item), b64(_js_sample_item(ca[1]))]})
    assert merged.status_code == 201, merged.get_json()
    assert base64.b64decode(merged.get_json()["cer"]) == der(leaf)
    assert keyvault.vault().certificates.get("ext").payload.chain == [leaf, ca[1]]


def test_merge_accepts_pem_text_sent_as_is(wire):
    csr = x509.load_der_x509_csr(base64.b64decode(create(wire, "ext", policy("Unknown"))["csr"]))
    leaf = sign(csr.public_key(), csr.subject, make_ca())
    merged = wire.post("/certificates/ext/pending/merge", body={"x5c": [pem_of(leaf).decode()]})
    assert merged.status_code == 201 and base64.b64decode(merged.get_json()["cer"]) == der(leaf)


def test_the_sdk_merges_the_js_sample_form(certificates):
    unknown = CertificatePolicy(WellKnownIssuerNames.unknown, subject="CN=merged.example")
    operation = certificates.begin_create_certificate("ext", unknown).result()
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    leaf = sign(csr.public_key(), csr.subject, make_ca())
    merged = certificates.merge_certificate("ext", [_js_sample_item(leaf)])
    assert bytes(merged.cer) == der(leaf) and merged.properties.enabled is True


def test_garbage_with_armour_is_still_refused(wire):
    create(wire, "ext", policy("Unknown"))
    item = b"bm90IGEgY2VydGlmaWNhdGU=-----END CERTIFICATE-----"
    response = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(item)]})
    assert_error(response, 400, "BadParameter", "Property x5c has invalid value X5C must has at least one valid item")
