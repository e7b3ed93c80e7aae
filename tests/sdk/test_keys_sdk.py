"""Keys through the real, unmodified sync KeyClient and CryptographyClient.

The SDK's CryptographyClient does encrypt, verify and wrapKey itself whenever it holds the public key, so
these tests read ``keyvault.requests`` to say which operations the emulator actually answered. Service-side
encrypt/verify/wrap are covered over raw HTTP in ``test_keys_wire.py``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import (
    JsonWebKey,
    KeyClient,
    KeyCurveName,
    KeyOperation,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
    KeyType,
    KeyVaultKeyIdentifier,
)
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from azure.keyvault.secrets import SecretClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HSM_URL = "https://kv-emulator-hsm.managedhsm.azure.net"
ALL_RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
HASHES = {
    "256": (hashlib.sha256, hashes.SHA256()),
    "384": (hashlib.sha384, hashes.SHA384()),
    "512": (hashlib.sha512, hashes.SHA512()),
}
CURVES = {
    "P-256": (ec.SECP256R1(), 32, "ES256"),
    "P-384": (ec.SECP384R1(), 48, "ES384"),
    "P-521": (ec.SECP521R1(), 66, "ES512"),
    "P-256K": (ec.SECP256K1(), 32, "ES256K"),
}


# -- helpers ------------------------------------------------------------------------------------------------


def digest_for(alg: str, data: bytes = b"kv-emulator") -> bytes:
    return HASHES[alg[2:5]][0](data).digest()


def uint(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def rsa_public(jwk: JsonWebKey) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(jwk.e, "big"), int.from_bytes(jwk.n, "big")).public_key()


def ec_public(jwk: JsonWebKey) -> ec.EllipticCurvePublicKey:
    curve = CURVES[getattr(jwk.crv, "value", jwk.crv)][0]
    return ec.EllipticCurvePublicNumbers(int.from_bytes(jwk.x, "big"), int.from_bytes(jwk.y, "big"), curve).public_key()


def verify_ec_with_cryptography(public: ec.EllipticCurvePublicKey, alg: str, digest: bytes, signature: bytes) -> None:
    """A JWS ECDSA signature is fixed-width r||s; ``cryptography`` wants DER. Raises InvalidSignature."""
    half = len(signature) // 2
    der = encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))
    public.verify(der, digest, ec.ECDSA(Prehashed(HASHES[alg[2:5]][1])))


def rsa_jwk(private: rsa.RSAPrivateKey) -> JsonWebKey:
    num = private.private_numbers()
    return JsonWebKey(
        kty=KeyType.rsa,
        n=uint(num.public_numbers.n),
        e=uint(num.public_numbers.e),
        d=uint(num.d),
        p=uint(num.p),
        q=uint(num.q),
        dp=uint(num.dmp1),
        dq=uint(num.dmq1),
        qi=uint(num.iqmp),
    )


def ec_jwk(private: ec.EllipticCurvePrivateKey, crv: str) -> JsonWebKey:
    width = CURVES[crv][1]
    num = private.private_numbers()
    return JsonWebKey(
        kty=KeyType.ec,
        crv=crv,
        x=num.public_numbers.x.to_bytes(width, "big"),
        y=num.public_numbers.y.to_bytes(width, "big"),
        d=num.private_value.to_bytes(width, "big"),
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def client(keyvault):
    return KeyClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def hsm(keyvault):
    """A KeyClient on a Managed HSM: the only place with symmetric (oct) keys."""
    return KeyClient(HSM_URL, keyvault.credential)


@pytest.fixture
def crypto_for(keyvault):
    """A CryptographyClient for a KeyVaultKey or a key id, with the emulator's credential."""
    return lambda key: CryptographyClient(key, keyvault.credential)


def served(keyvault) -> list[str | None]:
    """The operations the emulator answered (challenges left out)."""
    return keyvault.requests.operations()


# -- creating -----------------------------------------------------------------------------------------------


def test_create_rsa_key_defaults(client, keyvault):
    key = client.create_rsa_key("rsa")
    assert key.key_type == KeyType.rsa
    assert len(key.key.n) == 256  # 2048 bits
    assert key.key.e == b"\x01\x00\x01"
    assert key.key_operations == ALL_RSA_OPS
    assert key.key.d is None and key.key.p is None
    props = key.properties
    assert re.fullmatch(r"[0-9a-f]{32}", props.version)
    assert key.id == f"{keyvault.vault_url}/keys/rsa/{props.version}"
    parsed = KeyVaultKeyIdentifier(key.id)
    assert (parsed.vault_url, parsed.name, parsed.version) == (keyvault.vault_url, "rsa", props.version)
    assert props.enabled is True
    assert props.exportable is False
    assert props.hsm_platform == "0"
    assert props.recovery_level == "Recoverable+Purgeable"
    assert props.recoverable_days == 90
    assert props.created_on == props.updated_on
    assert rsa_public(key.key).key_size == 2048


def test_create_key_with_a_key_type_and_properties(client):
    not_before = datetime(2020, 1, 1, tzinfo=timezone.utc)
    expires = datetime(2040, 1, 1, tzinfo=timezone.utc)
    key = client.create_key(
        "k",
        KeyType.rsa,
        key_operations=[KeyOperation.sign, KeyOperation.verify],
        tags={"env": "test"},
        not_before=not_before,
        expires_on=expires,
        enabled=True,
    )
    assert key.key_operations == ["sign", "verify"]
    assert key.properties.tags == {"env": "test"}
    assert (key.properties.not_before, key.properties.expires_on) == (not_before, expires)


def test_create_rsa_3072_with_public_exponent(client):
    key = client.create_rsa_key("rsa3072", size=3072, public_exponent=65537)
    assert rsa_public(key.key).key_size == 3072
    assert key.key.e == b"\x01\x00\x01"


def test_create_rsa_4096_hsm(client):
    key = client.create_rsa_key("rsa4096", size=4096, hardware_protected=True)
    assert key.key_type == KeyType.rsa_hsm
    assert rsa_public(key.key).key_size == 4096
    assert client.get_key("rsa4096").key_type == KeyType.rsa_hsm


def test_create_ec_key_defaults_to_p256_sign_verify(client):
    key = client.create_ec_key("ec")
    assert key.key_type == KeyType.ec
    assert key.key.crv == KeyCurveName.p_256
    assert key.key_operations == ["sign", "verify"]
    assert len(key.key.x) == len(key.key.y) == 32
    assert key.key.d is None
    assert key.properties.exportable is False


@pytest.mark.parametrize("crv", list(CURVES))
@pytest.mark.parametrize("hsm", [False, True])
def test_create_ec_key_on_every_curve(client, crv, hsm):
    key = client.create_ec_key("ec", curve=crv, hardware_protected=hsm)
    assert key.key_type == (KeyType.ec_hsm if hsm else KeyType.ec)
    assert key.key.crv == crv
    width = CURVES[crv][1]
    assert len(key.key.x) == len(key.key.y) == width
    public = ec_public(key.key)  # the point must be on the curve, or this raises
    assert public.curve.name == CURVES[crv][0].name


@pytest.mark.parametrize("size", [128, 192, 256])
@pytest.mark.parametrize("hardware_protected", [False, True])
def test_create_oct_keys_on_a_managed_hsm(hsm, keyvault, size, hardware_protected):
    key = hsm.create_oct_key("aes", size=size, hardware_protected=hardware_protected)
    assert key.key_type == KeyType.oct_hsm  # a Managed HSM makes every key an -HSM key
    assert key.key.k is None  # symmetric material never leaves the vault
    assert key.key_operations == ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
    assert key.id.startswith(f"{HSM_URL}/keys/aes/")
    stored = keyvault.vault(HSM_URL).keys.get("aes")
    assert stored.payload.material.key_size == size


def test_create_on_a_soft_deleted_name_conflicts(client, no_real_sleep):
    client.create_ec_key("k")
    client.begin_delete_key("k").wait()
    with pytest.raises(ResourceExistsError) as conflict:
        client.create_ec_key("k")
    assert conflict.value.status_code == 409
    assert conflict.value.error.code == "Conflict"
    assert conflict.value.error.innererror == {"code": "ObjectIsDeletedButRecoverable"}
    assert conflict.value.error.message == (
        "Key k is currently in a deleted but recoverable state, and its name cannot be reused; in this state, "
        "the key can only be recovered or purged."
    )


def test_invalid_create_raises_http_error_and_stores_nothing(client, keyvault):
    with pytest.raises(HttpResponseError) as refused:
        client.create_key("k", "NOT-A-TYPE")
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert refused.value.error.message == "Invalid kty value: NOT-A-TYPE"
    with pytest.raises(HttpResponseError) as too_small:
        client.create_rsa_key("k", size=1024)
    assert too_small.value.status_code == 400
    assert list(keyvault.vault().keys) == []


@pytest.mark.keyvault(sku="standard")
def test_hsm_keys_refused_on_a_standard_vault(client, keyvault):
    with pytest.raises(HttpResponseError) as refused:
        client.create_rsa_key("k", hardware_protected=True)
    assert refused.value.status_code == 403
    assert refused.value.error.code == "Forbidden"
    assert refused.value.error.message == "Hardware key operation not allowed on standard vault"
    assert "k" not in keyvault.vault().keys
    assert client.create_rsa_key("k").key_type == KeyType.rsa  # software keys are fine
    assert len(keyvault.vault().keys.list_versions("k")) == 1


def test_a_vault_has_no_oct_keys(client, keyvault):
    with pytest.raises(HttpResponseError) as refused:
        client.create_oct_key("aes", size=256)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert refused.value.error.message == "Invalid kty value: oct"
    assert refused.value.error.innererror == {"code": "KeyTypeNotSupported"}
    with pytest.raises(HttpResponseError) as imported:
        client.import_key("aes", JsonWebKey(kty=KeyType.oct, k=os.urandom(32)))
    assert imported.value.status_code == 400
    assert list(keyvault.vault().keys) == []


# -- importing ----------------------------------------------------------------------------------------------


def test_import_rsa_key_and_interoperate(client, crypto_for, keyvault):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    imported = client.import_key("imp", rsa_jwk(private), tags={"src": "local"})
    assert imported.key_type == KeyType.rsa
    assert imported.key.n == uint(private.public_key().public_numbers().n)
    assert imported.key.d is None
    assert imported.properties.tags == {"src": "local"}
    cc = crypto_for(imported)
    digest = digest_for("RS256")
    signature = cc.sign(SignatureAlgorithm.rs256, digest).signature
    private.public_key().verify(signature, digest, asym_padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    ciphertext = private.public_key().encrypt(
        b"from outside", asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    )
    assert cc.decrypt(EncryptionAlgorithm.rsa_oaep_256, ciphertext).plaintext == b"from outside"
    assert served(keyvault)[-2:] == ["sign", "decrypt"]


def test_import_hsm_key(client):
    private = ec.generate_private_key(ec.SECP256R1())
    imported = client.import_key("imp", ec_jwk(private, "P-256"), hardware_protected=True)
    assert imported.key_type == KeyType.ec_hsm


@pytest.mark.parametrize("crv", ["P-384", "P-256K"])
def test_import_ec_key_and_interoperate(client, crypto_for, crv):
    private = ec.generate_private_key(CURVES[crv][0])
    imported = client.import_key("imp", ec_jwk(private, crv))
    assert imported.key_type == KeyType.ec and imported.key.crv == crv
    assert imported.key_operations == ["sign", "verify"]
    alg = CURVES[crv][2]
    digest = digest_for(alg)
    signature = crypto_for(imported).sign(SignatureAlgorithm(alg), digest).signature
    verify_ec_with_cryptography(private.public_key(), alg, digest, signature)


def test_import_oct_key_on_a_managed_hsm_and_interoperate(hsm, crypto_for, keyvault):
    secret = os.urandom(32)
    imported = hsm.import_key("imp", JsonWebKey(kty=KeyType.oct, k=secret))
    assert imported.key_type == KeyType.oct_hsm and imported.key.k is None
    cc = crypto_for(imported)
    sealed = cc.encrypt(EncryptionAlgorithm.a256_gcm, b"vault sealed", additional_authenticated_data=b"aad")
    assert AESGCM(secret).decrypt(sealed.iv, sealed.ciphertext + sealed.tag, b"aad") == b"vault sealed"
    nonce = os.urandom(12)
    outside = AESGCM(secret).encrypt(nonce, b"sealed outside", None)
    opened = cc.decrypt(EncryptionAlgorithm.a256_gcm, outside[:-16], iv=nonce, authentication_tag=outside[-16:])
    assert opened.plaintext == b"sealed outside"
    assert served(keyvault)[-2:] == ["encrypt", "decrypt"]


def test_import_adds_a_version(client):
    first = client.create_ec_key("k")
    imported = client.import_key("k", ec_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256"))
    assert imported.properties.version != first.properties.version
    assert client.get_key("k").properties.version == imported.properties.version
    assert len(list(client.list_properties_of_key_versions("k"))) == 2


def test_import_refuses_a_public_only_jwk_and_stores_nothing(client, keyvault):
    public = ec_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256")
    public.d = None
    with pytest.raises(HttpResponseError) as refused:
        client.import_key("k", public)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert "k" not in keyvault.vault().keys


# -- reading and updating -----------------------------------------------------------------------------------


def test_get_latest_and_a_specific_version(client):
    old = client.create_ec_key("k")
    new = client.create_ec_key("k", curve="P-384")
    assert client.get_key("k").id == new.id
    got_old = client.get_key("k", old.properties.version)
    assert got_old.id == old.id and got_old.key.x == old.key.x
    assert got_old.key.crv == KeyCurveName.p_256


def test_get_missing_key_and_version(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_key("nope")
    assert missing.value.error.code == "KeyNotFound"
    assert missing.value.error.message.startswith("A key with (name/id) nope was not found in this key vault.")
    client.create_ec_key("k")
    with pytest.raises(ResourceNotFoundError) as missing_version:
        client.get_key("k", "0" * 32)
    assert f"(name/id) k/{'0' * 32} was not found" in missing_version.value.error.message


def test_update_key_properties(client, keyvault):
    keyvault.clock.freeze()
    created = client.create_rsa_key("k", tags={"a": "1"})
    keyvault.clock.advance(minutes=3)
    expires = datetime(2045, 6, 1, tzinfo=timezone.utc)
    updated = client.update_key_properties(
        "k",
        enabled=False,
        expires_on=expires,
        tags={"b": "2"},
        key_operations=[KeyOperation.decrypt, KeyOperation.unwrap_key],
    )
    assert updated.properties.enabled is False
    assert updated.properties.expires_on == expires
    assert updated.properties.tags == {"b": "2"}
    assert updated.key_operations == ["decrypt", "unwrapKey"]
    assert updated.properties.created_on == created.properties.created_on
    assert updated.properties.updated_on == created.properties.created_on + timedelta(minutes=3)
    assert updated.key.n == created.key.n  # the material never changes
    fetched = client.get_key("k")
    assert (fetched.properties.enabled, fetched.key_operations) == (False, ["decrypt", "unwrapKey"])


def test_update_a_specific_version_only(client):
    old = client.create_ec_key("k")
    new = client.create_ec_key("k")
    client.update_key_properties("k", old.properties.version, enabled=False)
    assert client.get_key("k", old.properties.version).properties.enabled is False
    assert client.get_key("k", new.properties.version).properties.enabled is True


def test_update_refuses_unknown_key_operations(client):
    client.create_ec_key("k")
    with pytest.raises(HttpResponseError) as refused:
        client.update_key_properties("k", key_operations=["sign", "fly"])
    assert refused.value.status_code == 400
    assert client.get_key("k").key_operations == ["sign", "verify"]


def test_list_keys_pages_through_everything(client, keyvault):
    names = [f"key-{i:02d}" for i in range(30)]
    for name in reversed(names):
        keyvault.vault().keys.create(name, "EC")
    keyvault.requests.clear()
    pages = [[p.name for p in page] for page in client.list_properties_of_keys(max_page_size=7).by_page()]
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    assert [n for page in pages for n in page] == names
    assert served(keyvault) == ["GetKeys"] * 5


def test_list_keys_items_are_unversioned_properties(client, keyvault):
    client.create_ec_key("k", tags={"t": "1"})
    client.create_ec_key("k")
    [item] = client.list_properties_of_keys()
    assert (item.name, item.version, item.tags) == ("k", None, None)
    assert item.id == f"{keyvault.vault_url}/keys/k"
    assert item.enabled is True


def test_list_key_versions(client):
    versions = {client.create_ec_key("k").properties.version for _ in range(5)}
    listed = list(client.list_properties_of_key_versions("k", max_page_size=2))
    assert {p.version for p in listed} == versions
    assert all(p.id.endswith(f"/keys/k/{p.version}") for p in listed)
    assert list(client.list_properties_of_key_versions("missing")) == []  # the service: 200, an empty page


# -- delete, recover, purge ---------------------------------------------------------------------------------


def test_delete_recover_purge(client, keyvault, no_real_sleep):
    key = client.create_rsa_key("k")
    deleted = client.begin_delete_key("k").result()
    assert deleted.name == "k"
    assert deleted.recovery_id == f"{keyvault.vault_url}/deletedkeys/k"
    assert deleted.scheduled_purge_date - deleted.deleted_date == timedelta(days=90)
    assert deleted.key.n == key.key.n
    with pytest.raises(ResourceNotFoundError):
        client.get_key("k")
    assert client.get_deleted_key("k").properties.version == key.properties.version
    recovered = client.begin_recover_deleted_key("k").result()
    assert recovered.id == key.id
    assert client.get_key("k").key.n == key.key.n
    client.begin_delete_key("k").wait()
    assert client.purge_deleted_key("k") is None
    assert keyvault.requests.last.status == 204
    with pytest.raises(ResourceNotFoundError) as gone:
        client.get_deleted_key("k")
    assert gone.value.error.message == "Deleted Key not found: k"
    assert client.create_ec_key("k").name == "k"


def test_delete_poller_polls_once(client, keyvault, no_real_sleep):
    client.create_ec_key("k")
    client.begin_delete_key("k").wait()
    assert served(keyvault)[-2:] == ["DeleteKey", "GetDeletedKey"]


def test_list_deleted_keys(client, keyvault, no_real_sleep):
    for name in ("a", "b", "c"):
        keyvault.vault().keys.create(name, "EC")
        client.begin_delete_key(name).wait()
    deleted = list(client.list_deleted_keys(max_page_size=2))
    assert [d.name for d in deleted] == ["a", "b", "c"]
    assert all(d.recovery_id.endswith(f"/deletedkeys/{d.name}") for d in deleted)
    assert all(d.deleted_date is not None for d in deleted)


def test_delete_missing_key(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.begin_delete_key("missing")
    assert missing.value.error.code == "KeyNotFound"


# -- backup and restore -------------------------------------------------------------------------------------


def test_backup_and_restore_keep_every_version_and_the_material(client, crypto_for, no_real_sleep):
    versions = [client.create_ec_key("k", tags={"i": str(i)}).properties.version for i in range(3)]
    first = client.get_key("k", versions[0])
    blob = client.backup_key("k")
    assert isinstance(blob, bytes)
    client.begin_delete_key("k").wait()
    client.purge_deleted_key("k")
    restored = client.restore_key_backup(blob)
    assert restored.name == "k" and restored.properties.version == versions[-1]
    assert restored.properties.tags == {"i": "2"}
    assert {p.version for p in client.list_properties_of_key_versions("k")} == set(versions)
    again = client.get_key("k", versions[0])
    assert (again.key.x, again.key.y) == (first.key.x, first.key.y)
    digest = digest_for("ES256")
    signature = crypto_for(again).sign(SignatureAlgorithm.es256, digest).signature
    verify_ec_with_cryptography(ec_public(first.key), "ES256", digest, signature)


def test_backup_blob_hides_the_key_material(hsm):
    secret = os.urandom(32)
    hsm.import_key("k", JsonWebKey(kty=KeyType.oct, k=secret))
    blob = hsm.backup_key("k")
    assert secret not in blob and b64url(secret).encode() not in blob


def test_restore_over_an_existing_key_conflicts(client):
    client.create_ec_key("k")
    with pytest.raises(ResourceExistsError) as conflict:
        client.restore_key_backup(client.backup_key("k"))
    assert conflict.value.status_code == 409


@pytest.mark.parametrize("tamper", ["flip", "truncate", "garbage"])
def test_tampered_backup_is_refused(client, keyvault, tamper, no_real_sleep):
    client.create_ec_key("k")
    blob = client.backup_key("k")
    client.begin_delete_key("k").wait()
    client.purge_deleted_key("k")
    if tamper == "flip":
        blob = blob[:-5] + bytes([blob[-5] ^ 1]) + blob[-4:]
    elif tamper == "truncate":
        blob = blob[: len(blob) // 2]
    else:
        blob = b"definitely not a backup"
    with pytest.raises(HttpResponseError) as refused:
        client.restore_key_backup(blob)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "Malformed backup blob"
    # short garbage (recorded: Go SDK TestBackupKey 2021-22, Java SDK 2023) or a good version with changed content
    assert refused.value.error.message == "Backup blob is corrupt."
    assert list(keyvault.vault().keys) == []


def test_secret_backup_does_not_restore_as_a_key(client, keyvault):
    secrets = SecretClient(keyvault.vault_url, keyvault.credential)
    secrets.set_secret("s", "v")
    with pytest.raises(HttpResponseError) as refused:
        client.restore_key_backup(secrets.backup_secret("s"))
    assert refused.value.error.code == "Malformed backup blob"


# -- rotation -----------------------------------------------------------------------------------------------


def test_rotate_makes_a_new_version_of_the_same_kind(client):
    old = client.create_rsa_key("k", size=2048, tags={"keep": "me"}, key_operations=["sign", "verify"])
    new = client.rotate_key("k")
    assert new.properties.version != old.properties.version
    assert new.key_type == KeyType.rsa
    assert rsa_public(new.key).key_size == 2048 and new.key.n != old.key.n
    assert new.key_operations == ["sign", "verify"]
    assert client.get_key("k").id == new.id
    assert client.get_key("k", old.properties.version).key.n == old.key.n


def test_rotate_ec_keeps_the_curve(client):
    client.create_ec_key("k", curve="P-521")
    rotated = client.rotate_key("k")
    assert rotated.key.crv == KeyCurveName.p_521 and len(rotated.key.x) == 66


def test_rotate_missing_key(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        client.rotate_key("missing")
    assert missing.value.error.code == "KeyNotFound"


def test_default_rotation_policy_of_a_key_without_one(client, keyvault):
    client.create_ec_key("k")
    policy = client.get_key_rotation_policy("k")
    assert policy.id == f"{keyvault.vault_url}/keys/k/rotationpolicy"
    assert policy.expires_in is None
    assert [(a.action, a.time_after_create, a.time_before_expiry) for a in policy.lifetime_actions] == [
        (KeyRotationPolicyAction.notify, None, "P30D")
    ]
    with pytest.raises(ResourceNotFoundError):
        client.get_key_rotation_policy("missing")


def test_update_and_get_rotation_policy(client, keyvault):
    keyvault.clock.freeze(datetime(2030, 3, 1, tzinfo=timezone.utc))
    client.create_ec_key("k")
    policy = KeyRotationPolicy(
        expires_in="P90D",
        lifetime_actions=[
            KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D"),
            KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P10D"),
        ],
    )
    updated = client.update_key_rotation_policy("k", policy)
    actions = {(a.action, a.time_after_create, a.time_before_expiry) for a in updated.lifetime_actions}
    assert actions == {(KeyRotationPolicyAction.rotate, "P30D", None), (KeyRotationPolicyAction.notify, None, "P10D")}
    assert updated.expires_in == "P90D"
    assert updated.created_on == updated.updated_on == datetime(2030, 3, 1, tzinfo=timezone.utc)
    fetched = client.get_key_rotation_policy("k")
    assert {(a.action, a.time_after_create, a.time_before_expiry) for a in fetched.lifetime_actions} == actions
    assert fetched.expires_in == "P90D"
    keyvault.clock.advance(days=1)
    overridden = client.update_key_rotation_policy(
        "k", fetched, lifetime_actions=[KeyRotationLifetimeAction("Notify", time_before_expiry="P60D")]
    )
    assert [(a.action, a.time_before_expiry) for a in overridden.lifetime_actions] == [
        (KeyRotationPolicyAction.notify, "P60D")
    ]
    assert overridden.created_on == datetime(2030, 3, 1, tzinfo=timezone.utc)
    assert overridden.updated_on == datetime(2030, 3, 2, tzinfo=timezone.utc)


def test_invalid_rotation_policy_is_refused(client):
    client.create_ec_key("k")
    short = KeyRotationPolicy(expires_in="P20D")
    with pytest.raises(HttpResponseError) as refused:
        client.update_key_rotation_policy("k", short)
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert client.get_key_rotation_policy("k").expires_in is None


def test_automatic_rotation_on_the_emulator_clock(client, keyvault):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    original = client.create_rsa_key("k")
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            expires_in="P90D",
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")],
        ),
    )
    keyvault.clock.advance(days=29)
    assert client.get_key("k").id == original.id
    keyvault.clock.advance(days=2)
    rotated = client.get_key("k")
    assert rotated.id != original.id
    assert rotated.key.n != original.key.n
    assert rotated.properties.created_on == start + timedelta(days=30)
    assert rotated.properties.expires_on == start + timedelta(days=120)
    assert client.get_key("k", original.properties.version).properties.expires_on is None
    keyvault.clock.advance(days=60)  # day 91: the day-30 version is due again at day 60 and that one at day 90
    assert len(list(client.list_properties_of_key_versions("k"))) == 4


def test_notify_actions_are_recorded(client, keyvault):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    key = client.create_ec_key("k", expires_on=start + timedelta(days=60))
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
        ),
    )
    keyvault.clock.advance(days=29)
    client.get_key("k")
    assert keyvault.vault().keys.notifications == []
    keyvault.clock.advance(days=2)
    client.get_key("k")
    due = int((start + timedelta(days=30)).timestamp())
    assert keyvault.vault().keys.notifications == [{"name": "k", "version": key.properties.version, "time": due}]
    keyvault.clock.advance(days=5)
    client.get_key("k")
    assert len(keyvault.vault().keys.notifications) == 1  # once per version
    assert len(list(client.list_properties_of_key_versions("k"))) == 1  # notify never rotates


def test_notifications_follow_the_clock_without_a_request(client, keyvault):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    key = client.create_ec_key("k", expires_on=start + timedelta(days=60))
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
        ),
    )
    keyvault.clock.advance(days=31)
    due = int((start + timedelta(days=30)).timestamp())
    assert keyvault.vault().keys.notifications == [{"name": "k", "version": key.properties.version, "time": due}]


def test_rotation_never_backdates_a_version_before_its_policy(client, keyvault):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    original = client.create_ec_key("k")
    keyvault.clock.advance(days=40)
    policy = client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")]
        ),
    )
    assert policy.created_on == start + timedelta(days=40)
    keyvault.clock.advance(days=1)
    versions = list(client.list_properties_of_key_versions("k"))
    newer = [v for v in versions if v.version != original.properties.version]
    assert all(v.created_on >= policy.created_on for v in newer), [v.created_on for v in newer]


def test_backup_carries_the_rotation_policy(client, no_real_sleep):
    client.create_ec_key("k")
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            expires_in="P60D",
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P20D")],
        ),
    )
    blob = client.backup_key("k")
    client.begin_delete_key("k").wait()
    client.purge_deleted_key("k")
    client.restore_key_backup(blob)
    policy = client.get_key_rotation_policy("k")
    assert policy.expires_in == "P60D"
    assert (KeyRotationPolicyAction.rotate, "P20D") in {
        (a.action, a.time_after_create) for a in policy.lifetime_actions
    }


# -- direct access ------------------------------------------------------------------------------------------


def test_direct_create_is_visible_to_the_sdk(client, crypto_for, keyvault):
    seeded = keyvault.vault().keys.create("seeded", "EC", curve="P-384", tags={"seeded": "yes"})
    fetched = client.get_key("seeded")
    assert fetched.properties.version == seeded.version
    assert fetched.key.crv == KeyCurveName.p_384
    assert fetched.properties.tags == {"seeded": "yes"}
    digest = digest_for("ES384")
    signature = crypto_for(fetched).sign(SignatureAlgorithm.es384, digest).signature
    verify_ec_with_cryptography(seeded.payload.material.key.public_key(), "ES384", digest, signature)


def test_direct_import_of_a_known_key(client, crypto_for, keyvault):
    private = ec.generate_private_key(ec.SECP256R1())
    num = private.private_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(num.public_numbers.x.to_bytes(32, "big")),
        "y": b64url(num.public_numbers.y.to_bytes(32, "big")),
        "d": b64url(num.private_value.to_bytes(32, "big")),
    }
    keyvault.vault().keys.import_key("known", jwk)
    fetched = client.get_key("known")
    digest = digest_for("ES256")
    signature = crypto_for(fetched).sign(SignatureAlgorithm.es256, digest).signature
    verify_ec_with_cryptography(private.public_key(), "ES256", digest, signature)


# -- cryptography: RSA --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_rsa() -> rsa.RSAPrivateKey:
    """One RSA key for the many algorithm tests: importing it is much faster than generating a key per test."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def rsa_key(client, shared_rsa):
    return client.import_key("rsa", rsa_jwk(shared_rsa))


@pytest.mark.parametrize("alg", ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"])
def test_rsa_encrypt_locally_decrypt_in_the_vault(rsa_key, crypto_for, keyvault, alg):
    cc = crypto_for(rsa_key)
    keyvault.requests.clear()
    encrypted = cc.encrypt(EncryptionAlgorithm(alg), b"plaintext")
    assert encrypted.key_id == rsa_key.id
    assert len(encrypted.ciphertext) == 256
    decrypted = cc.decrypt(EncryptionAlgorithm(alg), encrypted.ciphertext)
    assert decrypted.plaintext == b"plaintext"
    assert decrypted.key_id == rsa_key.id
    assert served(keyvault) == ["decrypt"]  # the SDK encrypts with the public key itself


@pytest.mark.parametrize("alg", ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"])
def test_rsa_wrap_locally_unwrap_in_the_vault(rsa_key, crypto_for, keyvault, alg):
    cc = crypto_for(rsa_key)
    keyvault.requests.clear()
    cek = os.urandom(32)
    wrapped = cc.wrap_key(KeyWrapAlgorithm(alg), cek)
    assert cc.unwrap_key(KeyWrapAlgorithm(alg), wrapped.encrypted_key).key == cek
    assert served(keyvault) == ["unwrapKey"]


def test_cryptography_outside_encrypts_vault_decrypts(rsa_key, crypto_for):
    public = rsa_public(rsa_key.key)
    paddings = {
        "RSA-OAEP": asym_padding.OAEP(asym_padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
        "RSA-OAEP-256": asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
        "RSA1_5": asym_padding.PKCS1v15(),
    }
    cc = crypto_for(rsa_key)
    for alg, padding in paddings.items():
        ciphertext = public.encrypt(alg.encode(), padding)
        assert cc.decrypt(EncryptionAlgorithm(alg), ciphertext).plaintext == alg.encode()


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_sign_in_the_vault_verify_anywhere(rsa_key, crypto_for, keyvault, alg):
    cc = crypto_for(rsa_key)
    keyvault.requests.clear()
    digest = digest_for(alg)
    signed = cc.sign(SignatureAlgorithm(alg), digest)
    assert signed.key_id == rsa_key.id and signed.algorithm == alg
    assert len(signed.signature) == 256
    assert cc.verify(SignatureAlgorithm(alg), digest, signed.signature).is_valid is True
    tampered = bytes([signed.signature[0] ^ 1]) + signed.signature[1:]
    assert cc.verify(SignatureAlgorithm(alg), digest, tampered).is_valid is False
    assert served(keyvault) == ["sign"]  # verify happened in the SDK
    hash_algorithm = HASHES[alg[2:5]][1]
    padding = (
        asym_padding.PSS(asym_padding.MGF1(hash_algorithm), hash_algorithm.digest_size)
        if alg.startswith("PS")
        else asym_padding.PKCS1v15()
    )
    rsa_public(rsa_key.key).verify(signed.signature, digest, padding, Prehashed(hash_algorithm))


def test_rs256_signatures_are_deterministic_ps256_are_not(rsa_key, crypto_for):
    cc = crypto_for(rsa_key)
    digest = digest_for("RS256")
    assert cc.sign("RS256", digest).signature == cc.sign("RS256", digest).signature
    assert cc.sign("PS256", digest).signature != cc.sign("PS256", digest).signature


def test_crypto_client_from_a_key_id_fetches_the_key_first(rsa_key, keyvault):
    keyvault.requests.clear()
    cc = CryptographyClient(rsa_key.id, keyvault.credential)
    signed = cc.sign(SignatureAlgorithm.rs256, digest_for("RS256"))
    assert signed.key_id == rsa_key.id
    assert served(keyvault) == ["GetKey", "sign"]


def test_crypto_client_for_the_latest_version(client, keyvault):
    client.create_ec_key("k")
    latest = client.create_ec_key("k")
    cc = client.get_cryptography_client("k")
    keyvault.requests.clear()
    signed = cc.sign(SignatureAlgorithm.es256, digest_for("ES256"))
    assert signed.key_id == latest.id
    assert served(keyvault) == ["GetKey", "sign"]


def test_rsa_hsm_key_signs_and_decrypts(client, crypto_for):
    key = client.create_rsa_key("hsm", hardware_protected=True)
    cc = crypto_for(key)
    digest = digest_for("PS512")
    assert cc.verify("PS512", digest, cc.sign("PS512", digest).signature).is_valid
    encrypted = cc.encrypt("RSA-OAEP-256", b"hsm")
    assert cc.decrypt("RSA-OAEP-256", encrypted.ciphertext).plaintext == b"hsm"


def test_operation_not_in_key_ops_is_forbidden(client, crypto_for):
    key = client.create_rsa_key("k", key_operations=["encrypt", "verify"])
    with pytest.raises(HttpResponseError) as refused:
        crypto_for(key).sign(SignatureAlgorithm.rs256, digest_for("RS256"))
    assert refused.value.status_code == 403
    assert refused.value.error.message == "Operation sign is not permitted on this key."
    assert refused.value.error.innererror == {"code": "KeyOperationForbidden"}


def test_disabled_key_refuses_crypto(client, crypto_for):
    key = client.create_rsa_key("k", enabled=False)
    with pytest.raises(HttpResponseError) as refused:
        crypto_for(key).sign(SignatureAlgorithm.rs256, digest_for("RS256"))
    assert refused.value.status_code == 403
    assert refused.value.error.message == "Operation sign is not allowed on a disabled key."
    assert refused.value.error.innererror == {"code": "KeyDisabled"}


def test_vault_refuses_a_wrong_ciphertext_with_400(rsa_key, crypto_for, keyvault):
    with pytest.raises(HttpResponseError) as refused:
        crypto_for(rsa_key).decrypt(EncryptionAlgorithm.rsa_oaep, os.urandom(256))
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"
    assert keyvault.requests.internal_errors() == []


# -- cryptography: EC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("crv", list(CURVES))
def test_ec_sign_in_the_vault_verify_anywhere(client, crypto_for, keyvault, crv):
    key = client.create_ec_key("ec", curve=crv)
    alg = CURVES[crv][2]
    cc = crypto_for(key)
    keyvault.requests.clear()
    digest = digest_for(alg)
    signed = cc.sign(SignatureAlgorithm(alg), digest)
    assert len(signed.signature) == 2 * CURVES[crv][1]  # raw r||s, not DER
    assert cc.verify(SignatureAlgorithm(alg), digest, signed.signature).is_valid is True
    assert cc.verify(SignatureAlgorithm(alg), digest_for(alg, b"other"), signed.signature).is_valid is False
    assert served(keyvault) == ["sign"]
    verify_ec_with_cryptography(ec_public(key.key), alg, digest, signed.signature)


def test_ec_sign_with_the_wrong_curve_algorithm(client, crypto_for):
    key = client.create_ec_key("ec", curve="P-256")
    with pytest.raises(HttpResponseError) as refused:
        crypto_for(key).sign(SignatureAlgorithm.es384, digest_for("ES384"))
    assert refused.value.status_code == 400
    assert refused.value.error.code == "BadParameter"


# -- cryptography: oct --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [128, 192, 256])
def test_aes_gcm_in_the_vault(hsm, crypto_for, keyvault, size):
    key = hsm.create_oct_key("aes", size=size, hardware_protected=True)
    cc = crypto_for(key)
    alg = EncryptionAlgorithm(f"A{size}GCM")
    keyvault.requests.clear()
    sealed = cc.encrypt(alg, b"gcm plaintext", additional_authenticated_data=b"context")
    assert len(sealed.iv) == 12 and len(sealed.tag) == 16
    assert sealed.aad == b"context"
    assert sealed.ciphertext != b"gcm plaintext"
    opened = cc.decrypt(
        alg, sealed.ciphertext, iv=sealed.iv, authentication_tag=sealed.tag, additional_authenticated_data=b"context"
    )
    assert opened.plaintext == b"gcm plaintext"
    with pytest.raises(HttpResponseError) as wrong_aad:
        cc.decrypt(alg, sealed.ciphertext, iv=sealed.iv, authentication_tag=sealed.tag)
    assert wrong_aad.value.status_code == 400
    assert served(keyvault) == ["encrypt", "decrypt", "decrypt"]


@pytest.mark.parametrize("size", [128, 192, 256])
def test_aes_cbc_in_the_vault(hsm, crypto_for, keyvault, size):
    key = hsm.create_oct_key("aes", size=size)
    cc = crypto_for(key)
    alg = EncryptionAlgorithm(f"A{size}CBC")
    iv = os.urandom(16)
    keyvault.requests.clear()
    encrypted = cc.encrypt(alg, b"exactly 32 bytes of plaintext!!!", iv=iv)
    assert encrypted.iv == iv and len(encrypted.ciphertext) == 32
    assert cc.decrypt(alg, encrypted.ciphertext, iv=iv).plaintext == b"exactly 32 bytes of plaintext!!!"
    assert served(keyvault) == ["encrypt", "decrypt"]


@pytest.mark.parametrize("size", [128, 192])
def test_aes_cbcpad_in_the_vault(hsm, crypto_for, keyvault, size):
    # The SDK tries CBCPAD locally first; with no 'k' in the JWK its local key is 256 bits, so for these sizes
    # it gives up and the vault does the work.
    key = hsm.create_oct_key("aes", size=size)
    cc = crypto_for(key)
    alg = EncryptionAlgorithm(f"A{size}CBCPAD")
    iv = os.urandom(16)
    keyvault.requests.clear()
    encrypted = cc.encrypt(alg, b"any length", iv=iv)
    assert len(encrypted.ciphertext) == 16
    assert cc.decrypt(alg, encrypted.ciphertext, iv=iv).plaintext == b"any length"
    assert served(keyvault) == ["encrypt", "decrypt"]


@pytest.mark.parametrize("size", [128, 192, 256])
def test_sdk_never_sends_aes_key_wrap_to_the_vault(hsm, crypto_for, keyvault, wire_for, size):
    """Like against the real service: an oct JWK carries no 'k', so the SDK's local provider invents a random
    key and wraps with it. The vault cannot unwrap that, and says so with a 400 (see test_keys_wire.py for
    A*KW done by the vault)."""
    key = hsm.create_oct_key("aes", size=size)
    cc = crypto_for(key)
    keyvault.requests.clear()
    alg = KeyWrapAlgorithm(f"A{size}KW")
    wrapped = cc.wrap_key(alg, b"k" * 32)
    assert served(keyvault) == []
    response = wire_for(keyvault.app, base_url=HSM_URL).post(
        f"/keys/aes/{key.properties.version}/unwrapkey",
        body={"alg": alg.value, "value": b64url(wrapped.encrypted_key)},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "BadParameter"


def test_oct_key_ops_are_enforced(hsm, crypto_for):
    key = hsm.create_oct_key("aes", size=256, key_operations=["encrypt"])
    cc = crypto_for(key)
    sealed = cc.encrypt(EncryptionAlgorithm.a256_gcm, b"x")
    with pytest.raises(HttpResponseError) as refused:
        cc.decrypt(EncryptionAlgorithm.a256_gcm, sealed.ciphertext, iv=sealed.iv, authentication_tag=sealed.tag)
    assert refused.value.status_code == 403
    assert refused.value.error.message == "Operation decrypt is not permitted on this key."


def test_default_policy_notifies_thirty_days_before_expiry(client, keyvault):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    key = client.create_ec_key("k", expires_on=start + timedelta(days=60))
    keyvault.clock.advance(days=29)
    assert keyvault.vault().keys.notifications == []
    keyvault.clock.advance(days=2)
    due = int((start + timedelta(days=30)).timestamp())
    assert keyvault.vault().keys.notifications == [{"name": "k", "version": key.properties.version, "time": due}]


def test_hsm_platform_from_7_5(keyvault):
    old = KeyClient(keyvault.vault_url, keyvault.credential, api_version="7.4").create_ec_key("a")
    new = KeyClient(keyvault.vault_url, keyvault.credential, api_version="7.5").create_ec_key("b")
    assert old.properties.hsm_platform is None
    assert new.properties.hsm_platform == "0"
