"""Issue 12 for keys: what client code written against the service expects, through the SDK (sync and async)
and raw HTTP: Managed HSM public exponents, AES-CBC zero padding, HMAC on oct-HSM keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient as AsyncCryptographyClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from keys_support import assert_error, b64, unb64

from kv_emulator.api.versions import PUBLISHED

pytestmark = pytest.mark.usefixtures("never_a_500")

HSM = "https://kv-emulator-hsm.managedhsm.azure.net"


def rsa_public(jwk) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()


# -- item 5: Managed HSM RSA public exponents -------------------------------------------------------------------


def test_hsm_makes_rsa_keys_with_the_exponent_asked_for(keyvault):
    client = KeyClient(HSM, keyvault.credential)
    key = client.create_rsa_key("e17", public_exponent=17)
    assert int.from_bytes(key.key.e, "big") == 17 and len(key.key.n) == 256
    digest = hashlib.sha256(b"data").digest()
    signed = CryptographyClient(key, keyvault.credential).sign(SignatureAlgorithm.rs256, digest)
    rsa_public(key.key).verify(signed.signature, digest, asym_padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    rotated = client.rotate_key("e17")
    assert int.from_bytes(rotated.key.e, "big") == 17 and rotated.key.n != key.key.n


async def test_async_hsm_makes_rsa_keys_with_the_exponent_asked_for(keyvault):
    async with AsyncKeyClient(HSM, keyvault.async_credential) as client:
        key = await client.create_rsa_key("e5", public_exponent=5)
        assert int.from_bytes(key.key.e, "big") == 5
        digest = hashlib.sha256(b"data").digest()
        async with AsyncCryptographyClient(key, keyvault.async_credential) as crypto:
            signed = await crypto.sign(SignatureAlgorithm.ps256, digest)
            assert (await crypto.verify(SignatureAlgorithm.ps256, digest, signed.signature)).is_valid


def test_vault_ignores_the_public_exponent(keyvault):
    key = KeyClient(keyvault.vault_url, keyvault.credential).create_rsa_key("v", public_exponent=17)
    assert key.key.e == b"\x01\x00\x01"


@pytest.mark.parametrize("exponent", [3, 65537])
def test_hsm_keeps_the_usual_exponents_over_the_wire(hsm_wire, exponent):
    made = hsm_wire.post("/keys/k/create", body={"kty": "RSA-HSM", "public_exponent": exponent})
    assert made.status_code == 200
    assert int.from_bytes(unb64(made.get_json()["key"]["e"]), "big") == exponent


@pytest.mark.parametrize("exponent", [1, 4, 65536, 2**32 + 1])
def test_hsm_refuses_exponents_no_rsa_key_can_have(hsm_wire, exponent):
    made = hsm_wire.post("/keys/k/create", body={"kty": "RSA-HSM", "public_exponent": exponent})
    assert_error(made, 400, "BadParameter")
    assert hsm_wire.get("/keys/k").status_code == 404


def test_vault_over_the_wire_makes_e_65537_whatever_is_asked(wire):
    made = wire.post("/keys/k/create", body={"kty": "RSA", "public_exponent": 3})
    assert made.status_code == 200 and made.get_json()["key"]["e"] == b64(b"\x01\x00\x01")


# -- item 6: AES-CBC without padding zero-pads on a Managed HSM ------------------------------------------------


@pytest.mark.parametrize(("size", "alg"), [(128, "A128CBC"), (192, "A192CBC"), (256, "A256CBC")])
def test_cbc_zero_pads_over_the_wire(hsm_wire, size, alg):
    made = hsm_wire.post("/keys/aes/create", body={"kty": "oct-HSM", "key_size": size})
    path = made.get_json()["key"]["kid"].removeprefix(HSM)
    iv = bytes(range(16))
    sealed = hsm_wire.post(f"{path}/encrypt", body={"alg": alg, "value": b64(b"odd length!"), "iv": b64(iv)})
    assert sealed.status_code == 200, sealed.get_json()
    assert len(unb64(sealed.get_json()["value"])) == 16
    opened = hsm_wire.post(f"{path}/decrypt", body={"alg": alg, "value": sealed.get_json()["value"], "iv": b64(iv)})
    assert unb64(opened.get_json()["value"]) == b"odd length!" + bytes(5)


def test_sdk_cbc_zero_pads(keyvault):
    key = KeyClient(HSM, keyvault.credential).create_oct_key("aes", size=256)
    crypto = CryptographyClient(key, keyvault.credential)
    iv = bytes(16)
    sealed = crypto.encrypt(EncryptionAlgorithm.a256_cbc, b"x" * 17, iv=iv)
    assert len(sealed.ciphertext) == 32
    assert crypto.decrypt(EncryptionAlgorithm.a256_cbc, sealed.ciphertext, iv=iv).plaintext == b"x" * 17 + bytes(15)


async def test_async_sdk_cbc_zero_pads(keyvault):
    async with AsyncKeyClient(HSM, keyvault.async_credential) as client:
        key = await client.create_oct_key("aes", size=128)
    async with AsyncCryptographyClient(key, keyvault.async_credential) as crypto:
        sealed = await crypto.encrypt(EncryptionAlgorithm.a128_cbc, b"abc", iv=bytes(16))
        opened = await crypto.decrypt(EncryptionAlgorithm.a128_cbc, sealed.ciphertext, iv=bytes(16))
        assert opened.plaintext == b"abc" + bytes(13)


# -- HMAC on Managed HSM: oct-HSM keys sign and verify with HS256/384/512 ---------------------------------------

HMACS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _import_hmac_key(hsm_wire, k: bytes) -> str:
    jwk = {"kty": "oct-HSM", "k": b64(k), "key_ops": ["sign", "verify"]}
    made = hsm_wire.put("/keys/mac", body={"key": jwk})
    assert made.status_code == 200, made.get_json()
    return made.get_json()["key"]["kid"].removeprefix(HSM)


@pytest.mark.parametrize("alg", sorted(HMACS))
def test_hmac_over_the_wire_is_rfc_2104(hsm_wire, alg):
    k = bytes(range(32))
    path = _import_hmac_key(hsm_wire, k)
    digest = HMACS[alg](b"data").digest()
    signed = hsm_wire.post(f"{path}/sign", body={"alg": alg, "value": b64(digest)})
    assert signed.status_code == 200, signed.get_json()
    mac = unb64(signed.get_json()["value"])
    assert mac == hmac.new(k, digest, HMACS[alg]).digest()
    verified = hsm_wire.post(f"{path}/verify", body={"alg": alg, "digest": b64(digest), "value": b64(mac)})
    assert verified.get_json() == {"value": True}
    forged = hsm_wire.post(f"{path}/verify", body={"alg": alg, "digest": b64(digest), "value": b64(bytes(len(mac)))})
    assert forged.get_json() == {"value": False}


def test_vault_keys_refuse_hmac(wire):
    made = wire.post("/keys/r/create", body={"kty": "EC", "key_ops": ["sign", "verify"]})
    path = made.get_json()["key"]["kid"].removeprefix(wire.base_url)
    refused = wire.post(f"{path}/sign", body={"alg": "HS256", "value": b64(hashlib.sha256(b"x").digest())})
    assert_error(refused, 400, "BadParameter")


def test_sdk_hmac_on_an_oct_hsm_key(keyvault):
    key = KeyClient(HSM, keyvault.credential).create_oct_key("mac", size=256, key_operations=["sign", "verify"])
    crypto = CryptographyClient(key, keyvault.credential)
    digest = hashlib.sha512(b"data").digest()
    signed = crypto.sign(SignatureAlgorithm.hs512, digest)
    assert len(signed.signature) == 64
    assert crypto.verify(SignatureAlgorithm.hs512, digest, signed.signature).is_valid
    assert not crypto.verify(SignatureAlgorithm.hs512, digest, bytes(64)).is_valid


async def test_async_sdk_hmac_on_an_oct_hsm_key(keyvault):
    async with AsyncKeyClient(HSM, keyvault.async_credential) as client:
        key = await client.create_oct_key("mac", size=256, key_operations=["sign", "verify"])
    async with AsyncCryptographyClient(key, keyvault.async_credential) as crypto:
        digest = hashlib.sha256(b"data").digest()
        signed = await crypto.sign(SignatureAlgorithm.hs256, digest)
        assert (await crypto.verify(SignatureAlgorithm.hs256, digest, signed.signature)).is_valid


# -- item 8: at every api-version a Managed HSM answers (7.2 on) ----------------------------------------------

HSM_VERSIONS = [v for v in PUBLISHED if v not in ("2015-06-01", "2016-10-01", "7.0", "7.1")]


@pytest.mark.parametrize("api_version", HSM_VERSIONS)
def test_hsm_items_at_every_api_version(hsm_wire, api_version):
    made = hsm_wire.post(
        "/keys/e17/create", body={"kty": "RSA-HSM", "public_exponent": 17}, api_version=api_version
    ).get_json()
    assert unb64(made["key"]["e"]) == b"\x11"
    k = bytes(range(32))
    imported = hsm_wire.put(
        "/keys/aes",
        body={"key": {"kty": "oct-HSM", "k": b64(k), "key_ops": ["encrypt", "decrypt", "sign", "verify"]}},
        api_version=api_version,
    ).get_json()
    path = imported["key"]["kid"].removeprefix(HSM)
    iv = bytes(16)
    body = {"alg": "A256CBC", "value": b64(b"abc"), "iv": b64(iv)}
    sealed = hsm_wire.post(f"{path}/encrypt", body=body, api_version=api_version).get_json()
    opened = hsm_wire.post(f"{path}/decrypt", body={**body, "value": sealed["value"]}, api_version=api_version)
    assert unb64(opened.get_json()["value"]) == b"abc" + bytes(13)
    digest = hashlib.sha256(b"x").digest()
    signed = hsm_wire.post(f"{path}/sign", body={"alg": "HS256", "value": b64(digest)}, api_version=api_version)
    assert unb64(signed.get_json()["value"]) == hmac.new(k, digest, hashlib.sha256).digest()
