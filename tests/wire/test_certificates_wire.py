"""Certificates over raw HTTP: exact statuses, bodies and messages; the shapes real service answers have; and
nothing stored after a refused request."""

from __future__ import annotations

import base64
import hashlib

import pytest
from certs_support import assert_error, b64, create, der, ec_key, leaf_and_ca, make_ca, pem_of, pfx, pkcs8, policy, sign
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# These tests read certificates right after the 202: issuance completes at once here. The timed issuance the
# service shows (complete within seconds, polled or not) is tested in test_fidelity_certificates.py.
pytestmark = [pytest.mark.keyvault(certificate_issuance_time=0), pytest.mark.usefixtures("never_a_500")]

ISSUER_TEXT = (
    "Pending certificate created. Certificate request is in progress. This may take some time based on the issuer "
    "provider. Please check again later."
)


@pytest.fixture
def store(keyvault):
    return keyvault.vault().certificates


# -- create and the operation ----------------------------------------------------------------------------------


def test_create_answers_202_with_the_operation_and_a_real_csr(wire, keyvault):
    sans = {"dns_names": ["wire.example"], "ipAddresses": ["10.0.0.1"], "uris": ["https://wire.example/"]}
    body = create(wire, "c", policy(x509_props={"subject": "CN=wire.example", "sans": sans}))
    assert list(body) == [
        "id", "issuer", "csr", "cancellation_requested", "status", "status_details", "request_id",
    ]  # fmt: skip
    assert body["id"] == f"{keyvault.vault_url}/certificates/c/pending"
    assert (body["issuer"], body["status"], body["cancellation_requested"]) == ({"name": "Self"}, "inProgress", False)
    assert body["status_details"] == ISSUER_TEXT and len(body["request_id"]) == 32
    csr = x509.load_der_x509_csr(base64.b64decode(body["csr"]))
    assert csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=wire.example"
    requested = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert requested.get_values_for_type(x509.DNSName) == ["wire.example"]
    assert [str(ip) for ip in requested.get_values_for_type(x509.IPAddress)] == ["10.0.0.1"]
    polled = wire.get("/certificates/c/pending").get_json()
    assert polled["status"] == "completed" and "status_details" not in polled
    assert polled["target"] == f"{keyvault.vault_url}/certificates/c"
    assert polled["csr"] == body["csr"] and polled["request_id"] == body["request_id"]


def test_certificate_bundle_and_the_default_policy_as_the_service_shows_them(wire, keyvault):
    keyvault.clock.freeze()
    # The request the JS SDK sent in a real recording, and the policy the service answered with.
    create(wire, "rec", {"x509_props": {"subject": "cn=MyCert", "sans": {}}, "issuer": {"name": "Self"}})
    bundle = wire.get("/certificates/rec/").get_json()
    assert list(bundle) == ["id", "kid", "sid", "x5t", "cer", "attributes", "policy", "pending"]
    version = bundle["id"].rsplit("/", 1)[1]
    assert bundle["kid"] == f"{keyvault.vault_url}/keys/rec/{version}"
    assert bundle["sid"] == f"{keyvault.vault_url}/secrets/rec/{version}"
    cer = base64.b64decode(bundle["cer"])
    assert bundle["x5t"] == base64.urlsafe_b64encode(hashlib.sha1(cer).digest()).decode().rstrip("=")
    now = int(keyvault.clock.time())
    attributes = bundle["attributes"]
    assert (attributes["enabled"], attributes["created"], attributes["nbf"]) == (True, now, now - 600)
    assert attributes["exp"] == int(x509.load_der_x509_certificate(cer).not_valid_after_utc.timestamp())
    assert (attributes["recoveryLevel"], attributes["recoverableDays"]) == ("Recoverable+Purgeable", 90)
    assert bundle["policy"] == {
        "id": f"{keyvault.vault_url}/certificates/rec/policy",
        "key_props": {"exportable": True, "kty": "RSA", "key_size": 2048, "reuse_key": False},
        "secret_props": {"contentType": "application/x-pkcs12"},
        "x509_props": {
            "subject": "cn=MyCert",
            "sans": {},
            "ekus": ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"],
            "key_usage": ["digitalSignature", "keyEncipherment"],
            "validity_months": 12,
            "basic_constraints": {"ca": False},
        },
        "lifetime_actions": [{"trigger": {"lifetime_percentage": 80}, "action": {"action_type": "AutoRenew"}}],
        "issuer": {"name": "Self"},
        "attributes": {"enabled": True, "created": now, "updated": now},
    }
    assert wire.get("/certificates/rec/policy").get_json() == bundle["policy"]
    items = wire.get("/certificates").get_json()
    # List items: no recovery fields in attributes, and an empty subject (recorded, js SDK 2020-2021).
    listed = {k: v for k, v in attributes.items() if k not in ("recoveryLevel", "recoverableDays")}
    item = {"id": f"{keyvault.vault_url}/certificates/rec", "x5t": bundle["x5t"], "attributes": listed, "subject": ""}
    assert items == {"value": [item], "nextLink": None}


def test_a_pending_version_is_disabled_and_has_no_certificate_yet(wire, keyvault):
    create(wire, "ext", policy("Unknown"))
    bundle = wire.get("/certificates/ext").get_json()
    assert "cer" not in bundle and "x5t" not in bundle and "kid" not in bundle
    assert bundle["pending"] == {"id": f"{keyvault.vault_url}/certificates/ext/pending"}
    assert bundle["attributes"]["enabled"] is False and "nbf" in bundle["attributes"]
    assert bundle["policy"]["lifetime_actions"][0]["action"] == {"action_type": "EmailContacts"}
    assert wire.get("/certificates").get_json()["value"] == []
    [item] = wire.get("/certificates?includePending=true").get_json()["value"]
    assert "x5t" not in item
    op = wire.get("/certificates/ext/pending").get_json()
    assert op["status"] == "inProgress"
    assert op["status_details"] == "Pending certificate created. Please Perform Merge to complete the request."
    assert_error(wire.get("/secrets/ext"), 404, "SecretNotFound")


def test_pending_polls_keep_an_operation_in_progress(wire, store):
    store.pending_polls = 2
    create(wire, "slow")
    assert [wire.get("/certificates/slow/pending").get_json()["status"] for _ in range(3)] == [
        "inProgress",
        "inProgress",
        "completed",
    ]
    assert "cer" in wire.get("/certificates/slow").get_json()


def test_cancellation_is_requested_then_takes_effect(wire, store):
    store.pending_polls = 10
    create(wire, "c")
    answer = wire.patch("/certificates/c/pending", body={"cancellation_requested": True}).get_json()
    assert (answer["status"], answer["cancellation_requested"]) == ("inProgress", True)
    polled = wire.get("/certificates/c/pending").get_json()
    assert polled["status"] == "cancelled" and polled["cancellation_requested"] is True
    again = wire.patch("/certificates/c/pending", body={"cancellation_requested": True})
    assert_error(again, 400, "BadParameter")
    assert_error(wire.patch("/certificates/c/pending", body={}), 400, "BadParameter")
    assert wire.delete("/certificates/c/pending").get_json()["status"] == "cancelled"
    create(wire, "c")  # no operation in progress any more


def test_operation_errors(wire, store):
    assert_error(
        wire.get("/certificates/none/pending"), 404, "PendingCertificateNotFound", "Pending Certificate not found: none"
    )
    create(wire, "ext", policy("Unknown"))
    assert_error(
        wire.post("/certificates/ext/create", body={"policy": policy()}),
        409,
        "Conflict",
        "A new key vault certificate can not be created or imported while a pending key vault certificate's status "
        "is inProgress.",
    )
    key, leaf, _ = leaf_and_ca()
    imported = wire.post("/certificates/ext/import", body={"value": b64(pfx(key, leaf))})
    assert_error(imported, 409, "Conflict")
    store.pending_polls = 3
    create(wire, "busy", policy())
    assert_error(
        wire.post("/certificates/busy/pending/merge", body={"x5c": [b64(der(leaf))]}),
        403,
        "Forbidden",
        "Merge is forbidden on pending object created with issuer : Self while it is in progess.",
    )


def test_merge_answers_201_and_refuses_what_it_cannot_use(wire, store, keyvault):
    operation = create(wire, "ext", policy("Unknown"))
    csr = x509.load_der_x509_csr(base64.b64decode(operation["csr"]))
    x5c_error = "Property x5c has invalid value X5C must has at least one valid item"
    assert_error(wire.post("/certificates/ext/pending/merge", body={"x5c": "nope"}), 400, "BadParameter", x5c_error)
    garbage = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(b"not a certificate")]})
    assert_error(garbage, 400, "BadParameter", x5c_error)
    _, stranger, _ = leaf_and_ca()
    assert_error(
        wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(der(stranger))]}),
        400,
        "BadParameter",
        "Unable to parse X5c certificate chain and locate leaf certificate",
    )
    ca = make_ca()
    leaf = sign(csr.public_key(), csr.subject, ca)
    merged = wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(der(leaf)), b64(der(ca[1]))]})
    assert merged.status_code == 201
    assert base64.b64decode(merged.get_json()["cer"]) == der(leaf)
    # Every bundle names the operation's URL, as the service's do (issue 19; unverified for merge's 201 itself).
    assert merged.get_json()["pending"] == {"id": f"{keyvault.vault_url}/certificates/ext/pending"}
    assert_error(wire.post("/certificates/ext/pending/merge", body={"x5c": [b64(der(leaf))]}), 400, "BadParameter")
    assert store.get("ext").payload.chain == [leaf, ca[1]]


def test_preserve_cert_order_is_echoed(wire):
    operation = create(wire, "kept", policy(), preserveCertOrder=True)
    assert operation["preserveCertOrder"] is True
    assert wire.get("/certificates/kept").get_json()["preserveCertOrder"] is True


# -- import -----------------------------------------------------------------------------------------------------


def test_import_accepts_base64_pfx_and_raw_pem_text(wire):
    key, leaf, ca = leaf_and_ca()
    from_pfx = wire.post("/certificates/a/import", body={"value": b64(pfx(key, leaf, [ca], b"pw")), "pwd": "pw"})
    assert from_pfx.status_code == 200 and base64.b64decode(from_pfx.get_json()["cer"]) == der(leaf)
    pem_text = (pkcs8(key) + pem_of(leaf) + pem_of(ca)).decode()  # as the Azure CLI sends PEM: not base64
    body = {"value": pem_text, "policy": {"secret_props": {"contentType": "application/x-pem-file"}}}
    from_pem = wire.post("/certificates/b/import", body=body)
    assert from_pem.status_code == 200
    assert from_pem.get_json()["policy"]["secret_props"] == {"contentType": "application/x-pem-file"}
    assert wire.get("/secrets/b").get_json()["value"].startswith("-----BEGIN PRIVATE KEY-----")


def test_import_refusals_store_nothing(wire):
    key, leaf, _ca = leaf_and_ca()
    pkcs1 = ec_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    cases = {
        "wrong-password": {"value": b64(pfx(key, leaf, password=b"right")), "pwd": "wrong"},
        "no-password": {"value": b64(pfx(key, leaf, password=b"right"))},
        "not-a-certificate": {"value": b64(b"\x01\x02 definitely not PKCS#12")},
        "not-base64": {"value": "%%%"},
        "pkcs1-key": {"value": b64(pkcs1 + pem_of(leaf))},
        "mismatched-key": {"value": b64(pkcs8(ec_key()) + pem_of(leaf))},
        "no-value": {},
    }
    for name, body in cases.items():
        response = wire.post(f"/certificates/{name}/import", body=body)
        assert_error(response, 400, "BadParameter")
        assert_error(wire.get(f"/certificates/{name}"), 404, "CertificateNotFound")
    no_key = wire.post("/certificates/no-key/import", body={"value": b64(pem_of(leaf))})
    assert_error(
        no_key,
        400,
        "BadParameter",
        "Private key is not specified in the specified X.509 PEM certificate content. Please specify private key in "
        "the X.509 PEM certificate content.",
    )


# -- policies ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"key_props": {"kty": "oct"}},
        {"key_props": {"kty": "RSA", "key_size": 1024}},
        {"key_props": {"kty": "EC", "crv": "P-999"}},
        {"key_props": {"kty": "RSA-HSM", "exportable": True}},
        {"x509_props": {"subject": "no equals sign"}},
        {"x509_props": {"subject": ""}},
        {"x509_props": {"subject": "CN=x", "ekus": ["serverAuth"]}},
        {"x509_props": {"subject": "CN=x", "key_usage": ["everything"]}},
        {"x509_props": {"subject": "CN=x", "validity_months": 0}},
        {"x509_props": {"subject": "CN=x", "sans": {"ipAddresses": ["999.1.1.1"]}}},
        {"secret_props": {"contentType": "text/plain"}},
        {"lifetime_actions": [{"trigger": {"lifetime_percentage": 100}, "action": {"action_type": "AutoRenew"}}]},
        {"lifetime_actions": [{"trigger": {"days_before_expiry": 400}, "action": {"action_type": "AutoRenew"}}]},
        {"lifetime_actions": [{"trigger": {}, "action": {"action_type": "AutoRenew"}}]},
        {"lifetime_actions": [{"trigger": {"lifetime_percentage": 50}, "action": {"action_type": "Explode"}}]},
        {"issuer": {"name": "no-such-issuer"}},
        {"issuer": {"name": "Unknown"}, "lifetime_actions": [
            {"trigger": {"lifetime_percentage": 50}, "action": {"action_type": "AutoRenew"}}
        ]},
    ],
)  # fmt: skip
def test_bad_policies_are_refused(wire, bad):
    body = {"x509_props": {"subject": "CN=x"}, "issuer": {"name": "Self"}, **bad}
    assert_error(wire.post("/certificates/bad/create", body={"policy": body}), 400, "BadParameter")
    assert_error(wire.get("/certificates/bad"), 404, "CertificateNotFound")


def test_a_first_version_needs_a_policy(wire):
    assert_error(wire.post("/certificates/none/create", body={}), 400, "BadParameter")


def test_update_policy_changes_only_what_is_given(wire):
    create(wire, "c", policy(x509_props={"subject": "CN=c", "sans": {"dns_names": ["c.example"]}}))
    patched = wire.patch("/certificates/c/policy", body={"x509_props": {"validity_months": 3}}).get_json()
    assert patched["x509_props"]["validity_months"] == 3
    assert patched["x509_props"]["sans"] == {"dns_names": ["c.example"]} and patched["key_props"]["crv"] == "P-256"
    via_update = wire.patch(
        "/certificates/c/", body={"policy": {"secret_props": {"contentType": "application/x-pem-file"}}}
    )
    assert via_update.get_json()["policy"]["secret_props"]["contentType"] == "application/x-pem-file"
    assert_error(wire.patch("/certificates/c/policy", body={"key_props": {"kty": "oct"}}), 400, "BadParameter")
    assert_error(wire.get("/certificates/missing/policy"), 404, "CertificateNotFound")


@pytest.mark.keyvault(sku="standard")
def test_hsm_keys_need_a_premium_vault(wire):
    response = wire.post("/certificates/h/create", body={"policy": policy(key_props={"kty": "EC-HSM"})})
    assert_error(response, 403, "Forbidden", "Hardware key operation not allowed on standard vault")


# -- the key and secret behind a certificate --------------------------------------------------------------------


def test_managed_key_and_secret_bundles(wire, keyvault):
    create(wire, "c")
    version = wire.get("/certificates/c").get_json()["id"].rsplit("/", 1)[1]
    secret = wire.get("/secrets/c").get_json()
    assert (secret["managed"], secret["kid"]) == (True, f"{keyvault.vault_url}/keys/c/{version}")
    assert secret["contentType"] == "application/x-pkcs12" and "previousVersion" not in secret
    [item] = wire.get("/secrets").get_json()["value"]
    assert item["managed"] is True and "kid" not in item
    key = wire.get("/keys/c").get_json()
    assert key["managed"] is True and key["key"]["kid"] == f"{keyvault.vault_url}/keys/c/{version}"
    assert wire.get("/keys").get_json()["value"][0]["managed"] is True
    create(wire, "c")
    assert wire.get("/secrets/c").get_json()["previousVersion"] == version


def test_direct_changes_to_the_key_and_secret_are_refused(wire):
    create(wire, "c")
    managed = 'Operation "{}" is not allowed as this object\'s lifetime is managed by Key Vault.'
    assert_error(
        wire.put("/secrets/c", body={"value": "x"}), 403, "Forbidden", managed.format("set"), "SecretManagedByKeyVault"
    )
    cases = [
        (wire.patch, "/secrets/c/", {"enabled": False}, "update", "SecretManagedByKeyVault"),
        (wire.delete, "/secrets/c", None, "delete", "SecretManagedByKeyVault"),
        (wire.post, "/secrets/c/backup", None, "backup", "SecretManagedByKeyVault"),
        (wire.post, "/keys/c/create", {"kty": "EC"}, "create", "KeyManagedByKeyVault"),
        (wire.patch, "/keys/c/", {"attributes": {"enabled": False}}, "update", "KeyManagedByKeyVault"),
        (wire.delete, "/keys/c", None, "delete", "KeyManagedByKeyVault"),
        (wire.post, "/keys/c/rotate", None, "rotate", "KeyManagedByKeyVault"),
        (wire.post, "/keys/c/backup", None, "backup", "KeyManagedByKeyVault"),
    ]
    for method, path, body, operation, inner in cases:
        assert_error(method(path, body=body), 403, "Forbidden", managed.format(operation), inner)
    assert wire.get("/secrets/c").get_json()["managed"] is True


def test_plain_key_or_secret_names_are_not_taken_over(wire):
    assert wire.put("/secrets/taken", body={"value": "v"}).status_code == 200
    assert_error(wire.post("/certificates/taken/create", body={"policy": policy()}), 409, "Conflict")
    assert wire.post("/keys/k/create", body={"kty": "EC"}).status_code == 200
    assert_error(wire.post("/certificates/k/create", body={"policy": policy()}), 409, "Conflict")


def test_out_content_type(wire):
    create(wire, "pfx")
    pem = wire.get("/secrets/pfx?outContentType=application/x-pem-file").get_json()
    assert pem["contentType"] == "application/x-pem-file" and pem["value"].startswith("-----BEGIN PRIVATE KEY-----")
    older = wire.get("/secrets/pfx?outContentType=application/x-pem-file", api_version="7.6").get_json()
    assert older["contentType"] == "application/x-pkcs12"  # the parameter came with 2025-07-01
    create(wire, "pem", policy(secret_props={"contentType": "application/x-pem-file"}))
    refused = wire.get("/secrets/pem?outContentType=application/x-pkcs12")
    assert_error(refused, 400, "BadParameter")


# -- lifecycle --------------------------------------------------------------------------------------------------


@pytest.mark.keyvault(enable_soft_delete=False)
def test_without_soft_delete_the_key_and_secret_go_at_once(wire):
    create(wire, "c")
    deleted = wire.delete("/certificates/c").get_json()
    assert "recoveryId" not in deleted and "policy" in deleted
    for path in ("/certificates/c", "/keys/c", "/secrets/c"):
        assert wire.get(path).status_code == 404
    assert wire.get("/deletedsecrets/c").status_code == 404
    create(wire, "c")


@pytest.mark.keyvault(enable_purge_protection=True)
def test_purge_protection(wire):
    create(wire, "c")
    wire.delete("/certificates/c")
    assert_error(wire.delete("/deletedcertificates/c"), 403, "Forbidden")
    assert wire.get("/deletedkeys/c").status_code == 200


def test_deleted_lists_hide_pending_certificates_unless_asked(wire, keyvault):
    create(wire, "ext", policy("Unknown"))
    create(wire, "done")
    for name in ("ext", "done"):
        deleted = wire.delete(f"/certificates/{name}").get_json()
        assert deleted["recoveryId"] == f"{keyvault.vault_url}/deletedcertificates/{name}"
    assert [i["recoveryId"].rsplit("/", 1)[1] for i in wire.get("/deletedcertificates").get_json()["value"]] == ["done"]
    pending = wire.get("/deletedcertificates?includePending=true").get_json()["value"]
    assert [i["id"].rsplit("/", 1)[1] for i in pending] == ["done", "ext"]
    assert_error(wire.get("/certificates/ext/pending"), 404, "PendingCertificateNotFound")
    recovered = wire.post("/deletedcertificates/ext/recover").get_json()
    assert recovered["pending"] and recovered["attributes"]["enabled"] is False


def test_restore_refuses_foreign_or_taken_blobs(wire):
    create(wire, "c")
    blob = wire.post("/certificates/c/backup").get_json()
    assert_error(wire.post("/certificates/restore", body=blob), 409, "Conflict")
    secret_blob = wire.post("/secrets/plain/backup")
    assert secret_blob.status_code == 404
    wire.put("/secrets/plain", body={"value": "v"})
    secret_blob = wire.post("/secrets/plain/backup").get_json()
    assert_error(wire.post("/certificates/restore", body=secret_blob), 400, "Malformed backup blob")


# -- contacts and issuers ---------------------------------------------------------------------------------------


def test_contacts_bodies(wire, keyvault):
    assert_error(wire.get("/certificates/contacts"), 404, "ContactsNotFound")
    body = {"contacts": [{"email": "admin@contoso.com", "name": "John Doe", "phone": "1111111111"}]}
    answer = wire.put("/certificates/contacts", body=body).get_json()
    assert answer == {"id": f"{keyvault.vault_url}/certificates/contacts", **body}
    assert wire.get("/certificates/contacts").get_json() == answer
    assert wire.delete("/certificates/contacts").get_json() == answer
    assert_error(wire.delete("/certificates/contacts"), 404, "ContactsNotFound")
    assert_error(wire.put("/certificates/contacts", body={"contacts": "x"}), 400, "BadParameter")


def test_issuer_bodies(wire, keyvault):
    body = {
        "provider": "Test",
        "credentials": {"account_id": "keyvaultuser", "pwd": "password"},
        "org_details": {"admin_details": [{"first_name": "John", "last_name": "Doe", "email": "a@b.c", "phone": "1"}]},
    }
    answer = wire.put("/certificates/issuers/issuer01", body=body).get_json()
    assert answer["id"] == f"{keyvault.vault_url}/certificates/issuers/issuer01"
    assert answer["credentials"] == {"account_id": "keyvaultuser"}  # the password is never shown
    assert answer["org_details"] == {"zip": 0, "admin_details": body["org_details"]["admin_details"]}  # as recorded
    assert answer["attributes"]["enabled"] is True
    patched = wire.patch("/certificates/issuers/issuer01", body={"credentials": {"account_id": "u2"}}).get_json()
    assert patched["credentials"] == {"account_id": "u2"} and patched["provider"] == "Test"
    assert wire.get("/certificates/issuers").get_json() == {
        "value": [{"id": answer["id"], "provider": "Test"}],
        "nextLink": None,
    }
    assert wire.delete("/certificates/issuers/issuer01").get_json()["provider"] == "Test"
    missing = wire.get("/certificates/issuers/issuer01")
    assert_error(missing, 404, "CertificateIssuerNotFound", "Issuer not found")  # recorded, js SDK 2021
    # An update names the issuer: "Issuer notexist not found" (recorded traffic, issue 19).
    missing = wire.patch("/certificates/issuers/issuer01", body={})
    assert_error(missing, 404, "CertificateIssuerNotFound", "Issuer issuer01 not found")
    assert_error(wire.put("/certificates/issuers/nope", body={}), 400, "BadParameter")


def test_a_certificate_signed_by_a_named_issuer_has_the_test_ca_chain(wire, store):
    wire.put("/certificates/issuers/digi", body={"provider": "DigiCert"})
    create(wire, "c", policy("digi"))
    assert wire.get("/certificates/c/pending").get_json()["status"] == "completed"
    leaf = x509.load_der_x509_certificate(base64.b64decode(wire.get("/certificates/c").get_json()["cer"]))
    authority = store.certificate_authority
    leaf.verify_directly_issued_by(authority.issuing_certificate)
    authority.issuing_certificate.verify_directly_issued_by(store.ca_certificate)
    assert isinstance(store.ca_certificate.public_key(), ec.EllipticCurvePublicKey)
    assert x509.load_pem_x509_certificate(authority.pem) == store.ca_certificate


def test_the_retention_period_purges_the_key_and_secret_with_the_certificate(wire, keyvault):
    keyvault.clock.freeze()
    create(wire, "c")
    wire.delete("/certificates/c")
    keyvault.clock.advance(days=91)
    for path in ("/deletedcertificates/c", "/deletedkeys/c", "/deletedsecrets/c"):
        assert wire.get(path).status_code == 404
    create(wire, "c")


def test_direct_access_polls_and_merges_without_http(store):
    store.pending_polls = 1
    operation = store.create("direct", {"x509_props": {"subject": "CN=d"}, "issuer": {"name": "Unknown"}})
    assert store.get_operation("direct").status == "inProgress"
    ca = make_ca()
    leaf = sign(operation.csr_request.public_key(), operation.csr_request.subject, ca)
    merged = store.merge("direct", [der(leaf)])
    assert merged.payload.x509 == leaf and store.poll("direct").status == "completed"
    store.create("self-made")  # Self, CN=self-made: the first poll completes it
    assert store.get("self-made").payload.pending
    assert store.poll("self-made").status == "inProgress" and store.poll("self-made").status == "completed"
    assert store.get("self-made").payload.x509.subject.rfc4514_string() == "CN=self-made"


def test_create_answers_202_with_location_and_retry_after(wire, keyvault):
    response = wire.post(
        "/certificates/c/create", body={"policy": {"issuer": {"name": "Self"}, "x509_props": {"subject": "CN=c"}}}
    )
    assert response.status_code == 202
    assert response.headers["Location"] == f"{keyvault.vault_url}/certificates/c/pending?api-version=2026-04-01"
    assert response.headers["Retry-After"] == "10"


@pytest.mark.keyvault(certificate_pending_polls=2, virtual_time=True)
def test_pending_polls_setting_keeps_the_poller_waiting_on_virtual_time(keyvault, no_real_sleep):
    from azure.keyvault.certificates import CertificateClient, CertificatePolicy

    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    started = keyvault.clock.time()
    certificate = client.begin_create_certificate("c", CertificatePolicy.get_default()).result()
    assert certificate.name == "c" and certificate.cer
    polls = keyvault.requests.filter("GetCertificateOperation")
    assert len(polls) == 3  # two "inProgress" answers, then "completed"
    assert keyvault.clock.time() - started >= 10  # the poller's 5 s sleeps, spent on the emulator's clock


@pytest.mark.parametrize("name", ["bad_name", "x" * 128])
def test_bad_certificate_names_are_refused_and_nothing_is_made(wire, keyvault, name):
    response = wire.post(f"/certificates/{name}/create", body={"policy": {"issuer": {"name": "Self"}}})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == f"The request URI contains an invalid name: {name}"
    vault = keyvault.vault()
    assert name not in vault.certificates and name not in vault.keys and name not in vault.secrets


def test_too_many_tags_on_create_are_refused(wire, keyvault):
    tags = {f"t{i}": "v" for i in range(16)}
    response = wire.post("/certificates/c/create", body={"policy": {"issuer": {"name": "Self"}}, "tags": tags})
    assert response.status_code == 400
    assert "c" not in keyvault.vault().certificates
