"""BYOK (issue 12): ``import_key`` with ``key_hsm``, the transfer blob made for a key exchange key (KEK)
created with the ``import`` operation; through the SDK (sync, async) and raw HTTP, with the refusals."""

from __future__ import annotations

import hashlib
import json

import pytest
from azure.keyvault.keys import JsonWebKey, KeyClient, KeyType
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.keys.crypto import CryptographyClient, SignatureAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap
from keys_support import assert_error

from kv_emulator.encoding import b64url_decode, b64url_encode
from kv_emulator.objects.byok import make_transfer_blob

pytestmark = pytest.mark.usefixtures("never_a_500")

HSM = "https://kv-emulator-hsm.managedhsm.azure.net"


@pytest.fixture(scope="module")
def target_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


def kek_public(jwk) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()


def test_sdk_imports_a_byok_rsa_key_and_signs_with_it(keyvault, target_rsa):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    kek = client.create_rsa_key("kek", hardware_protected=True, key_operations=["import"])
    blob = make_transfer_blob(kek.id, kek_public(kek.key), target_rsa)
    jwk = JsonWebKey(kty=KeyType.rsa_hsm, t=b64url_decode(blob), key_ops=["sign", "verify"])
    imported = client.import_key("mine", jwk, hardware_protected=True)
    assert imported.key_type == KeyType.rsa_hsm
    assert imported.key.n == target_rsa.public_key().public_numbers().n.to_bytes(256, "big")
    digest = hashlib.sha256(b"byok").digest()
    signed = CryptographyClient(imported, keyvault.credential).sign(SignatureAlgorithm.rs256, digest)
    target_rsa.public_key().verify(signed.signature, digest, asym_padding.PKCS1v15(), Prehashed(hashes.SHA256()))


async def test_async_sdk_imports_a_byok_ec_key_on_a_managed_hsm(keyvault):
    target = ec.generate_private_key(ec.SECP384R1())
    async with AsyncKeyClient(HSM, keyvault.async_credential) as client:
        kek = await client.create_rsa_key("kek", size=3072, key_operations=["import"])
        blob = make_transfer_blob(kek.id, kek_public(kek.key), target, enc="RSA_AES_KEY_WRAP_256")
        jwk = JsonWebKey(kty=KeyType.ec_hsm, t=b64url_decode(blob), key_ops=["sign", "verify"])
        imported = await client.import_key("mine", jwk)
        assert imported.key_type == KeyType.ec_hsm and imported.key.crv == "P-384"
        assert int.from_bytes(imported.key.x, "big") == target.public_key().public_numbers().x


def test_byok_aes_key_on_a_managed_hsm_over_the_wire(keyvault, wire_for):
    hsm = wire_for(keyvault.app, base_url=HSM)
    kek = hsm.post("/keys/kek/create", body={"kty": "RSA-HSM", "key_ops": ["import"]}).get_json()["key"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(kek["e"]), "big"), int.from_bytes(b64url_decode(kek["n"]), "big")
    )
    aes = bytes(range(32))
    blob = make_transfer_blob(kek["kid"], public.public_key(), aes)
    made = hsm.put("/keys/aes", body={"key": {"kty": "oct-HSM", "key_hsm": blob, "key_ops": ["wrapKey", "unwrapKey"]}})
    assert made.status_code == 200, made.get_json()
    assert made.get_json()["key"]["kty"] == "oct-HSM" and "k" not in made.get_json()["key"]
    path = made.get_json()["key"]["kid"].removeprefix(HSM)
    wrapped = hsm.post(f"{path}/wrapkey", body={"alg": "A256KW", "value": b64url_encode(b"k" * 16)}).get_json()["value"]
    assert aes_key_unwrap(aes, b64url_decode(wrapped)) == b"k" * 16  # the HSM holds exactly our AES key


@pytest.fixture
def kek(wire):
    made = wire.post("/keys/kek/create", body={"kty": "RSA-HSM", "key_ops": ["import"]})
    return made.get_json()["key"]


def _public(jwk) -> rsa.RSAPublicKey:
    n, e = (int.from_bytes(b64url_decode(jwk[f]), "big") for f in ("n", "e"))
    return rsa.RSAPublicNumbers(e, n).public_key()


def test_a_wrong_kek_is_refused(wire, kek, target_rsa):
    stranger = rsa.generate_private_key(65537, 2048).public_key()
    blob = make_transfer_blob(kek["kid"], stranger, target_rsa)
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": blob}})
    assert_error(refused, 400, "BadParameter")
    assert "cannot be unwrapped" in refused.get_json()["error"]["message"]
    assert wire.get("/keys/mine").status_code == 404


def test_a_tampered_blob_is_refused(wire, kek, target_rsa):
    document = json.loads(b64url_decode(make_transfer_blob(kek["kid"], _public(kek), target_rsa)))
    ciphertext = bytearray(b64url_decode(document["ciphertext"]))
    ciphertext[-1] ^= 1
    document["ciphertext"] = b64url_encode(bytes(ciphertext))
    blob = b64url_encode(json.dumps(document).encode())
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": blob}})
    assert_error(refused, 400, "BadParameter")
    assert wire.get("/keys/mine").status_code == 404


def test_a_kek_without_import_is_refused(wire, target_rsa):
    plain = wire.post("/keys/kek/create", body={"kty": "RSA-HSM", "key_ops": ["wrapKey"]}).get_json()["key"]
    blob = make_transfer_blob(plain["kid"], _public(plain), target_rsa)
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": blob}})
    assert_error(refused, 403, "Forbidden", "Operation import is not permitted on this key.", "KeyOperationForbidden")


@pytest.mark.parametrize(
    "key_hsm",
    [
        "not base64url!",
        b64url_encode(b"not json"),
        b64url_encode(json.dumps({"header": {"kid": "x", "enc": "CKM_RSA_AES_KEY_WRAP"}}).encode()),
        b64url_encode(json.dumps({"header": {"kid": "x", "enc": "ROT13"}, "ciphertext": "AA"}).encode()),
        7,
    ],
    ids=["not-base64", "not-json", "no-ciphertext", "unknown-enc", "not-a-string"],
)
def test_unreadable_blobs_are_refused(wire, kek, key_hsm):
    assert_error(wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": key_hsm}}), 400, "BadParameter")


def test_a_kek_of_another_vault_is_refused(wire, kek, target_rsa):
    other = kek["kid"].replace("https://kv-emulator.", "https://elsewhere.")
    blob = make_transfer_blob(other, _public(kek), target_rsa)
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": blob}})
    assert_error(refused, 400, "BadParameter")


def test_the_wrapped_key_must_be_of_the_kty_asked_for(wire, kek):
    blob = make_transfer_blob(kek["kid"], _public(kek), ec.generate_private_key(ec.SECP256R1()))
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA-HSM", "key_hsm": blob}})
    assert_error(refused, 400, "BadParameter")
    assert "not a RSA key" in refused.get_json()["error"]["message"]


@pytest.mark.keyvault(sku="standard")
def test_a_standard_vault_refuses_byok(keyvault, wire, target_rsa):
    # A standard vault holds no HSM keys, so it has no KEK and refuses the import like any HSM key.
    blob = make_transfer_blob(f"{keyvault.vault_url}/keys/kek", target_rsa.public_key(), target_rsa)
    refused = wire.put("/keys/mine", body={"key": {"kty": "RSA", "key_hsm": blob}})
    assert_error(refused, 403, "Forbidden", "Hardware key operation not allowed on standard vault")
