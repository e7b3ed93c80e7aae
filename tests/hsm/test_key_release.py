"""Secure key release against the emulated attestation authority; key attestation; secure wrap/unwrap."""

from __future__ import annotations

import json

import jwt
import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient, KeyReleasePolicy
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests_support import error_of

from kv_emulator.objects.attestation import unwrap_released_key
from kv_emulator.objects.key_material import b64url_decode, b64url_encode


def _policy(authority: str, claim: str = "sdk-test", equals: object = True) -> KeyReleasePolicy:
    document = {"version": "1.0.0", "anyOf": [{"authority": authority, "allOf": [{"claim": claim, "equals": equals}]}]}
    return KeyReleasePolicy(json.dumps(document).encode())


@pytest.fixture
def client(keyvault):
    return KeyClient(keyvault.vault_url, keyvault.credential)


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_release_hands_the_key_to_an_attested_target(client, keyvault, kind):
    policy = _policy(keyvault.attestation.issuer)
    if kind == "rsa":
        key = client.create_rsa_key("k", exportable=True, release_policy=policy)
    else:
        key = client.create_ec_key("k", curve="P-384", exportable=True, release_policy=policy)
    token = keyvault.attestation.issue_token({"sdk-test": True})
    result = client.release_key("k", token.jwt, nonce="n-1")
    header = jwt.get_unverified_header(result.value)
    claims = jwt.decode(result.value, keyvault.attestation.public_key, algorithms=["RS256"])  # signature holds
    assert header["alg"] == "RS256" and header["x5c"]
    assert claims["request"]["nonce"] == "n-1" and claims["request"]["kid"] == key.id
    released = serialization.load_der_private_key(unwrap_released_key(result.value, token.transfer_key), None)
    if kind == "rsa":
        assert isinstance(released, rsa.RSAPrivateKey)
        assert released.public_key().public_numbers().n == int.from_bytes(key.key.n, "big")
    else:
        assert isinstance(released, ec.EllipticCurvePrivateKey)
        assert released.public_key().public_numbers().x == int.from_bytes(key.key.x, "big")


@pytest.mark.parametrize("enc", ["RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384"])
def test_release_with_each_wrapping_algorithm(client, keyvault, enc):
    client.create_rsa_key("k", exportable=True, release_policy=_policy(keyvault.attestation.issuer))
    token = keyvault.attestation.issue_token({"sdk-test": True})
    result = client.release_key("k", token.jwt, algorithm=enc)
    assert serialization.load_der_private_key(unwrap_released_key(result.value, token.transfer_key), None)


def test_release_refuses_a_token_that_does_not_satisfy_the_policy(client, keyvault):
    client.create_rsa_key("k", exportable=True, release_policy=_policy(keyvault.attestation.issuer))
    for claims in ({"sdk-test": False}, {}):
        with pytest.raises(HttpResponseError) as refused:
            client.release_key("k", keyvault.attestation.issue_token(claims).jwt)
        assert refused.value.status_code == 403 and refused.value.error.code == "Forbidden"


def test_release_refuses_a_forged_or_expired_token(client, keyvault):
    client.create_rsa_key("k", exportable=True, release_policy=_policy(keyvault.attestation.issuer))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": keyvault.attestation.issuer, "sdk-test": True}, forger, algorithm="RS256")
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", forged)
    assert refused.value.error.message == "Target environment attestation statement cannot be verified."
    token = keyvault.attestation.issue_token({"sdk-test": True})
    keyvault.clock.advance(hours=9)  # tokens live 8 hours on the emulator's clock
    with pytest.raises(HttpResponseError) as expired:
        client.release_key("k", token.jwt)
    assert expired.value.status_code == 403


def test_policy_from_another_authority_is_not_satisfied(client, keyvault):
    client.create_rsa_key("k", exportable=True, release_policy=_policy("https://other.attest.azure.net"))
    with pytest.raises(HttpResponseError):
        client.release_key("k", keyvault.attestation.issue_token({"sdk-test": True}).jwt)


def test_non_exportable_key_cannot_be_released(client, keyvault):
    client.create_rsa_key("k")
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", keyvault.attestation.issue_token({"sdk-test": True}).jwt)
    assert refused.value.status_code == 400


def test_exportable_keys_need_a_policy_and_others_must_not_have_one(wire, keyvault):
    response = wire.post("/keys/k/create", body={"kty": "RSA", "attributes": {"exportable": True}})
    assert error_of(response) == {
        "code": "BadParameter",
        "message": "AKV.SKR.1004: Exportable keys must have release policy.",
    }
    policy = {"data": b64url_encode(b'{"anyOf":[]}')}
    response = wire.post("/keys/k/create", body={"kty": "RSA", "release_policy": policy})
    assert error_of(response)["message"] == "AKV.SKR.1005: Non-exportable keys must not have release policy."
    assert "k" not in keyvault.vault().keys


def test_immutable_policy_cannot_change(client, keyvault, wire):
    immutable = _policy(keyvault.attestation.issuer)
    immutable.immutable = True
    client.create_rsa_key("k", exportable=True, release_policy=immutable)
    response = wire.patch("/keys/k/", body={"release_policy": {"data": b64url_encode(b'{"anyOf":[]}')}})
    assert response.status_code == 400
    assert error_of(response)["message"] == "AKV.SKR.1020: Immutable Key Release Policy cannot be modified."


async def test_release_async(keyvault):
    async with AsyncKeyClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.create_rsa_key("k", exportable=True, release_policy=_policy(keyvault.attestation.issuer))
        token = keyvault.attestation.issue_token({"sdk-test": True})
        result = await client.release_key("k", token.jwt)
    assert unwrap_released_key(result.value, token.transfer_key)


def test_key_attestation_for_hsm_keys(client, keyvault):
    key = client.create_rsa_key("k", hardware_protected=True)
    attested = client.get_key_attestation("k")
    attestation = attested.properties.attestation
    assert attested.id == key.id and attestation.version == "1.0"
    assert attestation.certificate_pem_file.startswith(b"-----BEGIN CERTIFICATE-----")
    statement = jwt.decode(attestation.public_key_attestation, keyvault.attestation.public_key, algorithms=["RS256"])
    assert statement["jwk"]["n"] == b64url_encode(key.key.n)
    assert jwt.decode(attestation.private_key_attestation, keyvault.attestation.public_key, algorithms=["RS256"])


def test_key_attestation_refused_for_software_keys(client):
    client.create_rsa_key("soft")
    with pytest.raises(HttpResponseError) as refused:
        client.get_key_attestation("soft")
    assert refused.value.status_code == 400


def test_secure_wrap_and_unwrap(wire, keyvault, client):
    client.create_rsa_key("kek")
    wrapped = wire.post("/keys/kek//securewrapkey", body={"alg": "RSA-OAEP-256"}).get_json()
    assert wrapped["alg"] == "RSA-OAEP-256" and wrapped["kid"].startswith(f"{keyvault.vault_url}/keys/kek/")
    token = keyvault.attestation.issue_token().jwt
    body = {"alg": "RSA-OAEP-256", "value": wrapped["value"], "target": token}
    unwrapped = wire.post("/keys/kek//secureunwrapkey", body=body).get_json()
    assert len(b64url_decode(unwrapped["value"])) == 32
    refused = wire.post("/keys/kek//secureunwrapkey", body={**body, "target": "not-a-token"})
    assert refused.status_code == 403


@pytest.mark.parametrize(
    "rule",
    [
        # The JavaScript SDK's Managed HSM sample writes the rule's claims as an anyOf (samples/v4, 2025).
        {"anyOf": [{"claim": "sdk-test", "equals": "nope"}, {"claim": "sdk-test", "equals": "true"}]},
        {"allOf": [{"claim": "sdk-test", "equals": "true"}, {"anyOf": [{"claim": "x", "equals": 1}]}]},
    ],
)
def test_release_policy_rules_with_any_of_and_nested_conditions(client, keyvault, rule):
    document = {"version": "1.0.0", "anyOf": [{"authority": keyvault.attestation.issuer, **rule}]}
    client.create_rsa_key("k", exportable=True, release_policy=KeyReleasePolicy(json.dumps(document).encode()))
    assert client.release_key("k", keyvault.attestation.issue_token({"sdk-test": "true", "x": 1}).jwt).value
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", keyvault.attestation.issue_token({"sdk-test": True, "x": 2}).jwt)
    assert refused.value.status_code == 403


@pytest.mark.parametrize("rule", [{"anyOf": 5}, {"allOf": "abc"}, {"anyOf": [7]}])
def test_malformed_release_policy_rules_never_hold(client, keyvault, rule):
    document = {"version": "1.0.0", "anyOf": [{"authority": keyvault.attestation.issuer, **rule}, 3]}
    client.create_rsa_key("k", exportable=True, release_policy=KeyReleasePolicy(json.dumps(document).encode()))
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", keyvault.attestation.issue_token({"sdk-test": True}).jwt)
    assert refused.value.status_code == 403
