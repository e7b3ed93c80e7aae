"""Crypto with the unmodified ``CryptographyClient``, checked against ``cryptography`` outside the vault.

Run with ``python -m pytest examples/test_crypto_interop.py``. Two things to know:

- ``sign`` takes a **digest**: hash the data yourself (SHA-256 for RS256/PS256/ES256/ES256K, SHA-384 for the
  *384 algorithms, SHA-512 for the *512 ones). The vault never hashes.
- The SDK does whatever needs only the public key itself: RSA ``encrypt``, ``wrap_key`` and ``verify``, and EC
  ``verify``, happen in your process and never reach the vault. ``keyvault.requests`` shows what did.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import JsonWebKey, KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.keys.crypto.aio import CryptographyClient as AsyncCryptographyClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

OAEP_256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


@pytest.fixture
def client(keyvault) -> KeyClient:
    return KeyClient(keyvault.vault_url, keyvault.credential)


def public_rsa(jwk: JsonWebKey) -> rsa.RSAPublicKey:
    """The RSA public key of a KeyVaultKey's JWK, as a `cryptography` object."""
    return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()


def as_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def test_sign_in_the_vault_verify_anywhere(keyvault, client):
    key = client.create_rsa_key("signer")
    crypto = CryptographyClient(key, keyvault.credential)  # built from the key: no GetKey needed
    keyvault.requests.clear()

    digest = hashlib.sha256(b"the document").digest()  # sign takes the digest, not the data
    signed = crypto.sign(SignatureAlgorithm.rs256, digest)
    assert signed.key_id == key.id

    # Anyone with the public key can check it: here `cryptography`, outside any Azure code.
    public_rsa(key.key).verify(signed.signature, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))

    assert crypto.verify(SignatureAlgorithm.rs256, digest, signed.signature).is_valid
    tampered = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
    assert not crypto.verify(SignatureAlgorithm.rs256, digest, tampered).is_valid
    assert keyvault.requests.operations() == ["sign"]  # both verifies ran in the SDK


def test_a_digest_of_the_wrong_length_is_refused(client, keyvault):
    crypto = CryptographyClient(client.create_ec_key("signer"), keyvault.credential)
    with pytest.raises(HttpResponseError) as refused:
        crypto.sign(SignatureAlgorithm.es256, b"the document")  # data, not a digest
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.message == (
        "Invalid length of 'value': 12 bytes. ES256 requires 32 bytes, encoded with base64url."
    )


def test_ec_signatures_are_raw_r_and_s(client, keyvault):
    key = client.create_ec_key("signer", curve="P-384")
    digest = hashlib.sha384(b"the document").digest()
    signature = CryptographyClient(key, keyvault.credential).sign(SignatureAlgorithm.es384, digest).signature

    # JWS form: r and s, 48 bytes each for P-384. `cryptography` wants DER, so convert before verifying.
    assert len(signature) == 96
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big"))
    x, y = int.from_bytes(key.key.x, "big"), int.from_bytes(key.key.y, "big")
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP384R1()).public_key()
    public.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA384())))


def test_rsa_encrypts_locally_and_decrypts_in_the_vault(client, keyvault):
    key = client.create_rsa_key("rsa")
    crypto = CryptographyClient(key, keyvault.credential)
    keyvault.requests.clear()

    encrypted = crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"card number")  # in the SDK, public key
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, encrypted.ciphertext).plaintext == b"card number"

    # Data encrypted by anyone else with the public key decrypts in the vault too.
    outside = public_rsa(key.key).encrypt(b"from elsewhere", OAEP_256)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, outside).plaintext == b"from elsewhere"

    # Key wrapping works the same way: wrap in the SDK, unwrap in the vault.
    data_key = bytes(range(32))
    wrapped = crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key)
    assert crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped.encrypted_key).key == data_key

    assert keyvault.requests.operations() == ["decrypt", "decrypt", "unwrapKey"]


def test_a_client_from_a_key_id_fetches_the_key_first(client, keyvault):
    key = client.create_rsa_key("rsa")
    keyvault.requests.clear()
    crypto = CryptographyClient(key.id, keyvault.credential)  # or client.get_cryptography_client("rsa")
    crypto.sign(SignatureAlgorithm.ps256, hashlib.sha256(b"x").digest())
    assert keyvault.requests.operations() == ["GetKey", "sign"]


def test_import_a_key_you_hold(client, keyvault):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.private_numbers()
    jwk = JsonWebKey(  # the SDK's JWK takes the big-endian bytes of each number
        kty="RSA",
        n=as_bytes(numbers.public_numbers.n),
        e=as_bytes(numbers.public_numbers.e),
        d=as_bytes(numbers.d),
        p=as_bytes(numbers.p),
        q=as_bytes(numbers.q),
        dp=as_bytes(numbers.dmp1),
        dq=as_bytes(numbers.dmq1),
        qi=as_bytes(numbers.iqmp),
    )
    imported = client.import_key("imported", jwk)  # the private parts go in; GET only ever shows the public ones
    assert imported.key.d is None

    crypto = CryptographyClient(imported, keyvault.credential)
    ciphertext = private.public_key().encrypt(b"sealed outside", OAEP_256)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, ciphertext).plaintext == b"sealed outside"
    digest = hashlib.sha512(b"x").digest()
    signature = crypto.sign(SignatureAlgorithm.ps512, digest).signature
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)  # salt as long as the digest
    private.public_key().verify(signature, digest, pss, Prehashed(hashes.SHA512()))


# -- what the vault refuses: a disabled key, a key outside its validity window, an operation not in key_ops --


def test_a_disabled_key_refuses_every_operation(client, keyvault):
    key = client.create_rsa_key("k", enabled=False)
    with pytest.raises(HttpResponseError) as refused:
        CryptographyClient(key, keyvault.credential).sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())
    error = refused.value.error
    assert refused.value.status_code == 403
    assert error is not None and error.code == "Forbidden" and error.innererror == {"code": "KeyDisabled"}
    assert error.message == "Operation sign is not allowed on a disabled key."


def test_an_expired_key_still_decrypts_but_no_longer_signs(client, keyvault):
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    key = client.create_rsa_key("k", expires_on=yesterday)
    crypto = CryptographyClient(key, keyvault.credential)

    with pytest.raises(HttpResponseError) as refused:  # sign, encrypt and wrapKey stop at exp
        crypto.sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.innererror == {"code": "KeyExpired"}
    assert refused.value.error.message == "Operation sign is not allowed on an expired key."

    # decrypt, unwrapKey and verify keep working, so old data stays readable.
    ciphertext = public_rsa(key.key).encrypt(b"old data", OAEP_256)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, ciphertext).plaintext == b"old data"

    # Local encryption is checked by the SDK itself, against the machine's clock: nothing reaches the vault.
    keyvault.requests.clear()
    with pytest.raises(ValueError, match="expired"):
        crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, b"new data")
    assert keyvault.requests.operations() == []


def test_a_key_that_is_not_yet_valid(client, keyvault):
    keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))  # the vault checks its own clock
    key = client.create_ec_key("k", not_before=datetime(2030, 2, 1, tzinfo=timezone.utc))
    crypto = CryptographyClient(key, keyvault.credential)
    digest = hashlib.sha256(b"x").digest()

    with pytest.raises(HttpResponseError) as refused:
        crypto.sign(SignatureAlgorithm.es256, digest)
    assert refused.value.error is not None and refused.value.error.innererror == {"code": "KeyNotYetValid"}

    keyvault.clock.advance(days=31)
    assert crypto.sign(SignatureAlgorithm.es256, digest).signature


def test_an_operation_outside_key_ops_is_forbidden(client, keyvault):
    key = client.create_rsa_key("k", key_operations=["encrypt", "decrypt"])
    with pytest.raises(HttpResponseError) as refused:
        CryptographyClient(key, keyvault.credential).sign(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest())
    error = refused.value.error
    assert error is not None and error.innererror == {"code": "KeyOperationForbidden"}
    assert error.message == "Operation sign is not permitted on this key."


@pytest.mark.asyncio
async def test_the_async_cryptography_client(client, keyvault):
    key = client.create_ec_key("signer", curve="P-256K")  # secp256k1, algorithm ES256K
    digest = hashlib.sha256(b"the document").digest()
    async with AsyncCryptographyClient(key, keyvault.async_credential) as crypto:
        signed = await crypto.sign(SignatureAlgorithm.es256_k, digest)
        assert (await crypto.verify(SignatureAlgorithm.es256_k, digest, signed.signature)).is_valid
    assert keyvault.requests.operations()[-1] == "sign"
