"""The async KeyClient and CryptographyClient (aiohttp transport, unmodified) against the emulator."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import (
    JsonWebKey,
    KeyCurveName,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
    KeyType,
)
from azure.keyvault.keys.aio import KeyClient
from azure.keyvault.keys.crypto import EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HSM_URL = "https://kv-emulator-hsm.managedhsm.azure.net"


@pytest.fixture
def client(async_keys):
    """The async KeyClient under test (tests/sdk/conftest.py)."""
    return async_keys


def uint(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def rsa_public(jwk: JsonWebKey) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()


@pytest.fixture
async def hsm(keyvault):
    async with KeyClient(HSM_URL, keyvault.async_credential) as client:
        yield client


@pytest.fixture
def crypto_for(keyvault):
    return lambda key: CryptographyClient(key, keyvault.async_credential)


async def test_challenge_then_create_and_get(client, keyvault):
    key = await client.create_rsa_key("k", tags={"a": "b"})
    assert [e.status for e in keyvault.requests] == [401, 200]
    assert key.key_type == KeyType.rsa and len(key.key.n) == 256 and key.key.e == b"\x01\x00\x01"
    assert key.key_operations == ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
    assert key.properties.exportable is False and key.properties.hsm_platform == "0"
    fetched = await client.get_key("k")
    assert (fetched.id, fetched.key.n, fetched.properties.tags) == (key.id, key.key.n, {"a": "b"})
    newer = await client.create_ec_key("k", curve="P-384", hardware_protected=True)
    assert newer.key_type == KeyType.ec_hsm and newer.key.crv == KeyCurveName.p_384
    assert (await client.get_key("k")).id == newer.id
    assert (await client.get_key("k", key.properties.version)).key.n == key.key.n


async def test_create_oct_key_on_a_managed_hsm(hsm, client):
    key = await hsm.create_oct_key("aes", size=128)
    assert key.key_type == KeyType.oct_hsm and key.key.k is None
    with pytest.raises(HttpResponseError) as refused:
        await client.create_oct_key("aes", size=128)
    assert refused.value.error.message == "Invalid kty value: oct"


async def test_import_key(client, crypto_for):
    private = ec.generate_private_key(ec.SECP256K1())
    num = private.private_numbers()
    jwk = JsonWebKey(
        kty=KeyType.ec,
        crv="P-256K",
        x=num.public_numbers.x.to_bytes(32, "big"),
        y=num.public_numbers.y.to_bytes(32, "big"),
        d=num.private_value.to_bytes(32, "big"),
    )
    imported = await client.import_key("imp", jwk)
    assert imported.key.crv == KeyCurveName.p_256_k and imported.key.d is None
    digest = hashlib.sha256(b"data").digest()
    async with crypto_for(imported) as cc:
        signature = (await cc.sign(SignatureAlgorithm.es256_k, digest)).signature
    assert len(signature) == 64
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    private.public_key().verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


async def test_update_and_list(client, keyvault):
    keyvault.clock.freeze()
    for i in range(4):
        await client.create_ec_key(f"k{i}")
    old = await client.create_ec_key("k0")
    keyvault.clock.advance(minutes=1)
    expires = datetime(2044, 1, 1, tzinfo=timezone.utc)
    updated = await client.update_key_properties(
        "k0", tags={"t": "x"}, enabled=False, expires_on=expires, key_operations=["verify"]
    )
    assert (updated.properties.tags, updated.properties.enabled, updated.properties.expires_on) == (
        {"t": "x"},
        False,
        expires,
    )
    assert updated.key_operations == ["verify"]
    assert updated.properties.updated_on - updated.properties.created_on == timedelta(minutes=1)
    names = [p.name async for p in client.list_properties_of_keys(max_page_size=3)]
    assert names == ["k0", "k1", "k2", "k3"]
    assert keyvault.requests.operations()[-2:] == ["GetKeys", "GetKeys"]
    versions = [p.version async for p in client.list_properties_of_key_versions("k0", max_page_size=1)]
    assert len(versions) == 2 and old.properties.version in versions


async def test_errors_map_to_sdk_exceptions(client, crypto_for):
    with pytest.raises(ResourceNotFoundError) as missing:
        await client.get_key("missing")
    assert missing.value.error.code == "KeyNotFound"
    key = await client.create_rsa_key("off", enabled=False)
    async with crypto_for(key) as cc:
        with pytest.raises(HttpResponseError) as disabled:
            await cc.sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())
    assert disabled.value.status_code == 403
    assert disabled.value.error.innererror == {"code": "KeyDisabled"}


async def test_delete_recover_purge_without_sleeping(client, keyvault, no_real_sleep):
    key = await client.create_ec_key("k")
    deleted = await client.delete_key("k")
    assert deleted.recovery_id == f"{keyvault.vault_url}/deletedkeys/k"
    assert deleted.key.x == key.key.x
    assert [d.name async for d in client.list_deleted_keys()] == ["k"]
    assert (await client.get_deleted_key("k")).properties.version == key.properties.version
    with pytest.raises(ResourceExistsError):
        await client.create_ec_key("k")
    recovered = await client.recover_deleted_key("k")
    assert recovered.id == key.id
    await client.delete_key("k")
    await client.purge_deleted_key("k")
    with pytest.raises(ResourceNotFoundError) as gone:
        await client.get_deleted_key("k")
    assert gone.value.error.message == "Deleted Key not found: k"
    assert "PurgeDeletedKey" in keyvault.requests.operations()


async def test_backup_restore(client, no_real_sleep):
    key = await client.create_ec_key("k")
    blob = await client.backup_key("k")
    await client.delete_key("k")
    await client.purge_deleted_key("k")
    restored = await client.restore_key_backup(blob)
    assert restored.id == key.id and restored.key.x == key.key.x
    with pytest.raises(HttpResponseError) as refused:
        await client.restore_key_backup(b"not a backup")
    assert refused.value.status_code == 400
    assert refused.value.error.code == "Malformed backup blob"


async def test_rotate_and_rotation_policy(client, keyvault):
    start = keyvault.clock.freeze(datetime(2031, 5, 1, tzinfo=timezone.utc))
    original = await client.create_rsa_key("k")
    default = await client.get_key_rotation_policy("k")
    assert [(a.action, a.time_before_expiry) for a in default.lifetime_actions] == [
        (KeyRotationPolicyAction.notify, "P30D")
    ]
    manual = await client.rotate_key("k")
    assert manual.properties.version != original.properties.version and manual.key.n != original.key.n
    policy = await client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            expires_in="P60D",
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P14D")],
        ),
    )
    assert policy.expires_in == "P60D"
    assert (KeyRotationPolicyAction.rotate, "P14D") in {
        (a.action, a.time_after_create) for a in policy.lifetime_actions
    }
    fetched = await client.get_key_rotation_policy("k")
    assert fetched.expires_in == "P60D"
    keyvault.clock.advance(days=15)
    automatic = await client.get_key("k")
    assert automatic.properties.version not in (original.properties.version, manual.properties.version)
    assert automatic.properties.created_on == start + timedelta(days=14)
    assert automatic.properties.expires_on == start + timedelta(days=74)


async def test_sign_verify(client, crypto_for, keyvault):
    rsa_key = await client.create_rsa_key("rsa")
    ec_key = await client.create_ec_key("ec", curve="P-521")
    digest256 = hashlib.sha256(b"data").digest()
    digest512 = hashlib.sha512(b"data").digest()
    keyvault.requests.clear()
    async with crypto_for(rsa_key) as cc:
        signed = await cc.sign(SignatureAlgorithm.ps256, digest256)
        assert (await cc.verify(SignatureAlgorithm.ps256, digest256, signed.signature)).is_valid
        assert not (await cc.verify(SignatureAlgorithm.ps256, digest512[:32], signed.signature)).is_valid
    rsa_public(rsa_key.key).verify(
        signed.signature,
        digest256,
        asym_padding.PSS(asym_padding.MGF1(hashes.SHA256()), 32),
        Prehashed(hashes.SHA256()),
    )
    async with crypto_for(ec_key) as cc:
        ec_signed = await cc.sign(SignatureAlgorithm.es512, digest512)
        assert len(ec_signed.signature) == 132
        assert (await cc.verify(SignatureAlgorithm.es512, digest512, ec_signed.signature)).is_valid
    assert keyvault.requests.operations() == ["sign", "sign"]


async def test_sign_through_a_key_id(client, keyvault):
    key = await client.create_ec_key("ec")
    keyvault.requests.clear()
    async with CryptographyClient(f"{keyvault.vault_url}/keys/ec", keyvault.async_credential) as cc:
        signed = await cc.sign(SignatureAlgorithm.es256, hashlib.sha256(b"x").digest())
    assert signed.key_id == key.id
    assert keyvault.requests.operations() == ["GetKey", "sign"]


async def test_encrypt_decrypt(client, hsm, crypto_for, keyvault):
    rsa_key = await client.create_rsa_key("rsa")
    async with crypto_for(rsa_key) as cc:
        keyvault.requests.clear()
        encrypted = await cc.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"secret")
        assert (await cc.decrypt(EncryptionAlgorithm.rsa_oaep_256, encrypted.ciphertext)).plaintext == b"secret"
        outside = rsa_public(rsa_key.key).encrypt(b"outside", asym_padding.PKCS1v15())
        assert (await cc.decrypt(EncryptionAlgorithm.rsa1_5, outside)).plaintext == b"outside"
    assert keyvault.requests.operations() == ["decrypt", "decrypt"]
    secret = os.urandom(16)
    aes = await hsm.import_key("aes", JsonWebKey(kty=KeyType.oct, k=secret))
    async with crypto_for(aes) as cc:
        sealed = await cc.encrypt(EncryptionAlgorithm.a128_gcm, b"gcm", additional_authenticated_data=b"aad")
        assert AESGCM(secret).decrypt(sealed.iv, sealed.ciphertext + sealed.tag, b"aad") == b"gcm"
        opened = await cc.decrypt(
            EncryptionAlgorithm.a128_gcm,
            sealed.ciphertext,
            iv=sealed.iv,
            authentication_tag=sealed.tag,
            additional_authenticated_data=b"aad",
        )
        assert opened.plaintext == b"gcm"


async def test_wrap_unwrap(client, crypto_for, keyvault):
    key = await client.create_rsa_key("rsa")
    cek = os.urandom(32)
    async with crypto_for(key) as cc:
        keyvault.requests.clear()
        for alg in (KeyWrapAlgorithm.rsa_oaep, KeyWrapAlgorithm.rsa_oaep_256, KeyWrapAlgorithm.rsa1_5):
            wrapped = await cc.wrap_key(alg, cek)
            assert (await cc.unwrap_key(alg, wrapped.encrypted_key)).key == cek
    assert keyvault.requests.operations() == ["unwrapKey"] * 3
