"""Issue 19 item 17: the attestation host answers Microsoft Azure Attestation's SGX calls (set/get/reset
policy, attest OpenEnclave and SgxEnclave) with the service's request and response shapes, and its tokens
release keys from the emulated vaults and Managed HSMs.

Evidence for the shapes: the service's REST API 2020-10-01 and 2022-08-01 as the Azure SDKs' generated
attestation clients send and read it (@azure/attestation 1.0.0 and azure-security-attestation 1.0.0,
2021): ``PUT /policies/{type}`` takes a JWS whose body is ``{"AttestationPolicy": base64url(text)}`` and
answers ``{"token"}`` whose body is a ``PolicyResult`` (``x-ms-policy-result``, ``x-ms-policy-token-hash``,
``x-ms-policy``); ``POST /attest/OpenEnclave`` takes ``{report, runtimeData{data, dataType}, initTimeData,
draftPolicyForAttestation, nonce}`` and answers ``{"token"}`` with the SGX claims (``x-ms-attestation-type``,
``x-ms-sgx-*``, ``x-ms-runtime``, ``x-ms-policy-hash``, ``x-ms-ver``). The claims' meaning and the policy
hash's definition: learn.microsoft.com "Claim sets" and "Examples of an attestation policy" (2022).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
import pytest
from attestation_support import MRSIGNER, oe_report
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient, KeyReleasePolicy
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.security.attestation import AttestationAdministrationClient, AttestationClient, AttestationType
from azure.security.attestation.aio import AttestationClient as AsyncAttestationClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests_support import self_signed
from werkzeug.test import Client

from kv_emulator.objects.attestation import unwrap_released_key
from kv_emulator.objects.attestation_policy import DEFAULT_SGX_POLICY

AUTHORITY = "https://kv-emulator.attest.azure.net"
HSM = "https://contoso-hsm.managedhsm.azure.net"
API = "?api-version=2022-08-01"
# The policy of the JavaScript SDK's Managed HSM sample (keyvault-keys samples/v4 attestationUtils, 2025).
SAMPLE_POLICY = (
    'version=1.0; authorizationrules{=> permit();}; issuancerules{=> issue(type="sdk-test", value="true");};'
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsecured_policy(text: str) -> str:
    return jwt.encode({"AttestationPolicy": b64url(text.encode())}, None, algorithm="none")


def transfer_jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": "enclave-transfer-key", "key_ops": ["encrypt"]}]}


@pytest.fixture
def http(keyvault):
    return Client(keyvault.attestation_app)


def verified(http: Client, token: str) -> dict[str, Any]:
    """The token's claims, its signature checked against the key ``/certs`` publishes, as clients do."""
    [key] = http.get("/certs", base_url=AUTHORITY).get_json()["keys"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], issuer=AUTHORITY)


def set_policy(http: Client, text: str, kind: str = "OpenEnclave") -> Any:
    return http.put(
        f"/policies/{kind}{API}", base_url=AUTHORITY, data=unsecured_policy(text), content_type="text/plain"
    )


def attest(http: Client, body: dict[str, Any], kind: str = "OpenEnclave") -> Any:
    return http.post(f"/attest/{kind}{API}", base_url=AUTHORITY, json=body)


def test_set_get_and_reset_policy(http):
    document = unsecured_policy(SAMPLE_POLICY)
    response = http.put(f"/policies/OpenEnclave{API}", base_url=AUTHORITY, data=document, content_type="text/plain")
    assert response.status_code == 200 and response.mimetype == "application/json"
    result = verified(http, response.get_json()["token"])
    assert result["x-ms-policy-result"] == "Updated"
    # The Python SDK's own sample checks the hash this way: SHA-256 of the JWS it sent, base64url.
    assert result["x-ms-policy-token-hash"] == b64url(hashlib.sha256(document.encode()).digest())
    stored = jwt.decode(result["x-ms-policy"], options={"verify_signature": False})
    assert base64.urlsafe_b64decode(stored["AttestationPolicy"] + "==").decode() == SAMPLE_POLICY

    current = verified(http, http.get(f"/policies/OpenEnclave{API}", base_url=AUTHORITY).get_json()["token"])
    assert jwt.decode(current["x-ms-policy"], options={"verify_signature": False}) == stored

    reset = http.post(f"/policies/OpenEnclave:reset{API}", base_url=AUTHORITY, data=jwt.encode({}, None, "none"))
    assert verified(http, reset.get_json()["token"])["x-ms-policy-result"] == "Removed"
    current = verified(http, http.get(f"/policies/OpenEnclave{API}", base_url=AUTHORITY).get_json()["token"])
    policy = jwt.decode(current["x-ms-policy"], options={"verify_signature": False})["AttestationPolicy"]
    assert base64.urlsafe_b64decode(policy + "==").decode() == DEFAULT_SGX_POLICY


def test_attest_open_enclave_answers_the_sgx_claims(http):
    jwks = transfer_jwks(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    runtime = json.dumps(jwks).encode()
    body = {
        "report": b64url(oe_report()),
        "runtimeData": {"data": b64url(runtime), "dataType": "JSON"},
        "nonce": "n-17",
    }
    response = attest(http, body)
    assert response.status_code == 200 and set(response.get_json()) == {"token"}
    claims = verified(http, response.get_json()["token"])
    assert jwt.get_unverified_header(response.get_json()["token"])["jku"] == f"{AUTHORITY}/certs"
    assert claims["x-ms-attestation-type"] == "sgx" and claims["x-ms-ver"] == "1.0"
    assert claims["x-ms-sgx-is-debuggable"] is True and claims["x-ms-sgx-mrsigner"] == MRSIGNER.hex()
    assert claims["x-ms-sgx-mrenclave"] == hashlib.sha256(b"enclave code").hexdigest()
    assert (claims["x-ms-sgx-product-id"], claims["x-ms-sgx-svn"]) == (7, 3)
    assert claims["x-ms-runtime"] == jwks and claims["x-ms-sgx-ehd"] == b64url(runtime)
    assert claims["nonce"] == "n-17" and claims["exp"] - claims["iat"] == 8 * 3600
    # The default SGX policy's issuance rules copy the measurements into the short names.
    assert (claims["is-debuggable"], claims["sgx-mrsigner"], claims["tee"]) == (True, MRSIGNER.hex(), "sgx")
    # x-ms-policy-hash: BASE64URL(SHA256(UTF8(BASE64URL(UTF8(policy text))))) (learn.microsoft.com, 2022)
    assert claims["x-ms-policy-hash"] == b64url(hashlib.sha256(b64url(DEFAULT_SGX_POLICY.encode()).encode()).digest())


def test_attest_sgx_enclave_reads_a_bare_quote(http):
    quote = oe_report(debuggable=False, product_id=1)[16:]
    claims = verified(http, attest(http, {"quote": b64url(quote)}, kind="SgxEnclave").get_json()["token"])
    assert claims["x-ms-sgx-is-debuggable"] is False and claims["x-ms-sgx-product-id"] == 1


def test_bytes_that_are_no_sgx_report_stand_for_a_debuggable_enclave(http):
    claims = verified(http, attest(http, {"report": b64url(b"not an enclave report")}).get_json()["token"])
    assert claims["x-ms-sgx-is-debuggable"] is True
    assert claims["x-ms-sgx-mrenclave"] == hashlib.sha256(b"not an enclave report").hexdigest()


def test_policy_rules_issue_claims_and_decide(http):
    assert set_policy(http, SAMPLE_POLICY).status_code == 200
    claims = verified(http, attest(http, {"report": b64url(oe_report())}).get_json()["token"])
    assert claims["sdk-test"] == "true" and "is-debuggable" not in claims
    production_only = (
        'version=1.0; authorizationrules{ c:[type=="x-ms-sgx-is-debuggable", value==false] => permit(); };'
        ' issuancerules{ c:[type=="x-ms-sgx-svn"] => issue(type="enclave-svn", value=c.value); };'
    )
    assert set_policy(http, production_only).status_code == 200
    denied = attest(http, {"report": b64url(oe_report(debuggable=True))})
    assert denied.status_code == 400 and denied.get_json()["error"]["code"] == "PolicyEvaluationError"
    allowed = attest(http, {"report": b64url(oe_report(debuggable=False, svn=9))})
    assert verified(http, allowed.get_json()["token"])["enclave-svn"] == 9
    # Policies are per attestation type: SgxEnclave keeps the default.
    assert attest(http, {"quote": b64url(oe_report()[16:])}, kind="SgxEnclave").status_code == 200


def test_a_draft_policy_answers_an_unsigned_token(http):
    response = attest(http, {"report": b64url(oe_report()), "draftPolicyForAttestation": SAMPLE_POLICY})
    token = response.get_json()["token"]
    assert jwt.get_unverified_header(token)["alg"] == "none"
    assert jwt.decode(token, options={"verify_signature": False})["sdk-test"] == "true"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({}, "report"),
        ({"report": "***"}, "base64url"),
        ({"report": "AAAA", "runtimeData": {"data": "AAAA", "dataType": "Xml"}}, "dataType"),
        ({"report": "AAAA", "runtimeData": {"data": b64url(b"{oops"), "dataType": "JSON"}}, "JSON"),
        ({"report": "AAAA", "draftPolicyForAttestation": "version=1.0; authorizationrules{ => maybe(); };"}, "maybe"),
    ],
)
def test_malformed_attestation_requests_are_400(http, body, text):
    response = attest(http, body)
    assert response.status_code == 400
    assert text in response.get_json()["error"]["message"]


def test_malformed_policies_are_400(http):
    unreadable = set_policy(http, 'version=1.0; authorizationrules{ exists([type=="a"]) => permit(); };')
    assert unreadable.status_code == 400 and unreadable.get_json()["error"]["code"] == "PolicyParsingError"
    not_a_jws = http.put(f"/policies/OpenEnclave{API}", base_url=AUTHORITY, data="version=1.0;")
    assert not_a_jws.status_code == 400 and not_a_jws.get_json()["error"]["code"] == "InvalidParameter"
    assert set_policy(http, SAMPLE_POLICY, kind="Nonsense").status_code == 400
    assert attest(http, {"report": "AAAA"}, kind="Tpm").status_code == 404


# -- through the Azure SDK: attest, then release from a Managed HSM -------------------------------------


def sample_release_policy() -> KeyReleasePolicy:
    """The release policy of the JavaScript SDK's Managed HSM sample: a rule whose claims are an anyOf."""
    rule = {"anyOf": [{"claim": "sdk-test", "equals": "true"}], "authority": AUTHORITY}
    return KeyReleasePolicy(json.dumps({"anyOf": [rule], "version": "1.0.0"}).encode())


def releasable(hsm: KeyClient, name: str) -> Any:
    return hsm.create_rsa_key(name, hardware_protected=True, exportable=True, release_policy=sample_release_policy())


def test_sdk_attests_and_a_managed_hsm_releases_to_the_enclave_key(keyvault):
    admin = AttestationAdministrationClient(AUTHORITY, keyvault.credential)
    result, _ = admin.set_policy(AttestationType.OPEN_ENCLAVE, SAMPLE_POLICY)
    assert result.policy_resolution == "Updated"
    enclave_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    runtime = json.dumps(transfer_jwks(enclave_key)).encode()
    attested, token = AttestationClient(AUTHORITY, keyvault.credential).attest_open_enclave(
        oe_report(), runtime_json=runtime
    )
    assert attested.mr_signer == MRSIGNER.hex() and attested.is_debuggable is True
    assert attested.runtime_claims == json.loads(runtime)

    hsm = KeyClient(HSM, keyvault.credential)
    key = releasable(hsm, "released")
    released = hsm.release_key("released", token.to_jwt_string())
    private = serialization.load_der_private_key(unwrap_released_key(released.value, enclave_key), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.public_key().public_numbers().n == int.from_bytes(key.key.n, "big")


def test_without_runtime_data_the_emulator_holds_the_enclave_key(keyvault):
    AttestationAdministrationClient(AUTHORITY, keyvault.credential).set_policy(
        AttestationType.OPEN_ENCLAVE, SAMPLE_POLICY
    )
    _, token = AttestationClient(AUTHORITY, keyvault.credential).attest_open_enclave(oe_report())
    jwt_string = token.to_jwt_string()
    hsm = KeyClient(HSM, keyvault.credential)
    key = releasable(hsm, "released")
    released = hsm.release_key("released", jwt_string)
    transfer_key = keyvault.attestation.transfer_key(jwt_string)
    assert transfer_key is not None
    private = serialization.load_der_private_key(unwrap_released_key(released.value, transfer_key), None)
    assert private.public_key().public_numbers().n == int.from_bytes(key.key.n, "big")  # type: ignore[union-attr]


def test_release_refuses_tokens_the_policy_does_not_accept(keyvault, http):
    hsm = KeyClient(HSM, keyvault.credential)
    releasable(hsm, "k")
    default_policy_token = attest(http, {"report": b64url(oe_report())}).get_json()["token"]  # no sdk-test claim
    draft_token = attest(http, {"report": b64url(oe_report()), "draftPolicyForAttestation": SAMPLE_POLICY})
    for token in (default_policy_token, draft_token.get_json()["token"]):  # the draft's token is unsigned
        with pytest.raises(HttpResponseError) as refused:
            hsm.release_key("k", token)
        assert refused.value.status_code == 403


def test_a_signed_policy_names_its_signer(http):
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = self_signed(signing_key, "policy signer").public_bytes(serialization.Encoding.DER)
    x5c = [base64.b64encode(der).decode()]
    body = {"AttestationPolicy": b64url(SAMPLE_POLICY.encode())}
    document = jwt.encode(body, signing_key, algorithm="RS256", headers={"x5c": x5c})
    response = http.put(f"/policies/OpenEnclave{API}", base_url=AUTHORITY, data=document, content_type="text/plain")
    assert verified(http, response.get_json()["token"])["x-ms-policy-signer"]["x5c"] == x5c
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(body, forger, algorithm="RS256", headers={"x5c": x5c})
    refused = http.put(f"/policies/OpenEnclave{API}", base_url=AUTHORITY, data=forged, content_type="text/plain")
    assert refused.status_code == 400 and "x5c" in refused.get_json()["error"]["message"]


async def test_async_sdk_attests_and_a_managed_hsm_releases(keyvault):
    enclave_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    runtime = json.dumps(transfer_jwks(enclave_key)).encode()
    async with AsyncAttestationClient(AUTHORITY, keyvault.async_credential) as client:
        _, token = await client.attest_open_enclave(oe_report(), runtime_json=runtime)
    policy = {"anyOf": [{"authority": AUTHORITY, "allOf": [{"claim": "x-ms-sgx-mrsigner", "equals": MRSIGNER.hex()}]}]}
    async with AsyncKeyClient(HSM, keyvault.async_credential) as hsm:
        await hsm.create_ec_key(
            "k", hardware_protected=True, exportable=True, release_policy=KeyReleasePolicy(json.dumps(policy).encode())
        )
        released = await hsm.release_key("k", token.to_jwt_string())
    assert serialization.load_der_private_key(unwrap_released_key(released.value, enclave_key), None)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        # add() makes a claim later rules see without issuing it; && needs both matches.
        (
            "authorizationrules{ => permit(); }; issuancerules{"
            ' c:[type=="x-ms-sgx-svn", value!=0] => add(type="patched", value=true);'
            ' c1:[type=="patched"] && c2:[type=="x-ms-sgx-product-id"] => issue(type="product", value=c2.value); };',
            {"product": 7},
        ),
        # deny() wins over permit(); comments are ignored.
        (
            "authorizationrules{ => permit(); // everyone\n"
            ' c:[type=="x-ms-sgx-is-debuggable", value==true] => deny(); }; issuancerules{};',
            None,
        ),
        # No permit() that holds: denied.
        ('authorizationrules{ c:[type=="x-ms-sgx-svn", value==99] => permit(); };', None),
        # configurationrules are read and ignored.
        ('configurationrules{ => issueproperty(type="x", value=1); }; authorizationrules{ => permit(); };', {}),
    ],
)
def test_policy_language_subset(http, rules, expected):
    response = attest(http, {"report": b64url(oe_report()), "draftPolicyForAttestation": f"version=1.0; {rules}"})
    if expected is None:
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "PolicyEvaluationError"
        return
    claims = jwt.decode(response.get_json()["token"], options={"verify_signature": False})
    assert "patched" not in claims
    assert {name: claims[name] for name in expected} == expected
