"""Secure key release, key attestation and secure wrap/unwrap, against the emulator's attestation service.

Run with ``python -m pytest examples/test_key_release.py``. The vaults of an emulator trust one stand-in for
Microsoft Azure Attestation, ``keyvault.attestation``: ``issue_token(claims)`` gives the test a token with the
claims it chooses (and a fresh transfer key, as a trusted execution environment would hold), and
``unwrap_released_key`` opens what the vault releases, as that environment would.
"""

from __future__ import annotations

import json

import jwt
import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient, KeyExportEncryptionAlgorithm, KeyReleasePolicy
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from cryptography.hazmat.primitives import serialization
from werkzeug.test import Client

from kv_emulator.objects.attestation import unwrap_released_key
from kv_emulator.objects.key_material import b64url_decode


def release_policy(authority: str) -> KeyReleasePolicy:
    """Release only to a confidential VM (SEV-SNP) attested by ``authority``."""
    policy = {
        "version": "1.0.0",
        "anyOf": [{"authority": authority, "allOf": [{"claim": "x-ms-attestation-type", "equals": "sevsnpvm"}]}],
    }
    return KeyReleasePolicy(json.dumps(policy).encode())


def pkcs8(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def client(keyvault) -> KeyClient:
    return KeyClient(keyvault.vault_url, keyvault.credential)


def test_exportable_keys_need_a_release_policy(client):
    with pytest.raises(HttpResponseError) as refused:
        client.create_rsa_key("k", exportable=True)
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.message == "AKV.SKR.1004: Exportable keys must have release policy."


def test_release_a_key_to_an_attested_environment(keyvault, client):
    key = client.create_rsa_key("k", exportable=True, release_policy=release_policy(keyvault.attestation.issuer))
    assert key.properties.exportable is True

    token = keyvault.attestation.issue_token({"x-ms-attestation-type": "sevsnpvm"})
    result = client.release_key("k", token.jwt)

    # The answer is a JWS signed by the vault's side: check it with the attestation service's public key.
    claims = jwt.decode(result.value, keyvault.attestation.public_key, algorithms=["RS256"])
    assert claims["request"]["kid"] == key.id

    # Inside, the key is wrapped for the token's transfer key. Unwrapped: the private key, PKCS#8 DER.
    released = unwrap_released_key(result.value, token.transfer_key)
    assert released == pkcs8(keyvault.vault().keys.get("k").payload.material.key)
    private = serialization.load_der_private_key(released, password=None)
    assert private.public_key().public_numbers().n == int.from_bytes(key.key.n, "big")


def test_a_token_that_does_not_satisfy_the_policy_is_refused(keyvault, client):
    client.create_ec_key("k", exportable=True, release_policy=release_policy(keyvault.attestation.issuer))
    token = keyvault.attestation.issue_token({"x-ms-attestation-type": "tdxvm"})  # the wrong kind of TEE
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", token.jwt)
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "Forbidden"

    with pytest.raises(HttpResponseError) as forged:  # a token the attestation service did not sign
        client.release_key("k", "eyJhbGciOiJub25lIn0.e30.")
    assert forged.value.error is not None
    assert forged.value.error.message == "Target environment attestation statement cannot be verified."


def test_key_attestation_for_hsm_keys(keyvault, client):
    key = client.create_rsa_key("k", hardware_protected=True)
    attestation = client.get_key_attestation("k").properties.attestation
    assert attestation is not None and attestation.version == "1.0"
    assert attestation.certificate_pem_file.startswith(b"-----BEGIN CERTIFICATE-----")

    # Each statement is a JWS of the attestation service; the public one carries the key's JWK.
    assert attestation.public_key_attestation is not None
    statement = jwt.decode(attestation.public_key_attestation, keyvault.attestation.public_key, algorithms=["RS256"])
    assert statement["kid"] == key.id and statement["hsm"] is True

    client.create_rsa_key("software")
    with pytest.raises(HttpResponseError) as refused:  # only hardware-protected keys have an attestation
        client.get_key_attestation("software")
    assert refused.value.status_code == 400


def test_secure_wrap_and_unwrap_over_raw_http(keyvault, client):
    """The Python SDK has no method for these two (api-version 2026-04-01), so speak HTTP to the app."""
    client.create_rsa_key("kek")
    wire = Client(keyvault.app)
    headers = {"Authorization": "Bearer anything"}

    # securewrapkey: the vault makes a fresh AES-256 key and hands it out wrapped with the vault key.
    wrapped = wire.post(
        "/keys/kek//securewrapkey?api-version=2026-04-01",  # an empty version segment: the latest
        base_url=keyvault.vault_url,
        headers=headers,
        json={"alg": "RSA-OAEP-256"},
    ).json
    assert wrapped["kid"].startswith(f"{keyvault.vault_url}/keys/kek/")

    # secureunwrapkey: unwrapped only for a target with a valid attestation token.
    body = {"alg": "RSA-OAEP-256", "value": wrapped["value"], "target": keyvault.attestation.issue_token().jwt}
    unwrapped = wire.post(
        "/keys/kek//secureunwrapkey?api-version=2026-04-01", base_url=keyvault.vault_url, headers=headers, json=body
    )
    assert unwrapped.status_code == 200
    assert len(b64url_decode(unwrapped.json["value"])) == 32


@pytest.mark.asyncio
async def test_release_with_the_async_client(keyvault):
    policy = release_policy(keyvault.attestation.issuer)
    token = keyvault.attestation.issue_token({"x-ms-attestation-type": "sevsnpvm"})
    async with AsyncKeyClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.create_ec_key("k", curve="P-384", exportable=True, release_policy=policy)
        result = await client.release_key("k", token.jwt, algorithm=KeyExportEncryptionAlgorithm.rsa_aes_key_wrap_256)

    released = unwrap_released_key(result.value, token.transfer_key)
    assert released == pkcs8(keyvault.vault().keys.get("k").payload.material.key)


def test_release_with_a_token_fetched_over_http(keyvault, client):
    """The attestation service also answers over HTTP at its host, like the Azure SDKs' test attestation
    service: ``GET /generate-test-token`` gives a token with the claim ``"sdk-test": true``."""
    import requests

    sdk_test_rule = {"authority": keyvault.attestation.issuer, "allOf": [{"claim": "sdk-test", "equals": True}]}
    policy = KeyReleasePolicy(json.dumps({"version": "1.0.0", "anyOf": [sdk_test_rule]}).encode())
    client.create_rsa_key("k", exportable=True, release_policy=policy)

    token = requests.get(f"{keyvault.attestation.issuer}/generate-test-token", timeout=5).json()["token"]
    assert client.release_key("k", token).value
