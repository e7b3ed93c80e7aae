"""The pure crypto layer: round trips, interop with plain ``cryptography`` and the SDK's local crypto, refusals."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from azure.keyvault.keys import JsonWebKey, KeyOperation
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm, SignatureAlgorithm
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_unwrap_with_padding, aes_key_wrap

from kv_emulator.errors import BadParameter
from kv_emulator.objects import crypto, key_material
from kv_emulator.objects.key_material import KeyMaterial

KID = "https://kv-emulator.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef"
HASHES = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}
CRYPTO_HASHES = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
EC_ALGS = {"ES256": ("P-256", "256"), "ES384": ("P-384", "384"), "ES512": ("P-521", "512"), "ES256K": ("P-256K", "256")}
AES_BYTES = {"128": 16, "192": 24, "256": 32}

Keys = Callable[..., KeyMaterial]


@pytest.fixture(scope="module")
def keys() -> Keys:
    """Keys made once per module and shared: ``keys("RSA", 4096)``, ``keys("EC", "P-384")``, ``keys("oct", 128)``."""
    cache: dict[tuple[str, object], KeyMaterial] = {}

    def get(kty: str, spec: object = None) -> KeyMaterial:
        if (kty, spec) not in cache:
            family = key_material.key_family(kty)
            if family == "EC":
                cache[kty, spec] = key_material.generate_key(kty, curve=spec if isinstance(spec, str) else None)
            else:
                cache[kty, spec] = key_material.generate_key(kty, size=spec if isinstance(spec, int) else None)
        return cache[kty, spec]

    return get


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def digest_for(alg: str, data: bytes = b"kv-emulator") -> bytes:
    return HASHES[alg[-3:]](data).digest()


def raw_rs(r: int, s: int, width: int) -> bytes:
    """An ECDSA signature as JWS has it: fixed-width r then s."""
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def oct_key(alg: str, keys: Keys) -> KeyMaterial:
    """The oct key an AES algorithm name asks for (CKM_* work with any size; use 256)."""
    bits = next((int(size) for size in AES_BYTES if size in alg), 256)
    return keys("oct", bits)


# --- generation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kty", "size", "curve"),
    [
        ("RSA", 2048, None),
        ("RSA-HSM", 2048, None),
        ("EC", None, "P-256"),
        ("EC-HSM", None, "P-256"),
        ("oct", 256, None),
        ("oct-HSM", 256, None),
    ],
)
def test_generate_defaults(kty: str, size: int | None, curve: str | None) -> None:
    material = key_material.generate_key(kty)
    assert (material.kty, material.key_size, material.curve) == (kty, size, curve)
    assert material.hsm == kty.endswith("-HSM")
    if material.family == "RSA":
        assert material.public_jwk(KID)["e"] == "AQAB"


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_generate_rsa_sizes(keys: Keys, size: int) -> None:
    material = keys("RSA", size)
    assert material.key_size == size
    assert len(b64(material.public_jwk(KID)["n"])) == size // 8


@pytest.mark.parametrize(("curve", "width"), [("P-256", 32), ("P-384", 48), ("P-521", 66), ("P-256K", 32)])
def test_generate_ec_curves(keys: Keys, curve: str, width: int) -> None:
    jwk = keys("EC", curve).public_jwk(KID)
    assert jwk["crv"] == curve
    assert len(b64(jwk["x"])) == len(b64(jwk["y"])) == width


def test_generate_accepts_old_secp256k1_name() -> None:
    assert key_material.generate_key("EC", curve="SECP256K1").curve == "P-256K"


@pytest.mark.parametrize("size", [128, 192, 256])
def test_generate_oct_sizes(keys: Keys, size: int) -> None:
    assert keys("oct", size).key_size == size


def test_generate_rsa_public_exponent_3() -> None:
    assert key_material.generate_key("RSA", public_exponent=3).public_jwk(KID)["e"] == "Aw"


@pytest.mark.parametrize(
    ("kty", "kwargs", "fragment"),
    [
        ("RSA", {"size": 1024}, "key_size 1024"),
        ("RSA", {"size": True}, "integer"),
        ("RSA", {"curve": "P-256"}, "only valid for EC"),
        ("RSA", {"public_exponent": 4}, "public_exponent 4"),
        ("EC", {"curve": "P-999"}, "P-999"),
        ("EC", {"size": 256}, "key_size"),
        ("EC", {"public_exponent": 65537}, "only valid for RSA"),
        ("oct", {"size": 512}, "Invalid key size: .512."),
        ("oct", {"curve": "P-256"}, "only valid for EC"),
        ("DSA", {}, "DSA"),
        ("rsa", {}, "rsa"),
    ],
)
def test_generate_refuses_bad_combinations(kty: str, kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(BadParameter, match=fragment):
        key_material.generate_key(kty, **kwargs)


@pytest.mark.parametrize(
    ("kty", "ops"),
    [
        ("RSA", ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]),
        ("RSA-HSM", ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]),
        ("EC", ["sign", "verify"]),
        ("EC-HSM", ["sign", "verify"]),
        ("oct", ["encrypt", "decrypt", "wrapKey", "unwrapKey"]),
        ("oct-HSM", ["encrypt", "decrypt", "wrapKey", "unwrapKey"]),
    ],
)
def test_default_key_ops(kty: str, ops: list[str]) -> None:
    assert key_material.default_key_ops(kty) == ops


def test_algorithm_constants_cover_the_spec() -> None:
    spec_encryption = (  # JsonWebKeyEncryptionAlgorithm + JsonWebKeyWrapAlgorithm, protocol.md section 8
        "RSA-OAEP RSA-OAEP-256 RSA1_5 A128GCM A192GCM A256GCM A128KW A192KW A256KW A128CBC A192CBC A256CBC "
        "A128CBCPAD A192CBCPAD A256CBCPAD CKM_AES_KEY_WRAP CKM_AES_KEY_WRAP_PAD A128KWPAD A192KWPAD A256KWPAD"
    )
    assert set(crypto.ENCRYPTION_ALGORITHMS) | set(crypto.WRAP_ALGORITHMS) == set(spec_encryption.split())
    rsa_algs = {"RSA-OAEP", "RSA-OAEP-256", "RSA1_5"}
    assert set(crypto.ENCRYPTION_ALGORITHMS) & set(crypto.WRAP_ALGORITHMS) == rsa_algs  # AES: encrypt xor wrap
    signatures = [
        "PS256",
        "PS384",
        "PS512",
        "RS256",
        "RS384",
        "RS512",
        "ES256",
        "ES384",
        "ES512",
        "ES256K",
        "HS256",
        "HS384",
        "HS512",
    ]  # RSNULL: not implemented
    assert set(crypto.SIGNATURE_ALGORITHMS) == set(signatures)


# --- JWK export / import ------------------------------------------------------------------------------------


def test_public_jwk_rsa_shape(keys: Keys) -> None:
    jwk = keys("RSA", 2048).public_jwk(KID, ["sign", "verify"])
    assert list(jwk) == ["kid", "kty", "key_ops", "n", "e"]
    assert jwk["kid"] == KID and jwk["key_ops"] == ["sign", "verify"]
    assert all("=" not in jwk[f] and "+" not in jwk[f] and "/" not in jwk[f] for f in ("n", "e"))


def test_public_jwk_ec_shape(keys: Keys) -> None:
    jwk = keys("EC-HSM", "P-384").public_jwk(KID)
    assert list(jwk) == ["kid", "kty", "key_ops", "crv", "x", "y"]
    assert (jwk["kty"], jwk["key_ops"]) == ("EC-HSM", ["sign", "verify"])


@pytest.mark.parametrize("kty", ["oct", "oct-HSM"])
def test_public_jwk_oct_has_no_material(kty: str) -> None:
    jwk = key_material.generate_key(kty).public_jwk(KID)
    assert jwk == {"kid": KID, "kty": kty, "key_ops": ["encrypt", "decrypt", "wrapKey", "unwrapKey"]}
    assert key_material.generate_key(kty).public_key() is None


def test_repr_hides_the_secret(keys: Keys) -> None:
    material = keys("oct", 256)
    assert repr(material) == "KeyMaterial(kty='oct', key_size=256)"
    assert repr(keys("EC", "P-256")) == "KeyMaterial(kty='EC', curve='P-256')"


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_import_rsa_from_cryptography_and_rebuild_public_key(keys: Keys, size: int) -> None:
    private = keys("RSA", size).key  # reuse slow keys; rebuild the JWK by hand from cryptography's numbers
    assert isinstance(private, rsa.RSAPrivateKey)
    numbers = private.private_numbers()

    def enc(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode().rstrip("=")

    jwk = {
        "kty": "RSA-HSM",
        "n": enc(numbers.public_numbers.n),
        "e": enc(numbers.public_numbers.e),
        "d": enc(numbers.d),
        "p": enc(numbers.p),
        "q": enc(numbers.q),
        "dp": enc(numbers.dmp1),
        "dq": enc(numbers.dmq1),
        "qi": enc(numbers.iqmp),
        "key_ops": ["sign"],
    }
    material = KeyMaterial.from_jwk(jwk)
    assert (material.kty, material.key_size) == ("RSA-HSM", size)
    public = material.public_jwk(KID, ["sign"])
    rebuilt = rsa.RSAPublicNumbers(int.from_bytes(b64(public["e"]), "big"), int.from_bytes(b64(public["n"]), "big"))
    assert rebuilt == private.public_key().public_numbers()
    assert public["n"] == jwk["n"] and public["e"] == jwk["e"]


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(), ec.SECP256K1()])
def test_import_ec_from_cryptography_and_rebuild_public_key(curve: ec.EllipticCurve) -> None:
    private = ec.generate_private_key(curve)
    width = (curve.key_size + 7) // 8
    numbers = private.private_numbers()

    def enc(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(width, "big")).decode().rstrip("=")

    crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "P-256K"}[curve.name]
    jwk = {
        "kty": "EC",
        "crv": crv,
        "x": enc(numbers.public_numbers.x),
        "y": enc(numbers.public_numbers.y),
        "d": enc(numbers.private_value),
    }
    material = KeyMaterial.from_jwk(jwk)
    assert material.curve == crv
    public = material.public_jwk(KID)
    rebuilt = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64(public["x"]), "big"), int.from_bytes(b64(public["y"]), "big"), curve
    )
    assert rebuilt == private.public_key().public_numbers()


# The ImportKey example of the 2026-04-01 spec: the service answered with exactly this n and e.
SPEC_IMPORT_KEY = {
    "kty": "RSA",
    "n": (
        "nKAwarTrOpzd1hhH4cQNdVTgRF-b0ubPD8ZNVf0UXjb62QuAk3Dn68ESThcF7SoDYRx2QVcfoMC9WCcuQUQDieJF-lvJTSer1TwH"
        "72NBovwKlHvrXqEI0a6_uVYY5n-soGt7qFZNbwQLdWWA6PrbqTLIkv6r01dcuhTiQQAn6OWEa0JbFvWfF1kILQIaSBBBaaQ4R7hZ"
        "s7-VQTHGD7J1xGteof4gw2VTiwNdcE8p5UG5b6S9KQwAeET4yB4KFPwQ3TDdzxJQ89mwYVi_sgAIggN54hTq4oEKYJHBOMtFGIN0"
        "_HQ60ZSUnpOi87xNC-8VFqnv4rfTQ7nkK6XMvjMVfw"
    ),
    "e": "AQAB",
    "d": (
        "GeT1_D5LAZa7qlC7WZ0DKJnOth8kcPrN0urTEFtWCbmHQWkAad_px_VUpGp0BWDDzENbXbQcu4QCCdf4crve5eXt8dVI86OSah-R"
        "pEdBq8OFsETIhg2Tmq8MbYTJexoynRcIC62xAaCmkFMmu931gQSvWnYWTEuOPgmD2oE_F-bP9TFlGRc69a6MSbtcSRyFTsd5KsUr"
        "40QS4zf2W4kZCOWejyLuxk88SXgUqcJx86Ulc1Ol1KkTBLadvReAZCyCMwKBlNRGw46BU_iK0vK7rTD9fmEd639Gjti6eLpnyQYp"
        "nVe8uGgwVU1fHBkAKyapWoEG6VMhMntcrvgukKLIsQ"
    ),
    "dp": (
        "ZGnmWx-Nca71z9a9vvT4g02iv3S-3kSgmhl8JST09YQwK8tfiK7nXnNMtXJi2K4dLKKnLicGtCzB6W3mXdLcP2SUOWDOeStoBt8H"
        "EBT4MrI1psCKqnBum78WkHju90rBFj99amkP6UeQy5EASAzgmKQu2nUaUnRV0lYP8LHMCkE"
    ),
    "dq": (
        "dtpke0foFs04hPS6XYLA5lc7-1MAHfZKN4CkMAofwDqPmRQzCxpDJUk0gMWGJEdU_Lqfbg22Py44cci0dczH36NW3UU5BL86T2_S"
        "PPDOuyX7kDscrIJCdowxQCGJHGRBEozM_uTL46wu6UnUIv7m7cuGgodJyZBcdwpo6ziFink"
    ),
    "qi": (
        "Y9KD5GaHkAYmAqpOfAQUMr71QuAAaBb0APzMuUvoEYw39PD3_vJeh9HZ15QmJ8zCX10-nlzUB-bWwvK-rGcJXbK4pArilr5MiaYv"
        "7e8h5eW2zs2_itDJ6Oebi-wVbMhg7DvUTBbkCvPhhIedE4UlDQmMYP7RhzVVs7SfmkGs_DQ"
    ),
    "p": (
        "v1jeCPnuJQM2PW2690Q9KJk0Ulok8VFGjkcHUHVi3orKdy7y_TCIWM6ZGvgFzI6abinzYbTEPKV4wFdMAwvOWmawXj5YrsoeB44_"
        "HXJ0ak_5_iP6XXR8MLGXbd0ZqsxvAZyzMj9vyle7EN2cBod6aenI2QZoRDucPvjPwZsZotk"
    ),
    "q": (
        "0Yv-Dj6qnvx_LL70lUnKA6MgHE_bUC4drl5ZNDDsUdUUYfxIK4G1rGU45kHGtp-Qg-Uyf9s52ywLylhcVE3jfbjOgEozlSwKyhqf"
        "XkLpMLWHqOKj9fcfYd4PWKPOgpzWsqjA6fJbBUMYo0CU2G9cWCtVodO7sBJVSIZunWrAlBc"
    ),
}


def test_import_spec_example_answers_like_the_service() -> None:
    material = KeyMaterial.from_jwk(SPEC_IMPORT_KEY)
    jwk = material.public_jwk("https://myvault.vault.azure.net/keys/ImportSoftKeyTest/2eb4a15d74184c6f84159c3ca90f0f4b")
    assert (jwk["n"], jwk["e"], material.key_size) == (SPEC_IMPORT_KEY["n"], "AQAB", 2048)
    assert material.private_jwk() == SPEC_IMPORT_KEY


def test_import_rsa_without_crt_values_recovers_them() -> None:
    minimal = {name: SPEC_IMPORT_KEY[name] for name in ("kty", "n", "e", "d")}
    recovered = KeyMaterial.from_jwk(minimal).private_jwk()
    assert {recovered["p"], recovered["q"]} == {SPEC_IMPORT_KEY["p"], SPEC_IMPORT_KEY["q"]}  # in either order
    if recovered["p"] == SPEC_IMPORT_KEY["p"]:
        assert recovered == SPEC_IMPORT_KEY
    without_crt = {name: SPEC_IMPORT_KEY[name] for name in ("kty", "n", "e", "d", "p", "q")}
    assert KeyMaterial.from_jwk(without_crt).private_jwk() == SPEC_IMPORT_KEY


def test_import_is_lenient_about_base64() -> None:
    def standard(text: str) -> str:  # padded, with + and /
        return base64.b64encode(b64(text)).decode()

    lenient = {name: standard(value) if name != "kty" else value for name, value in SPEC_IMPORT_KEY.items()}
    assert any(c in "".join(lenient.values()) for c in "+/=")
    assert KeyMaterial.from_jwk(lenient).private_jwk() == SPEC_IMPORT_KEY


@pytest.mark.parametrize(
    ("kty", "spec"),
    [
        ("RSA", 2048),
        ("RSA-HSM", 3072),
        ("EC", "P-256"),
        ("EC-HSM", "P-521"),
        ("EC", "P-256K"),
        ("oct", 128),
        ("oct-HSM", 192),
    ],
)
def test_private_jwk_round_trip(keys: Keys, kty: str, spec: object) -> None:
    material = keys(kty, spec)
    private = material.private_jwk()
    assert all("=" not in value for value in private.values())
    again = KeyMaterial.from_jwk(private)
    assert (again.kty, again.key_size, again.curve) == (material.kty, material.key_size, material.curve)
    assert again.private_jwk() == private
    assert again.public_jwk(KID) == material.public_jwk(KID)


def test_ec_private_jwk_is_fixed_width(keys: Keys) -> None:
    private = keys("EC", "P-521").private_jwk()
    assert {len(b64(private[name])) for name in ("x", "y", "d")} == {66}


def _tampered(jwk: dict[str, str], **changes: str | None) -> dict[str, str]:
    out = dict(jwk)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        # a JWK the service cannot read (issue 19; presumed for these cases): no kty, no n or e, not base64url
        ({"kty": None}, "valid JsonWebKey object"),
        ({"kty": "DSA"}, "DSA"),
        ({"n": None}, "valid JsonWebKey object"),
        ({"d": None}, "'d'"),
        ({"e": ""}, "valid JsonWebKey object"),
        ({"n": "not base64!"}, "valid JsonWebKey object"),
        ({"dp": "AQAB"}, "RSA key is not valid - cannot instantiate crypto service"),
        ({"key_hsm": "AAAA"}, "BYOK"),
    ],
)
def test_import_rsa_refusals(change: dict[str, str | None], fragment: str) -> None:
    with pytest.raises(BadParameter, match=fragment):
        KeyMaterial.from_jwk(_tampered(SPEC_IMPORT_KEY, **change))


def test_import_refuses_rsa_sizes_the_service_does_not_take() -> None:
    """1024-bit keys import (the service takes them, issue 19: test_fidelity_lifecycle.py); 1536-bit ones do not."""
    odd = rsa.generate_private_key(65537, 1536).private_numbers()
    jwk = {
        "kty": "RSA",
        "n": key_material.b64url_encode(odd.public_numbers.n.to_bytes(192, "big")),
        "e": "AQAB",
        "d": key_material.b64url_encode(odd.d.to_bytes(192, "big")),
    }
    with pytest.raises(BadParameter, match="1536 bits"):
        KeyMaterial.from_jwk(jwk)


def test_import_refuses_non_mappings_and_non_string_fields() -> None:
    with pytest.raises(BadParameter):
        KeyMaterial.from_jwk(["kty", "RSA"])  # type: ignore[arg-type]
    with pytest.raises(BadParameter, match="valid JsonWebKey object"):
        KeyMaterial.from_jwk({**SPEC_IMPORT_KEY, "n": 12345})


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"crv": None}, "valid JsonWebKey object"),
        ({"crv": "P-192"}, "P-192"),
        ({"d": None}, "'d'"),
        ({"x": None}, "valid JsonWebKey object"),
        ({"y": key_material.b64url_encode(b"\x01" * 32)}, "not a valid private key"),
        ({"x": key_material.b64url_encode(b"\x01" * 33)}, "at most 32"),
    ],
)
def test_import_ec_refusals(keys: Keys, change: dict[str, str | None], fragment: str) -> None:
    with pytest.raises(BadParameter, match=fragment):
        KeyMaterial.from_jwk(_tampered(keys("EC", "P-256").private_jwk(), **change))


def test_import_ec_refuses_a_d_of_another_key(keys: Keys) -> None:
    other = key_material.generate_key("EC").private_jwk()
    with pytest.raises(BadParameter, match="not a valid private key"):
        KeyMaterial.from_jwk(_tampered(keys("EC", "P-256").private_jwk(), d=other["d"]))


def test_import_ec_accepts_old_curve_name_and_short_coordinates(keys: Keys) -> None:
    jwk = keys("EC", "P-256K").private_jwk()
    old_name = KeyMaterial.from_jwk(_tampered(jwk, crv="SECP256K1"))
    assert (old_name.curve, old_name.crv) == ("P-256K", "SECP256K1")  # the wire echoes the spelling (issue 19)
    # a coordinate with leading zero bytes stripped still imports (ints are what matter), and d is canonical again
    numbers = key_material.generate_key("EC").private_jwk()
    short = {k: key_material.b64url_encode(b64(v).lstrip(b"\0")) if k in "xyd" else v for k, v in numbers.items()}
    assert KeyMaterial.from_jwk(short).private_jwk() == {**numbers, "x": short["x"], "y": short["y"]}


@pytest.mark.parametrize(("k_bytes", "ok"), [(16, True), (24, True), (32, True), (8, False), (64, False)])
def test_import_oct_sizes(k_bytes: int, ok: bool) -> None:
    jwk = {"kty": "oct-HSM", "k": key_material.b64url_encode(os.urandom(k_bytes))}
    if ok:
        assert KeyMaterial.from_jwk(jwk).key_size == k_bytes * 8
    else:
        with pytest.raises(BadParameter, match="128, 192 or 256"):
            KeyMaterial.from_jwk(jwk)


def test_import_oct_without_k() -> None:
    with pytest.raises(BadParameter, match="valid JsonWebKey object"):
        KeyMaterial.from_jwk({"kty": "oct"})


def test_key_material_checks_its_key_type() -> None:
    with pytest.raises(TypeError):
        KeyMaterial("RSA", b"0123456789abcdef")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AQAB", b"\x01\x00\x01"),
        ("AQAB====", b"\x01\x00\x01"),
        ("-_8", b"\xfb\xff"),
        ("+/8=", b"\xfb\xff"),
        (" AQAB\n", b"\x01\x00\x01"),
        ("", b""),
    ],
)
def test_b64url_decode_is_lenient(text: str, expected: bytes) -> None:
    assert key_material.b64url_decode(text) == expected


@pytest.mark.parametrize("text", ["A", "AQ*B", "AQ AB"])
def test_b64url_decode_refuses_garbage(text: str) -> None:
    with pytest.raises(BadParameter, match="'field'"):
        key_material.b64url_decode(text, field="field")


# --- encrypt / decrypt --------------------------------------------------------------------------------------

RSA_ENC = ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"]
AES_ENC = [f"A{size}{mode}" for size in AES_BYTES for mode in ("GCM", "CBC", "CBCPAD")]


@pytest.mark.parametrize("size", [2048, 4096])
@pytest.mark.parametrize("alg", RSA_ENC)
def test_rsa_encrypt_round_trip(keys: Keys, alg: str, size: int) -> None:
    material = keys("RSA", size)
    result = crypto.encrypt(material, alg, b"attack at dawn")
    assert len(result.ciphertext) == size // 8 and result.iv is None and result.tag is None
    assert crypto.decrypt(material, alg, result.ciphertext) == b"attack at dawn"


@pytest.mark.parametrize("alg", AES_ENC)
@pytest.mark.parametrize("plaintext", [b"", b"sixteen byte msg", b"x" * 100])
def test_aes_encrypt_round_trip(keys: Keys, alg: str, plaintext: bytes) -> None:
    material = oct_key(alg, keys)
    if alg.endswith("CBC") and len(plaintext) % 16:  # zero-padded, as the Managed HSM does; decrypt keeps the zeros
        padded = crypto.encrypt(material, alg, plaintext, iv=os.urandom(16))
        assert len(padded.ciphertext) == len(plaintext) + (-len(plaintext) % 16)
        assert crypto.decrypt(material, alg, padded.ciphertext, iv=padded.iv) == plaintext + bytes(-len(plaintext) % 16)
        return
    result = crypto.encrypt(material, alg, plaintext, iv=os.urandom(16) if "CBC" in alg else None, aad=b"hdr")
    assert result.iv is not None
    out = crypto.decrypt(material, alg, result.ciphertext, iv=result.iv, tag=result.tag, aad=b"hdr")
    assert out == plaintext


@pytest.mark.parametrize("alg", ["A128GCM", "A256GCM"])
def test_gcm_makes_a_fresh_iv_and_a_16_byte_tag(keys: Keys, alg: str) -> None:
    material = oct_key(alg, keys)
    first, second = (crypto.encrypt(material, alg, b"same") for _ in range(2))
    assert first.iv is not None and second.iv is not None and len(first.iv) == 12 and first.iv != second.iv
    assert first.tag is not None and len(first.tag) == 16
    assert len(first.ciphertext) == 4


@pytest.mark.parametrize("alg", ["A128CBC", "A256CBCPAD"])
def test_cbc_without_iv_makes_one(keys: Keys, alg: str) -> None:
    material = oct_key(alg, keys)
    result = crypto.encrypt(material, alg, b"0123456789abcdef")
    assert result.iv is not None and len(result.iv) == 16 and result.tag is None
    assert crypto.decrypt(material, alg, result.ciphertext, iv=result.iv) == b"0123456789abcdef"


@pytest.mark.parametrize("alg", RSA_ENC)
def test_interop_cryptography_encrypts_emulator_decrypts(keys: Keys, alg: str) -> None:
    material = keys("RSA", 2048)
    public = material.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    if alg == "RSA1_5":
        pad: asym_padding.AsymmetricPadding = asym_padding.PKCS1v15()
    else:
        h: hashes.HashAlgorithm = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
        pad = asym_padding.OAEP(asym_padding.MGF1(h), h, None)
    assert crypto.decrypt(material, alg, public.encrypt(b"secret", pad)) == b"secret"
    private = material.key
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.decrypt(crypto.encrypt(material, alg, b"secret").ciphertext, pad) == b"secret"


@pytest.mark.parametrize("size", ["128", "192", "256"])
def test_interop_aes_gcm_and_cbcpad_with_cryptography(keys: Keys, size: str) -> None:
    material = keys("oct", int(size))
    key = material.key
    assert isinstance(key, bytes)
    result = crypto.encrypt(material, f"A{size}GCM", b"payload", aad=b"aad")
    assert result.iv is not None and result.tag is not None
    assert AESGCM(key).decrypt(result.iv, result.ciphertext + result.tag, b"aad") == b"payload"
    iv = os.urandom(16)
    padder = sym_padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(b"payload") + padder.finalize()) + encryptor.finalize()
    assert crypto.decrypt(material, f"A{size}CBCPAD", ciphertext, iv=iv) == b"payload"


def test_gcm_tampering_is_bad_parameter(keys: Keys) -> None:
    material = keys("oct", 256)
    result = crypto.encrypt(material, "A256GCM", b"payload", aad=b"aad")
    assert result.iv is not None and result.tag is not None
    bad_tag = bytes([result.tag[0] ^ 1]) + result.tag[1:]
    bad_ct = bytes([result.ciphertext[0] ^ 1]) + result.ciphertext[1:]
    cases: list[dict[str, Any]] = [
        {"ciphertext": result.ciphertext, "iv": result.iv, "tag": bad_tag, "aad": b"aad"},
        {"ciphertext": bad_ct, "iv": result.iv, "tag": result.tag, "aad": b"aad"},
        {"ciphertext": result.ciphertext, "iv": result.iv, "tag": result.tag, "aad": b"other"},
        {"ciphertext": result.ciphertext, "iv": os.urandom(12), "tag": result.tag, "aad": b"aad"},
        {"ciphertext": result.ciphertext, "iv": result.iv, "tag": result.tag[:12], "aad": b"aad"},
        {"ciphertext": result.ciphertext, "iv": result.iv, "tag": None, "aad": b"aad"},
        {"ciphertext": result.ciphertext, "iv": None, "tag": result.tag, "aad": b"aad"},
        {"ciphertext": result.ciphertext, "iv": b"", "tag": result.tag, "aad": b"aad"},
    ]
    for case in cases:
        ciphertext = case.pop("ciphertext")
        with pytest.raises(BadParameter):
            crypto.decrypt(material, "A256GCM", ciphertext, **case)


def test_cbcpad_bad_padding_is_bad_parameter(keys: Keys) -> None:
    material = keys("oct", 128)
    key = material.key
    assert isinstance(key, bytes)
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    bad = encryptor.update(b"fifteen bytes!!" + b"\x07") + encryptor.finalize()  # last byte 7, but not 7 sevens
    with pytest.raises(BadParameter, match="padding"):
        crypto.decrypt(material, "A128CBCPAD", bad, iv=iv)
    assert crypto.decrypt(material, "A128CBC", bad, iv=iv) == b"fifteen bytes!!\x07"  # no padding: raw


@pytest.mark.parametrize(
    ("ciphertext", "iv", "fragment"),
    [(b"x" * 16, None, "needs the iv"), (b"x" * 16, b"short", "16 bytes"), (b"x" * 15, b"i" * 16, "multiple of 16")],
)
def test_cbc_decrypt_refusals(keys: Keys, ciphertext: bytes, iv: bytes | None, fragment: str) -> None:
    with pytest.raises(BadParameter, match=fragment):
        crypto.decrypt(keys("oct", 128), "A128CBCPAD", ciphertext, iv=iv)


def test_cbc_encrypt_refuses_short_iv(keys: Keys) -> None:
    with pytest.raises(BadParameter, match="16 bytes"):
        crypto.encrypt(keys("oct", 128), "A128CBCPAD", b"data", iv=b"short")


def test_rsa_decrypt_failures_are_bad_parameter(keys: Keys) -> None:
    ciphertext = crypto.encrypt(keys("RSA", 2048), "RSA-OAEP", b"secret").ciphertext
    with pytest.raises(BadParameter):
        crypto.decrypt(keys("RSA", 3072), "RSA-OAEP", ciphertext)  # another key
    with pytest.raises(BadParameter):
        crypto.decrypt(key_material.generate_key("RSA"), "RSA-OAEP-256", ciphertext)
    with pytest.raises(BadParameter):
        crypto.decrypt(keys("RSA", 2048), "RSA1_5", ciphertext[:-1])
    with pytest.raises(BadParameter, match="too long"):
        crypto.encrypt(keys("RSA", 2048), "RSA-OAEP", b"x" * 300)


@pytest.mark.parametrize(
    ("kty", "spec", "alg", "fragment"),
    [
        ("RSA", 2048, "A128GCM", "not supported for the encrypt operation on a RSA key"),
        ("RSA", 2048, "A128KW", "not supported for the encrypt"),
        ("RSA", 2048, "ES256", "not supported"),
        ("EC", "P-256", "RSA-OAEP", "on a EC key"),
        ("oct", 256, "RSA-OAEP", "on a oct key"),
        ("oct", 256, "A128GCM", "needs a 128-bit key; this key is 256 bits"),
        ("oct", 128, "A256CBCPAD", "needs a 256-bit key"),
        ("oct", 256, "A256KW", "not supported for the encrypt"),
        ("oct", 256, "nonsense", "nonsense"),
    ],
)
def test_encrypt_wrong_algorithm_for_key(keys: Keys, kty: str, spec: object, alg: str, fragment: str) -> None:
    material = keys(kty, spec)
    with pytest.raises(BadParameter, match=fragment):
        crypto.encrypt(material, alg, b"0123456789abcdef", iv=os.urandom(16))
    with pytest.raises(BadParameter):
        crypto.decrypt(material, alg, b"0123456789abcdef", iv=os.urandom(16), tag=os.urandom(16))


# --- wrapKey / unwrapKey ------------------------------------------------------------------------------------

AES_WRAP = [
    *(f"A{size}KW{pad}" for size in AES_BYTES for pad in ("", "PAD")),
    "CKM_AES_KEY_WRAP",
    "CKM_AES_KEY_WRAP_PAD",
]


@pytest.mark.parametrize("alg", RSA_ENC)
def test_rsa_wrap_round_trip(keys: Keys, alg: str) -> None:
    material, cek = keys("RSA", 3072), os.urandom(32)
    wrapped = crypto.wrap_key(material, alg, cek)
    assert len(wrapped) == 384
    assert crypto.unwrap_key(material, alg, wrapped) == cek


@pytest.mark.parametrize("alg", AES_WRAP)
@pytest.mark.parametrize("cek_bytes", [16, 24, 32, 64])
def test_aes_wrap_round_trip(keys: Keys, alg: str, cek_bytes: int) -> None:
    material, cek = oct_key(alg, keys), os.urandom(cek_bytes)
    wrapped = crypto.wrap_key(material, alg, cek)
    assert len(wrapped) == cek_bytes + 8
    assert crypto.unwrap_key(material, alg, wrapped) == cek


@pytest.mark.parametrize("size", [128, 192, 256])
def test_ckm_wrap_works_with_any_aes_key_size(keys: Keys, size: int) -> None:
    material = keys("oct", size)
    for alg in ("CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD"):
        assert crypto.unwrap_key(material, alg, crypto.wrap_key(material, alg, b"k" * 24)) == b"k" * 24


@pytest.mark.parametrize("size", ["128", "192", "256"])
def test_interop_aes_key_wrap_with_cryptography(keys: Keys, size: str) -> None:
    material = keys("oct", int(size))
    key = material.key
    assert isinstance(key, bytes)
    cek = os.urandom(32)
    assert aes_key_unwrap(key, crypto.wrap_key(material, f"A{size}KW", cek)) == cek
    assert aes_key_unwrap(key, crypto.wrap_key(material, "CKM_AES_KEY_WRAP", cek)) == cek
    assert aes_key_unwrap_with_padding(key, crypto.wrap_key(material, f"A{size}KWPAD", b"odd")) == b"odd"
    assert crypto.unwrap_key(material, f"A{size}KW", aes_key_wrap(key, cek)) == cek


def test_padded_wrap_takes_odd_lengths_and_plain_wrap_does_not(keys: Keys) -> None:
    material = keys("oct", 256)
    assert crypto.unwrap_key(material, "A256KWPAD", crypto.wrap_key(material, "A256KWPAD", b"odd")) == b"odd"
    for cek in (b"odd", b"x" * 20, b""):
        with pytest.raises(BadParameter, match="must be"):
            crypto.wrap_key(material, "A256KW", cek)
    with pytest.raises(BadParameter, match="must be"):
        crypto.wrap_key(material, "CKM_AES_KEY_WRAP_PAD", b"")


def test_unwrap_failures_are_bad_parameter(keys: Keys) -> None:
    material = keys("oct", 256)
    wrapped = crypto.wrap_key(material, "A256KW", os.urandom(32))
    for alg, blob in [
        ("A256KW", wrapped[:-1] + bytes([wrapped[-1] ^ 1])),
        ("A256KW", b"short"),
        ("A256KWPAD", wrapped),
        ("CKM_AES_KEY_WRAP", b""),
    ]:
        with pytest.raises(BadParameter, match="could not be unwrapped"):
            crypto.unwrap_key(material, alg, blob)
    with pytest.raises(BadParameter):
        crypto.unwrap_key(keys("oct", 128), "CKM_AES_KEY_WRAP", wrapped)  # another key


@pytest.mark.parametrize(
    ("kty", "spec", "alg"),
    [
        ("RSA", 2048, "A256KW"),
        ("RSA", 2048, "A256GCM"),
        ("EC", "P-256", "RSA-OAEP"),
        ("EC", "P-256", "A256KW"),
        ("oct", 256, "RSA-OAEP-256"),
        ("oct", 256, "A128KW"),
        ("oct", 128, "A256KWPAD"),
        ("oct", 256, "A256CBCPAD"),
    ],
)
def test_wrap_wrong_algorithm_for_key(keys: Keys, kty: str, spec: object, alg: str) -> None:
    with pytest.raises(BadParameter):
        crypto.wrap_key(keys(kty, spec), alg, os.urandom(32))
    with pytest.raises(BadParameter):
        crypto.unwrap_key(keys(kty, spec), alg, os.urandom(40))


# --- sign / verify ------------------------------------------------------------------------------------------

RSA_SIG = [f"{kind}{bits}" for kind in ("RS", "PS") for bits in ("256", "384", "512")]


@pytest.mark.parametrize("size", [2048, 3072, 4096])
@pytest.mark.parametrize("alg", RSA_SIG)
def test_rsa_sign_verify_round_trip(keys: Keys, alg: str, size: int) -> None:
    material, digest = keys("RSA", size), digest_for(alg)
    signature = crypto.sign(material, alg, digest)
    assert len(signature) == size // 8
    assert crypto.verify(material, alg, digest, signature)
    assert not crypto.verify(material, alg, digest_for(alg, b"other"), signature)
    assert not crypto.verify(material, alg, digest, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not crypto.verify(material, alg, digest, b"short")


def test_rs_signatures_are_deterministic_and_ps_are_not(keys: Keys) -> None:
    material, digest = keys("RSA", 2048), digest_for("256")
    assert crypto.sign(material, "RS256", digest) == crypto.sign(material, "RS256", digest)
    assert crypto.sign(material, "PS256", digest) != crypto.sign(material, "PS256", digest)


@pytest.mark.parametrize("alg", RSA_SIG)
def test_interop_rsa_signature_verifies_with_cryptography_over_the_message(keys: Keys, alg: str) -> None:
    material = keys("RSA", 2048)
    public = material.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    h = CRYPTO_HASHES[alg[-3:]]
    pad = asym_padding.PSS(asym_padding.MGF1(h), h.digest_size) if alg.startswith("PS") else asym_padding.PKCS1v15()
    signature = crypto.sign(material, alg, digest_for(alg, b"the message"))
    public.verify(signature, b"the message", pad, h)  # normal (non-prehashed) verify: raises if wrong
    private = material.key
    assert isinstance(private, rsa.RSAPrivateKey)
    theirs = private.sign(b"another message", pad, h)
    assert crypto.verify(material, alg, digest_for(alg, b"another message"), theirs)


@pytest.mark.parametrize("alg", list(EC_ALGS))
def test_ec_sign_verify_round_trip(keys: Keys, alg: str) -> None:
    curve, bits = EC_ALGS[alg]
    material, digest = keys("EC", curve), digest_for(bits)
    signature = crypto.sign(material, alg, digest)
    width = {"P-256": 32, "P-384": 48, "P-521": 66, "P-256K": 32}[curve]
    assert len(signature) == 2 * width
    assert crypto.verify(material, alg, digest, signature)
    assert not crypto.verify(material, alg, digest_for(bits, b"other"), signature)
    assert not crypto.verify(material, alg, digest, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not crypto.verify(material, alg, digest, signature[:-1])  # wrong length: not a signature
    assert not crypto.verify(material, alg, digest, b"\0" * (2 * width))  # r = s = 0


@pytest.mark.parametrize("alg", list(EC_ALGS))
def test_interop_ec_signatures_with_cryptography(keys: Keys, alg: str) -> None:
    curve, bits = EC_ALGS[alg]
    material = keys("EC", curve)
    width = len(crypto.sign(material, alg, digest_for(bits))) // 2
    h = CRYPTO_HASHES[bits]
    # ours (r||s) -> DER -> cryptography's normal verify over the message
    raw = crypto.sign(material, alg, digest_for(bits, b"the message"))
    der = encode_dss_signature(int.from_bytes(raw[:width], "big"), int.from_bytes(raw[width:], "big"))
    public = material.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, b"the message", ec.ECDSA(h))
    with pytest.raises(InvalidSignature):
        public.verify(der, b"not the message", ec.ECDSA(h))
    # cryptography's DER -> r||s -> ours
    private = material.key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    r, s = decode_dss_signature(private.sign(b"another", ec.ECDSA(h)))
    assert crypto.verify(material, alg, digest_for(bits, b"another"), raw_rs(r, s, width))
    r, s = decode_dss_signature(private.sign(digest_for(bits, b"pre"), ec.ECDSA(Prehashed(h))))
    assert crypto.verify(material, alg, digest_for(bits, b"pre"), raw_rs(r, s, width))


@pytest.mark.parametrize("alg", [*RSA_SIG, *EC_ALGS])
@pytest.mark.parametrize("length", [0, 20, 31, 33, 64])
def test_wrong_digest_length_is_bad_parameter(keys: Keys, alg: str, length: int) -> None:
    material = keys("EC", EC_ALGS[alg][0]) if alg in EC_ALGS else keys("RSA", 2048)
    expected = {"256": 32, "384": 48, "512": 64}[(EC_ALGS[alg][1] if alg in EC_ALGS else alg[-3:])]
    if length == expected:
        return
    with pytest.raises(BadParameter, match=f"Invalid length of 'value': {length} bytes. {alg} requires {expected}"):
        crypto.sign(material, alg, b"d" * length)
    with pytest.raises(BadParameter, match=f"Invalid length of 'digest': {length} bytes"):
        crypto.verify(material, alg, b"d" * length, b"s" * 64)


@pytest.mark.parametrize(
    ("kty", "spec", "alg", "fragment"),
    [
        ("EC", "P-256", "RS256", "is of type 'EC', and algorithm 'RS256' can only be used with keys of type 'RSA'"),
        ("RSA", 2048, "ES256", "is of type 'RSA', and algorithm 'ES256' can only be used with keys of type 'EC'"),
        ("EC", "P-256", "ES384", "uses curve 'P-256', and algorithm 'ES384' can only be used with curve 'P-384'"),
        ("EC", "P-256", "ES256K", "can only be used with curve 'P-256K'"),
        ("EC", "P-256K", "ES256", "uses curve 'P-256K'"),
        ("EC", "P-521", "ES512X", "'ES512X' is not supported"),
        ("oct", 256, "PS256", "is of type 'oct'"),
        ("RSA", 2048, "HS256", "is of type 'RSA', and algorithm 'HS256' can only be used with keys of type 'oct'"),
        ("oct", 256, "HS2560", "'HS2560' is not supported"),
        ("RSA", 2048, "RSA-OAEP", "not supported"),
    ],
)
def test_sign_wrong_algorithm_for_key(keys: Keys, kty: str, spec: object, alg: str, fragment: str) -> None:
    material = keys(kty, spec)
    with pytest.raises(BadParameter, match=fragment):
        crypto.sign(material, alg, b"d" * 32)
    with pytest.raises(BadParameter, match=fragment):
        crypto.verify(material, alg, b"d" * 32, b"s" * 64)


def test_signing_errors_name_the_key_like_the_service(keys: Keys) -> None:
    with pytest.raises(BadParameter) as info:
        crypto.sign(keys("EC", "P-256"), "ES256K", b"d" * 32, kid=KID)
    assert info.value.message == (
        f"Key and signing algorithm are incompatible. Key {KID} uses curve 'P-256', and algorithm 'ES256K' can "
        "only be used with curve 'P-256K'."
    )
    assert info.value.code == "BadParameter" and info.value.status == 400


# --- the Azure SDK's local cryptography ---------------------------------------------------------------------


def sdk_client(jwk: dict[str, Any]) -> Any:
    """A local-only SDK CryptographyClient; the SDK's JsonWebKey wants raw bytes, not base64url."""
    binary = {k: (b64(v) if k not in ("kid", "kty", "key_ops", "crv") else v) for k, v in jwk.items()}
    binary["key_ops"] = [KeyOperation(op) for op in jwk.get("key_ops") or key_material.default_key_ops(jwk["kty"])]
    return CryptographyClient.from_jwk(JsonWebKey(**binary))


@pytest.mark.parametrize("alg", RSA_SIG)
def test_sdk_verifies_emulator_rsa_signatures(keys: Keys, alg: str) -> None:
    material = keys("RSA", 2048)
    digest = digest_for(alg)
    signature = crypto.sign(material, alg, digest)
    assert sdk_client(material.public_jwk(KID)).verify(SignatureAlgorithm(alg), digest, signature).is_valid


@pytest.mark.parametrize("alg", list(EC_ALGS))
def test_sdk_and_emulator_agree_on_ec_signatures(keys: Keys, alg: str) -> None:
    curve, bits = EC_ALGS[alg]
    material, digest = keys("EC", curve), digest_for(bits)
    signature = crypto.sign(material, alg, digest)
    assert sdk_client(material.public_jwk(KID)).verify(SignatureAlgorithm(alg), digest, signature).is_valid
    theirs = sdk_client(material.private_jwk() | {"kid": KID}).sign(SignatureAlgorithm(alg), digest).signature
    assert crypto.verify(material, alg, digest, theirs)


@pytest.mark.parametrize("alg", RSA_ENC)
def test_sdk_encrypts_emulator_decrypts(keys: Keys, alg: str) -> None:
    material = keys("RSA", 2048)
    ciphertext = sdk_client(material.public_jwk(KID)).encrypt(EncryptionAlgorithm(alg), b"from the sdk").ciphertext
    assert crypto.decrypt(material, alg, ciphertext) == b"from the sdk"
    wrapped = sdk_client(material.public_jwk(KID)).wrap_key(KeyWrapAlgorithm(alg), b"k" * 32).encrypted_key
    assert crypto.unwrap_key(material, alg, wrapped) == b"k" * 32


@pytest.mark.parametrize("size", ["128", "192", "256"])
def test_sdk_symmetric_cbcpad_and_key_wrap(keys: Keys, size: str) -> None:
    material = keys("oct", int(size))
    client = sdk_client(material.private_jwk() | {"kid": KID})
    iv = os.urandom(16)
    encrypted = client.encrypt(EncryptionAlgorithm(f"A{size}CBCPAD"), b"sdk plaintext", iv=iv)
    assert crypto.decrypt(material, f"A{size}CBCPAD", encrypted.ciphertext, iv=encrypted.iv) == b"sdk plaintext"
    ours = crypto.encrypt(material, f"A{size}CBCPAD", b"ours", iv=iv)
    assert client.decrypt(EncryptionAlgorithm(f"A{size}CBCPAD"), ours.ciphertext, iv=ours.iv).plaintext == b"ours"
    wrapped = client.wrap_key(KeyWrapAlgorithm(f"A{size}KW"), b"c" * 32).encrypted_key
    assert crypto.unwrap_key(material, f"A{size}KW", wrapped) == b"c" * 32
    ours_wrapped = crypto.wrap_key(material, f"A{size}KW", b"d" * 32)
    assert client.unwrap_key(KeyWrapAlgorithm(f"A{size}KW"), ours_wrapped).key == b"d" * 32
