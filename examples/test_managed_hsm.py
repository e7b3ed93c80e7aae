"""Managed HSM hosts: ``https://<name>.managedhsm.azure.net``, keys only, every key hardware-backed.

Run with ``python -m pytest examples/test_managed_hsm.py``. Any Managed HSM URL is answered, like any vault
URL: point a ``KeyClient`` at it, nothing to configure. It is the only place with symmetric (``oct``) keys.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyType
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient as AsyncCryptographyClient
from azure.keyvault.secrets import SecretClient
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HSM_URL = "https://contoso-hsm.managedhsm.azure.net"


@pytest.fixture
def hsm(keyvault) -> KeyClient:
    return KeyClient(HSM_URL, keyvault.credential)


def test_every_key_on_a_managed_hsm_is_an_hsm_key(keyvault, hsm):
    key = hsm.create_rsa_key("k")  # no hardware_protected=True needed
    assert key.key_type == KeyType.rsa_hsm
    assert key.id.startswith(f"{HSM_URL}/keys/k/")

    assert keyvault.vault(HSM_URL).managed_hsm  # direct access takes the HSM's URL
    assert "k" in keyvault.vault(HSM_URL).keys
    assert "k" not in keyvault.vault().keys  # the default vault is another vault


def test_aes_keys_live_on_a_managed_hsm(keyvault, hsm):
    key = hsm.create_oct_key("aes", size=256)  # 128, 192 or 256 bits
    assert key.key_type == KeyType.oct_hsm
    assert key.key.k is None  # symmetric material never leaves the HSM

    crypto = CryptographyClient(key, keyvault.credential)
    keyvault.requests.clear()
    sealed = crypto.encrypt(EncryptionAlgorithm.a256_gcm, b"payroll", additional_authenticated_data=b"2030-01")
    opened = crypto.decrypt(
        EncryptionAlgorithm.a256_gcm,
        sealed.ciphertext,
        iv=sealed.iv,  # the HSM chose a 12-byte iv and returned it
        authentication_tag=sealed.tag,
        additional_authenticated_data=b"2030-01",
    )
    assert opened.plaintext == b"payroll"
    assert keyvault.requests.operations() == ["encrypt", "decrypt"]  # AES-GCM always runs in the HSM


def test_aes_key_wrap_in_the_hsm_takes_the_ckm_algorithms(keyvault, hsm):
    key = hsm.create_oct_key("kek", size=256)
    crypto = CryptographyClient(key, keyvault.credential)
    data_key = os.urandom(32)
    keyvault.requests.clear()

    # CKM_AES_KEY_WRAP (RFC 3394 with any AES key size) is sent to the HSM, both ways.
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.ckm_aes_key_wrap, data_key)
    assert crypto.unwrap_key(KeyWrapAlgorithm.ckm_aes_key_wrap, wrapped.encrypted_key).key == data_key
    assert keyvault.requests.operations() == ["wrapKey", "unwrapKey"]

    # A256KW is not: the SDK finds no 'k' in the key's JWK, makes up a random local AES key and wraps with
    # that, in your process (it does the same against the real service). Nothing reached the HSM.
    keyvault.requests.clear()
    crypto.wrap_key(KeyWrapAlgorithm.aes_256, data_key)
    assert keyvault.requests.operations() == []


def test_import_an_aes_key_you_hold(keyvault, hsm):
    secret = os.urandom(32)
    key = hsm.import_key("known-aes", JsonWebKey(kty=KeyType.oct, k=secret))
    crypto = CryptographyClient(key, keyvault.credential)

    nonce = os.urandom(12)
    outside = AESGCM(secret).encrypt(nonce, b"sealed outside", None)  # ciphertext || 16-byte tag
    opened = crypto.decrypt(EncryptionAlgorithm.a256_gcm, outside[:-16], iv=nonce, authentication_tag=outside[-16:])
    assert opened.plaintext == b"sealed outside"


def test_hsm_specifics_rsa_exponents_hmac_and_cbc_zero_padding(keyvault, hsm):
    # Any odd RSA public exponent (a vault ignores public_exponent and makes e = 65537).
    assert hsm.create_rsa_key("e17", public_exponent=17).key.e == b"\x11"

    # HMAC with an oct-HSM key whose key_ops allow sign and verify.
    mac_key = hsm.create_oct_key("mac", size=256, key_operations=["sign", "verify"])
    mac = CryptographyClient(mac_key, keyvault.credential)
    digest = hashlib.sha256(b"message").digest()
    tag = mac.sign(SignatureAlgorithm.hs256, digest).signature
    assert mac.verify(SignatureAlgorithm.hs256, digest, tag).is_valid

    # AES-CBC without PAD zero-pads to the block size; decrypt returns the zeros too.
    aes = CryptographyClient(hsm.create_oct_key("cbc", size=256), keyvault.credential)
    sealed = aes.encrypt(EncryptionAlgorithm.a256_cbc, b"17 bytes of data!", iv=bytes(16))
    opened = aes.decrypt(EncryptionAlgorithm.a256_cbc, sealed.ciphertext, iv=bytes(16)).plaintext
    assert opened == b"17 bytes of data!" + bytes(15)


def test_a_vault_refuses_oct_keys(keyvault):
    vault = KeyClient(keyvault.vault_url, keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        vault.create_oct_key("aes", size=256)
    error = refused.value.error
    assert refused.value.status_code == 400
    assert error is not None and error.code == "BadParameter" and error.innererror == {"code": "KeyTypeNotSupported"}
    assert error.message == "Invalid kty value: oct"


def test_random_bytes(hsm):
    first, second = hsm.get_random_bytes(32), hsm.get_random_bytes(32)  # 1 to 128 bytes per call
    assert len(first) == 32 and first != second


def test_a_managed_hsm_holds_no_secrets(keyvault):
    with pytest.raises(ResourceNotFoundError) as missing:
        SecretClient(HSM_URL, keyvault.credential).set_secret("s", "v")
    assert missing.value.error is not None and missing.value.error.code == "NotFound"


@pytest.mark.keyvault(strict_hosts=True, vaults=[HSM_URL])  # under strict_hosts, declare an HSM by its URL
def test_declare_a_managed_hsm_under_strict_hosts(keyvault, hsm):
    assert hsm.create_ec_key("k").key_type == KeyType.ec_hsm
    with pytest.raises(ResourceNotFoundError) as unknown:
        KeyClient("https://typo-hsm.managedhsm.azure.net", keyvault.credential).create_ec_key("k")
    assert unknown.value.error is not None and unknown.value.error.code == "VaultNotFound"


@pytest.mark.asyncio
async def test_the_async_clients_on_a_managed_hsm(keyvault):
    async with AsyncKeyClient(HSM_URL, keyvault.async_credential) as hsm:
        key = await hsm.create_oct_key("aes", size=128)
        assert len(await hsm.get_random_bytes(16)) == 16

    async with AsyncCryptographyClient(key, keyvault.async_credential) as crypto:
        sealed = await crypto.encrypt(EncryptionAlgorithm.a128_gcm, b"async")
        opened = await crypto.decrypt(
            EncryptionAlgorithm.a128_gcm, sealed.ciphertext, iv=sealed.iv, authentication_tag=sealed.tag
        )
    assert opened.plaintext == b"async"
