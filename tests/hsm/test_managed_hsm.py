"""Managed HSM hosts: their own challenge, keys only, every key hardware-backed, oct-HSM and random bytes."""

from __future__ import annotations

import os

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient, KeyType
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm
from tests_support import error_of

HSM = "https://contoso-hsm.managedhsm.azure.net"


def test_challenge_names_the_hsm_resource_with_an_empty_body(hsm_wire, keyvault):
    response = hsm_wire.get("/keys", token=False)
    assert response.status_code == 401
    assert response.data == b""
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{keyvault.settings.tenant_id}", '
        'resource="https://managedhsm.azure.net"'
    )


def test_sdk_reaches_the_hsm_without_settings(keyvault):
    client = KeyClient(HSM, keyvault.credential)
    key = client.create_rsa_key("k")
    assert key.key_type == KeyType.rsa_hsm  # every Managed HSM key is hardware-backed
    assert key.id.startswith(f"{HSM}/keys/k/")
    assert keyvault.vault(HSM).managed_hsm
    assert "k" in keyvault.vault(HSM).keys
    assert "k" not in keyvault.vault().keys  # the HSM is not the default vault


@pytest.mark.parametrize("size", [128, 192, 256])
def test_oct_hsm_keys_encrypt_and_wrap(keyvault, size):
    client = KeyClient(HSM, keyvault.credential)
    key = client.create_oct_key(f"aes{size}", size=size, hardware_protected=True)
    assert key.key_type == KeyType.oct_hsm
    assert key.key.k is None  # symmetric material never leaves the HSM
    crypto = CryptographyClient(key, keyvault.credential)
    gcm = {128: EncryptionAlgorithm.a128_gcm, 192: EncryptionAlgorithm.a192_gcm, 256: EncryptionAlgorithm.a256_gcm}
    sealed = crypto.encrypt(gcm[size], b"plaintext", additional_authenticated_data=b"aad")
    opened = crypto.decrypt(
        gcm[size],
        sealed.ciphertext,
        iv=sealed.iv,
        authentication_tag=sealed.tag,
        additional_authenticated_data=b"aad",
    )
    assert opened.plaintext == b"plaintext"
    kw = {128: KeyWrapAlgorithm.aes_128, 192: KeyWrapAlgorithm.aes_192, 256: KeyWrapAlgorithm.aes_256}
    wrapped = crypto.wrap_key(kw[size], b"k" * 32)
    assert crypto.unwrap_key(kw[size], wrapped.encrypted_key).key == b"k" * 32
    cbc = {
        128: EncryptionAlgorithm.a128_cbcpad,
        192: EncryptionAlgorithm.a192_cbcpad,
        256: EncryptionAlgorithm.a256_cbcpad,
    }
    iv = os.urandom(16)
    sealed = crypto.encrypt(cbc[size], b"any length", iv=iv)
    assert crypto.decrypt(cbc[size], sealed.ciphertext, iv=iv).plaintext == b"any length"


def test_a_vault_refuses_oct_keys(wire):
    response = wire.post("/keys/k/create", body={"kty": "oct"})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BadParameter",
        "message": "Invalid kty value: oct",
        "innererror": {"code": "KeyTypeNotSupported"},
    }


def test_secrets_are_not_on_an_hsm(hsm_wire):
    response = hsm_wire.put("/secrets/s", body={"value": "v"})
    assert response.status_code == 404
    assert error_of(response)["code"] == "NotFound"


def test_random_bytes(keyvault):
    client = KeyClient(HSM, keyvault.credential)
    first, second = client.get_random_bytes(32), client.get_random_bytes(32)
    assert len(first) == 32 and first != second


@pytest.mark.parametrize("count", [0, 129, -1, "8", None])
def test_random_bytes_count_out_of_range(hsm_wire, count):
    response = hsm_wire.post("/rng", body={"count": count})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BadParameter",
        "message": "GetRandomBytesRequest: count cannot be greater than 128 or less than 1",
    }


@pytest.mark.keyvault(sku="standard")
def test_standard_vault_refuses_hsm_keys_but_an_hsm_does_not(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        client.create_rsa_key("k", hardware_protected=True)
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert refused.value.error.message == "Hardware key operation not allowed on standard vault"
    assert "k" not in keyvault.vault().keys
    assert client.create_rsa_key("soft").key_type == KeyType.rsa
    assert KeyClient(HSM, keyvault.credential).create_ec_key("e").key_type == KeyType.ec_hsm


def test_premium_vault_makes_hsm_keys_by_default(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    assert client.create_ec_key("e", hardware_protected=True).key_type == KeyType.ec_hsm
