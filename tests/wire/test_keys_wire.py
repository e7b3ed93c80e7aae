"""Keys over raw HTTP: exact statuses, codes and messages; response shapes per api-version; the service side of
the operations the SDK would do locally (encrypt, verify, wrapKey); and nothing stored after a failed write."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap
from keys_support import assert_error, b64, unb64
from tests_support import error_of

pytestmark = pytest.mark.usefixtures("never_a_500")

HSM_URL = "https://kv-emulator-hsm.managedhsm.azure.net"
KEY_NOT_FOUND = (
    "A key with (name/id) {} was not found in this key vault. If you recently deleted this key you may be able to "
    "recover it using the correct recovery command. For help resolving this issue, please see "
    "https://go.microsoft.com/fwlink/?linkid=2125182"
)
OAEP = {
    "RSA-OAEP": asym_padding.OAEP(asym_padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
    "RSA-OAEP-256": asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
    "RSA1_5": asym_padding.PKCS1v15(),
}


def sha256(data: bytes = b"kv-emulator") -> bytes:
    return hashlib.sha256(data).digest()


def uint(value: int, width: int | None = None) -> str:
    return b64(value.to_bytes(width or (value.bit_length() + 7) // 8, "big"))


def rsa_private_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    num = key.private_numbers()
    values = {"n": num.public_numbers.n, "e": num.public_numbers.e, "d": num.d, "p": num.p, "q": num.q}
    values.update(dp=num.dmp1, dq=num.dmq1, qi=num.iqmp)
    return {"kty": "RSA", **{name: uint(value) for name, value in values.items()}}


def ec_private_jwk(key: ec.EllipticCurvePrivateKey, crv: str, width: int) -> dict[str, str]:
    num = key.private_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": uint(num.public_numbers.x, width),
        "y": uint(num.public_numbers.y, width),
        "d": uint(num.private_value, width),
    }


@pytest.fixture(scope="module")
def known_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def create(wire, name: str, **body):
    response = wire.post(f"/keys/{name}/create", body=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def import_(wire, name: str, jwk: dict, **body):
    response = wire.put(f"/keys/{name}", body={"key": jwk, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def version_of(bundle: dict) -> str:
    return bundle["key"]["kid"].rsplit("/", 1)[1]


def operation(wire, name: str, op: str, version: str = "", **body):
    return wire.post(f"/keys/{name}/{version}/{op}", body=body)


# -- validity: enabled, exp, nbf, key_ops -------------------------------------------------------------------


def _bodies(known_rsa: rsa.RSAPrivateKey) -> dict[str, dict]:
    """A valid body for each operation on ``known_rsa``."""
    ciphertext = known_rsa.public_key().encrypt(b"data", OAEP["RSA-OAEP"])
    signature = known_rsa.sign(sha256(), asym_padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    return {
        "sign": {"alg": "RS256", "value": b64(sha256())},
        "verify": {"alg": "RS256", "digest": b64(sha256()), "value": b64(signature)},
        "encrypt": {"alg": "RSA-OAEP", "value": b64(b"data")},
        "decrypt": {"alg": "RSA-OAEP", "value": b64(ciphertext)},
        "wrapkey": {"alg": "RSA-OAEP", "value": b64(os.urandom(32))},
        "unwrapkey": {"alg": "RSA-OAEP", "value": b64(ciphertext)},
    }


_OP_NAMES = {"wrapkey": "wrapKey", "unwrapkey": "unwrapKey"}
ALL_OPS = ["sign", "verify", "encrypt", "decrypt", "wrapkey", "unwrapkey"]


@pytest.mark.parametrize("op", ALL_OPS)
def test_disabled_key_refuses_every_operation(wire, known_rsa, op):
    import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"enabled": False})
    response = operation(wire, "k", op, **_bodies(known_rsa)[op])
    name = _OP_NAMES.get(op, op)
    assert_error(response, 403, "Forbidden", f"Operation {name} is not allowed on a disabled key.", "KeyDisabled")


def test_disabled_key_can_still_be_read_and_re_enabled(wire, known_rsa):
    bundle = import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"enabled": False})
    assert wire.get("/keys/k/").get_json()["attributes"]["enabled"] is False
    assert wire.patch(f"/keys/k/{version_of(bundle)}", body={"attributes": {"enabled": True}}).status_code == 200
    assert operation(wire, "k", "sign", **_bodies(known_rsa)["sign"]).status_code == 200


@pytest.mark.parametrize("op", ["sign", "encrypt", "wrapkey"])
def test_expired_key_refuses_new_protection(wire, keyvault, known_rsa, op):
    past = int(keyvault.clock.time()) - 60
    import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"exp": past})
    response = operation(wire, "k", op, **_bodies(known_rsa)[op])
    name = _OP_NAMES.get(op, op)
    assert_error(response, 403, "Forbidden", f"Operation {name} is not allowed on an expired key.", "KeyExpired")


@pytest.mark.parametrize("op", ["decrypt", "verify", "unwrapkey"])
def test_expired_key_still_opens_old_data(wire, keyvault, known_rsa, op):
    past = int(keyvault.clock.time()) - 60
    import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"exp": past})
    response = operation(wire, "k", op, **_bodies(known_rsa)[op])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["value"] in (True, b64(b"data"))


def test_key_expires_on_the_emulator_clock(wire, keyvault, known_rsa):
    keyvault.clock.freeze()
    import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"exp": int(keyvault.clock.time()) + 3600})
    assert operation(wire, "k", "sign", **_bodies(known_rsa)["sign"]).status_code == 200
    keyvault.clock.advance(hours=1)
    assert_error(operation(wire, "k", "sign", **_bodies(known_rsa)["sign"]), 403, "Forbidden", inner="KeyExpired")


@pytest.mark.parametrize("op", ["sign", "encrypt", "wrapkey"])
def test_key_not_yet_valid(wire, keyvault, known_rsa, op):
    future = int(keyvault.clock.time()) + 3600
    import_(wire, "k", rsa_private_jwk(known_rsa), attributes={"nbf": future})
    error = assert_error(operation(wire, "k", op, **_bodies(known_rsa)[op]), 403, "Forbidden", inner="KeyNotYetValid")
    assert error["message"].startswith(f"Operation {_OP_NAMES.get(op, op)} is not allowed on a key")
    keyvault.clock.advance(hours=1)
    assert operation(wire, "k", op, **_bodies(known_rsa)[op]).status_code == 200


@pytest.mark.parametrize("op", ALL_OPS)
def test_operation_missing_from_key_ops(wire, known_rsa, op):
    name = _OP_NAMES.get(op, op)
    allowed = [o for o in ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey") if o != name]
    import_(wire, "k", rsa_private_jwk(known_rsa), key_ops=allowed)
    response = operation(wire, "k", op, **_bodies(known_rsa)[op])
    assert_error(response, 403, "Forbidden", f"Operation {name} is not permitted on this key.", "KeyOperationForbidden")


def test_key_ops_from_the_imported_jwk_apply(wire, known_rsa):
    bundle = import_(wire, "k", {**rsa_private_jwk(known_rsa), "key_ops": ["verify"]})
    assert bundle["key"]["key_ops"] == ["verify"]
    assert_error(
        operation(wire, "k", "sign", **_bodies(known_rsa)["sign"]), 403, "Forbidden", inner="KeyOperationForbidden"
    )


def test_update_of_key_ops_takes_effect(wire, known_rsa):
    bundle = import_(wire, "k", rsa_private_jwk(known_rsa), key_ops=["verify"])
    patched = wire.patch(f"/keys/k/{version_of(bundle)}", body={"key_ops": ["sign"]})
    assert patched.get_json()["key"]["key_ops"] == ["sign"]
    assert operation(wire, "k", "sign", **_bodies(known_rsa)["sign"]).status_code == 200


# -- refused creates and imports: exact errors, nothing stored ------------------------------------------------


@pytest.mark.parametrize("kty", ["X", "rsa", "DSA", "oct"])  # oct-HSM: test_fidelity_lifecycle.py
def test_invalid_kty_on_a_vault(wire, keyvault, kty):
    response = wire.post("/keys/k/create", body={"kty": kty})
    assert_error(response, 400, "BadParameter", f"Invalid kty value: {kty}", "KeyTypeNotSupported")
    assert list(keyvault.vault().keys) == []


def test_oct_keys_are_for_managed_hsms(hsm_wire, keyvault):
    bundle = create(hsm_wire, "aes", kty="oct", key_size=256)
    assert bundle["key"]["kty"] == "oct-HSM"
    assert bundle["key"]["kid"].startswith(f"{HSM_URL}/keys/aes/")
    assert "aes" in keyvault.vault(HSM_URL).keys and "aes" not in keyvault.vault().keys


@pytest.mark.keyvault(sku="standard")
@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("create", {"kty": "RSA-HSM"}),
        ("create", {"kty": "EC-HSM", "crv": "P-256"}),
        ("import", {"Hsm": True}),
        ("import-hsm-kty", {}),
    ],
)
def test_hsm_keys_on_a_standard_vault(wire, keyvault, known_rsa, method, body):
    if method == "create":
        response = wire.post("/keys/k/create", body=body)
    elif method == "import":
        response = wire.put("/keys/k", body={"key": rsa_private_jwk(known_rsa), **body})
    else:
        response = wire.put("/keys/k", body={"key": {**rsa_private_jwk(known_rsa), "kty": "RSA-HSM"}})
    assert_error(response, 403, "Forbidden", "Hardware key operation not allowed on standard vault")
    assert list(keyvault.vault().keys) == []


@pytest.mark.keyvault(sku="standard")
def test_software_keys_on_a_standard_vault(wire):
    assert create(wire, "k", kty="RSA")["key"]["kty"] == "RSA"


def test_hsm_import_on_a_premium_vault(wire, known_rsa):
    assert import_(wire, "k", rsa_private_jwk(known_rsa), Hsm=True)["key"]["kty"] == "RSA-HSM"


RELEASE_POLICY = {"contentType": "application/json; charset=utf-8", "data": b64(b'{"version":"1.0.0"}')}


def test_exportable_key_needs_a_release_policy(wire, keyvault):
    response = wire.post("/keys/k/create", body={"kty": "RSA-HSM", "attributes": {"exportable": True}})
    assert_error(response, 400, "BadParameter", "AKV.SKR.1004: Exportable keys must have release policy.")
    assert list(keyvault.vault().keys) == []


def test_non_exportable_key_must_not_have_a_release_policy(wire, keyvault):
    response = wire.post("/keys/k/create", body={"kty": "RSA-HSM", "release_policy": RELEASE_POLICY})
    assert_error(response, 400, "BadParameter", "AKV.SKR.1005: Non-exportable keys must not have release policy.")
    assert list(keyvault.vault().keys) == []


def test_release_policy_round_trip_and_immutability(wire):
    immutable = {**RELEASE_POLICY, "immutable": True}
    bundle = create(wire, "k", kty="RSA-HSM", attributes={"exportable": True}, release_policy=immutable)
    assert bundle["attributes"]["exportable"] is True
    assert bundle["release_policy"] == immutable
    changed = {**RELEASE_POLICY, "data": b64(b'{"version":"2.0.0"}')}
    response = wire.patch(f"/keys/k/{version_of(bundle)}", body={"release_policy": changed})
    assert_error(response, 400, "BadParameter", "AKV.SKR.1020: Immutable Key Release Policy cannot be modified.")
    assert wire.get("/keys/k/").get_json()["release_policy"] == immutable


def test_mutable_release_policy_can_change(wire):
    bundle = create(wire, "k", kty="RSA-HSM", attributes={"exportable": True}, release_policy=RELEASE_POLICY)
    assert bundle["release_policy"]["immutable"] is False
    changed = {**RELEASE_POLICY, "data": b64(b'{"version":"2.0.0"}')}
    response = wire.patch(f"/keys/k/{version_of(bundle)}", body={"release_policy": changed})
    assert response.status_code == 200
    assert response.get_json()["release_policy"]["data"] == changed["data"]


def test_release_policy_is_not_shown_before_7_3(wire):
    create(wire, "k", kty="RSA-HSM", attributes={"exportable": True}, release_policy=RELEASE_POLICY)
    assert "release_policy" in wire.get("/keys/k/", api_version="7.3").get_json()
    assert "release_policy" not in wire.get("/keys/k/", api_version="7.2").get_json()


@pytest.mark.parametrize("body", [{}, {"key": None}, {"key": "a string"}, {"key": ["a", "list"]}, {"kty": "RSA"}])
def test_import_without_a_jwk_object(wire, keyvault, body):
    response = wire.put("/keys/k", body=body)
    assert_error(response, 400, "BadParameter", 'The property "key" must be a valid JsonWebKey object.')
    assert list(keyvault.vault().keys) == []


def _bad_imports() -> list[dict]:
    rsa_jwk = rsa_private_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    ec_jwk = ec_private_jwk(ec.generate_private_key(ec.SECP256R1()), "P-256", 32)
    return [
        {"key": {k: v for k, v in rsa_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}},  # public only
        {"key": {k: v for k, v in ec_jwk.items() if k != "d"}},
        {"key": {**ec_jwk, "crv": "P-384"}},  # the point is not on that curve
        {"key": {**ec_jwk, "x": "not base64!"}},
        {"key": {**rsa_jwk, "n": b64(b"\x01" * 256)}},  # n does not match the primes
        {"key": {"kty": "oct", "k": b64(os.urandom(32))}},  # no oct keys in a vault
        {"key": {"kty": "EC"}},
        {"key": rsa_jwk, "key_ops": ["fly"]},
        {"key": rsa_jwk, "tags": {f"t{i}": "v" for i in range(16)}},
        {"key": rsa_jwk, "attributes": {"exportable": True}},
    ]


@pytest.mark.parametrize("body", _bad_imports(), ids=lambda b: str(sorted(b))[:40])
def test_failed_import_stores_nothing(wire, keyvault, body):
    response = wire.put("/keys/k", body=body)
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["code"] == "BadParameter"
    assert list(keyvault.vault().keys) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kty": None},
        {"kty": 7},
        {"kty": "RSA", "key_size": 1024},
        {"kty": "RSA", "key_size": "2048"},
        {"kty": "RSA", "public_exponent": "65537"},  # a vault ignores the value, not the type
        {"kty": "EC", "crv": "P-999"},
        {"kty": "RSA", "key_ops": ["encrypt", "fly"]},
        {"kty": "RSA", "key_ops": "sign"},
        {"kty": "RSA", "tags": {"t": "v" * 257}},
        {"kty": "RSA", "attributes": {"exp": "tomorrow"}},
        {"kty": "RSA", "release_policy": "nope"},
    ],
    ids=str,
)
def test_failed_create_stores_nothing(wire, keyvault, body):
    response = wire.post("/keys/k/create", body=body)
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["code"] == "BadParameter"
    assert list(keyvault.vault().keys) == []


def test_failed_create_of_a_new_version_keeps_the_old_one(wire, keyvault):
    first = create(wire, "k", kty="EC")
    assert wire.post("/keys/k/create", body={"kty": "EC", "crv": "P-999"}).status_code == 400
    assert [v.version for v in keyvault.vault().keys.list_versions("k")] == [version_of(first)]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"null"])
def test_malformed_json(wire, keyvault, raw):
    assert wire.post("/keys/k/create", raw=raw).status_code == 400
    assert wire.put("/keys/k", raw=raw).status_code == 400
    assert list(keyvault.vault().keys) == []


# -- algorithms that do not fit the key, bad inputs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("kty", "op", "body"),
    [
        ("RSA", "sign", {"alg": "ES256", "value": b64(sha256())}),
        ("RSA", "encrypt", {"alg": "A256GCM", "value": b64(b"x")}),
        ("RSA", "encrypt", {"alg": "A128CBC", "value": b64(b"x" * 16), "iv": b64(b"i" * 16)}),
        ("RSA", "wrapkey", {"alg": "A256KW", "value": b64(b"k" * 32)}),
        ("RSA", "encrypt", {"alg": "NOT-AN-ALG", "value": b64(b"x")}),
        ("RSA", "sign", {"alg": "HS256", "value": b64(sha256())}),
        ("EC", "encrypt", {"alg": "RSA-OAEP", "value": b64(b"x")}),
        ("EC", "wrapkey", {"alg": "RSA-OAEP-256", "value": b64(b"k" * 32)}),
        ("EC", "sign", {"alg": "RS256", "value": b64(sha256())}),
        ("EC", "sign", {"alg": "ES384", "value": b64(hashlib.sha384(b"x").digest())}),
        ("EC", "sign", {"alg": "ES256K", "value": b64(sha256())}),
        ("EC", "verify", {"alg": "PS256", "digest": b64(sha256()), "value": b64(b"s" * 64)}),
    ],
    ids=lambda v: v if isinstance(v, str) else v.get("alg"),
)
def test_algorithm_not_fitting_the_key(wire, kty, op, body):
    create(wire, "k", kty=kty, key_ops=["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"])
    assert_error(operation(wire, "k", op, **body), 400, "BadParameter")


def test_curve_mismatch_message(wire):
    bundle = create(wire, "k", kty="EC", crv="P-256K")
    response = operation(wire, "k", "sign", alg="ES256", value=b64(sha256()))
    assert_error(
        response,
        400,
        "BadParameter",
        f"Key and signing algorithm are incompatible. Key {bundle['key']['kid']} uses curve 'P-256K', and algorithm "
        "'ES256' can only be used with curve 'P-256'.",
    )


@pytest.mark.parametrize(("alg", "length"), [("ES256", 31), ("ES256", 48), ("ES384", 32), ("ES512", 32)])
def test_sign_digest_of_the_wrong_length(wire, alg, length):
    crv = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg]
    create(wire, "k", kty="EC", crv=crv)
    expected = {"ES256": 32, "ES384": 48, "ES512": 64}[alg]
    response = operation(wire, "k", "sign", alg=alg, value=b64(b"d" * length))
    assert_error(
        response,
        400,
        "BadParameter",
        f"Invalid length of 'value': {length} bytes. {alg} requires {expected} bytes, encoded with base64url.",
    )


@pytest.mark.parametrize("alg", ["RS256", "PS384", "RS512"])
def test_rsa_sign_digest_of_the_wrong_length(wire, alg):
    create(wire, "k", kty="RSA")
    assert_error(operation(wire, "k", "sign", alg=alg, value=b64(b"d" * 20)), 400, "BadParameter")


@pytest.mark.parametrize(
    "body",
    [
        {"value": b64(b"x")},
        {"alg": "RS256"},
        {"alg": "RS256", "value": "%%% not base64 %%%"},
        {"alg": "RS256", "value": 12},
        {"alg": 5, "value": b64(sha256())},
    ],
    ids=str,
)
def test_malformed_operation_bodies(wire, body):
    create(wire, "k", kty="RSA")
    assert_error(operation(wire, "k", "sign", **body), 400, "BadParameter")


def test_wrong_rsa_ciphertext_is_400(wire, known_rsa):
    import_(wire, "k", rsa_private_jwk(known_rsa))
    for alg in ("RSA-OAEP", "RSA-OAEP-256"):
        for value in (os.urandom(256), os.urandom(10), b""):
            assert_error(operation(wire, "k", "decrypt", alg=alg, value=b64(value)), 400, "BadParameter")
            assert_error(operation(wire, "k", "unwrapkey", alg=alg, value=b64(value)), 400, "BadParameter")
    # with the wrong OAEP hash
    ciphertext = known_rsa.public_key().encrypt(b"data", OAEP["RSA-OAEP"])
    assert_error(operation(wire, "k", "decrypt", alg="RSA-OAEP-256", value=b64(ciphertext)), 400, "BadParameter")


def test_rsa_plaintext_too_long_is_400(wire):
    create(wire, "k", kty="RSA")
    assert_error(operation(wire, "k", "encrypt", alg="RSA-OAEP", value=b64(b"x" * 250)), 400, "BadParameter")


def test_tampered_gcm_is_400(hsm_wire):
    create(hsm_wire, "aes", kty="oct-HSM", key_size=256)
    sealed = operation(hsm_wire, "aes", "encrypt", alg="A256GCM", value=b64(b"plaintext"), aad=b64(b"aad")).get_json()
    good = {"alg": "A256GCM", "value": sealed["value"], "iv": sealed["iv"], "tag": sealed["tag"], "aad": b64(b"aad")}
    assert unb64(operation(hsm_wire, "aes", "decrypt", **good).get_json()["value"]) == b"plaintext"
    tag = unb64(sealed["tag"])
    value = unb64(sealed["value"])
    for change in (
        {"tag": b64(bytes([tag[0] ^ 1]) + tag[1:])},
        {"tag": b64(tag[:12])},
        {"value": b64(bytes([value[0] ^ 1]) + value[1:])},
        {"aad": b64(b"other")},
        {"iv": b64(os.urandom(12))},
        {"tag": None},
        {"iv": None},
    ):
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        assert_error(operation(hsm_wire, "aes", "decrypt", **body), 400, "BadParameter")


def test_cbcpad_with_bad_padding_is_400(hsm_wire):
    secret = os.urandom(16)
    import_(hsm_wire, "aes", {"kty": "oct", "k": b64(secret)})
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    zero_padding = encryptor.update(b"\x00" * 16) + encryptor.finalize()  # decrypts to a last byte of 0: no PKCS#7
    response = operation(hsm_wire, "aes", "decrypt", alg="A128CBCPAD", value=b64(zero_padding), iv=b64(iv))
    assert_error(response, 400, "BadParameter")
    plain = operation(hsm_wire, "aes", "decrypt", alg="A128CBC", value=b64(zero_padding), iv=b64(iv)).get_json()
    assert unb64(plain["value"]) == b"\x00" * 16  # unpadded CBC does not care
    assert_error(
        operation(hsm_wire, "aes", "decrypt", alg="A128CBCPAD", value=b64(b"x" * 15), iv=b64(iv)), 400, "BadParameter"
    )
    assert_error(
        operation(hsm_wire, "aes", "encrypt", alg="A128CBC", value=b64(b"x" * 16), iv=b64(b"short")),
        400,
        "BadParameter",
    )


def test_aes_algorithm_of_the_wrong_size_is_400(hsm_wire):
    create(hsm_wire, "aes", kty="oct-HSM", key_size=128)
    assert_error(operation(hsm_wire, "aes", "encrypt", alg="A256GCM", value=b64(b"x")), 400, "BadParameter")
    assert_error(operation(hsm_wire, "aes", "wrapkey", alg="A192KW", value=b64(b"k" * 16)), 400, "BadParameter")


def test_unwrap_of_a_tampered_aes_wrap_is_400(hsm_wire):
    create(hsm_wire, "aes", kty="oct-HSM", key_size=256)
    wrapped = unb64(operation(hsm_wire, "aes", "wrapkey", alg="A256KW", value=b64(b"k" * 32)).get_json()["value"])
    tampered = bytes([wrapped[0] ^ 1]) + wrapped[1:]
    assert_error(operation(hsm_wire, "aes", "unwrapkey", alg="A256KW", value=b64(tampered)), 400, "BadParameter")


# -- versions in crypto paths --------------------------------------------------------------------------------


def test_empty_version_segment_means_the_latest(wire):
    create(wire, "k", kty="RSA")
    latest = create(wire, "k", kty="RSA")
    kid = latest["key"]["kid"]
    signed = operation(wire, "k", "sign", alg="RS256", value=b64(sha256()))
    assert signed.status_code == 200 and signed.get_json()["kid"] == kid
    verified = operation(wire, "k", "verify", alg="RS256", digest=b64(sha256()), value=signed.get_json()["value"])
    assert verified.get_json() == {"value": True}
    encrypted = operation(wire, "k", "encrypt", alg="RSA-OAEP", value=b64(b"data")).get_json()
    assert encrypted["kid"] == kid
    decrypted = operation(wire, "k", "decrypt", alg="RSA-OAEP", value=encrypted["value"]).get_json()
    assert unb64(decrypted["value"]) == b"data"
    wrapped = operation(wire, "k", "wrapkey", alg="RSA-OAEP-256", value=b64(b"k" * 32)).get_json()
    assert wrapped["kid"] == kid
    unwrapped = operation(wire, "k", "unwrapkey", alg="RSA-OAEP-256", value=wrapped["value"]).get_json()
    assert unb64(unwrapped["value"]) == b"k" * 32


def test_an_older_version_signs_with_its_own_material(wire):
    old = create(wire, "k", kty="EC")
    create(wire, "k", kty="EC")
    signed = operation(wire, "k", "sign", version_of(old), alg="ES256", value=b64(sha256())).get_json()
    assert signed["kid"] == old["key"]["kid"]
    verified = operation(wire, "k", "verify", version_of(old), alg="ES256", digest=b64(sha256()), value=signed["value"])
    assert verified.get_json() == {"value": True}
    latest = operation(wire, "k", "verify", alg="ES256", digest=b64(sha256()), value=signed["value"])
    assert latest.get_json() == {"value": False}


def test_crypto_on_a_missing_key_or_version(wire):
    response = operation(wire, "nope", "sign", alg="RS256", value=b64(sha256()))
    assert_error(response, 404, "KeyNotFound", KEY_NOT_FOUND.format("nope"))
    create(wire, "k", kty="RSA")
    response = operation(wire, "k", "sign", "0" * 32, alg="RS256", value=b64(sha256()))
    assert_error(response, 404, "KeyNotFound", KEY_NOT_FOUND.format(f"k/{'0' * 32}"))


# -- not found -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/keys/nope"),
        ("GET", "/keys/nope/"),
        ("PATCH", "/keys/nope/"),
        ("DELETE", "/keys/nope"),
        ("POST", "/keys/nope/backup"),
        ("POST", "/keys/nope/rotate"),
        ("GET", "/keys/nope/rotationpolicy"),
    ],
)
def test_missing_key(wire, method, path):
    response = wire.request(method, path, body={} if method == "PATCH" else None)
    assert_error(response, 404, "KeyNotFound", KEY_NOT_FOUND.format("nope"))


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/deletedkeys/nope"), ("DELETE", "/deletedkeys/nope")],
)
def test_missing_deleted_key(wire, method, path):
    """Recover answers the long not-found form instead (recorded 2022): test_fidelity_lifecycle.py."""
    assert_error(wire.request(method, path), 404, "KeyNotFound", "Deleted Key not found: nope")


def test_deleted_key_is_gone_from_every_key_path(wire):
    create(wire, "k", kty="EC")
    deleted = wire.delete("/keys/k").get_json()
    assert deleted["recoveryId"].endswith("/deletedkeys/k")
    assert {"deletedDate", "scheduledPurgeDate", "key", "attributes"} <= set(deleted)
    assert_error(wire.get("/keys/k/"), 404, "KeyNotFound", KEY_NOT_FOUND.format("k"))
    assert_error(operation(wire, "k", "sign", alg="ES256", value=b64(sha256())), 404, "KeyNotFound")
    assert wire.get("/deletedkeys/k").status_code == 200
    assert wire.delete("/deletedkeys/k").status_code == 204
    assert_error(wire.get("/deletedkeys/k"), 404, "KeyNotFound", "Deleted Key not found: k")


# -- rotation policy validation ------------------------------------------------------------------------------


def _rotate(trigger: dict) -> dict:
    return {"trigger": trigger, "action": {"type": "Rotate"}}


@pytest.mark.parametrize(
    "policy",
    [
        {"attributes": {"expiryTime": "P27D"}},
        {"attributes": {"expiryTime": "P2W"}},
        {"lifetimeActions": [_rotate({"timeAfterCreate": "P6D"})]},
        {
            "lifetimeActions": [_rotate({"timeAfterCreate": "P10D", "timeBeforeExpiry": "P10D"})],
            "attributes": {"expiryTime": "P90D"},
        },
        {"lifetimeActions": [_rotate({})]},
        {"lifetimeActions": [{"trigger": {"timeAfterCreate": "P10D"}, "action": {"type": "Explode"}}]},
        {"lifetimeActions": [_rotate({"timeAfterCreate": "ten days"})]},
        {"lifetimeActions": "all of them"},
    ],
    ids=str,
)
def test_invalid_rotation_policy(wire, policy):
    create(wire, "k", kty="EC")
    before = wire.get("/keys/k/rotationpolicy").get_json()
    assert_error(wire.put("/keys/k/rotationpolicy", body=policy), 400, "BadParameter")
    assert wire.get("/keys/k/rotationpolicy").get_json() == before


@pytest.mark.parametrize(
    "trigger",
    [{"timeAfterCreate": "P25D"}, {"timeAfterCreate": "P60D"}, {"timeBeforeExpiry": "P25D"}],
    ids=str,
)
def test_rotation_must_leave_seven_days_before_expiry(wire, trigger):
    create(wire, "k", kty="EC")
    policy = {"lifetimeActions": [_rotate(trigger)], "attributes": {"expiryTime": "P30D"}}
    assert_error(wire.put("/keys/k/rotationpolicy", body=policy), 400, "BadParameter")


def test_rotation_policy_minimums_are_accepted(wire, keyvault):
    create(wire, "k", kty="EC")
    policy = {"lifetimeActions": [_rotate({"timeAfterCreate": "P7D"})], "attributes": {"expiryTime": "P28D"}}
    response = wire.put("/keys/k/rotationpolicy", body=policy)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == f"{keyvault.vault_url}/keys/k/rotationpolicy"
    assert {"trigger": {"timeAfterCreate": "P7D"}, "action": {"type": "Rotate"}} in body["lifetimeActions"]
    assert body["attributes"]["expiryTime"] == "P28D"
    assert isinstance(body["attributes"]["created"], int)


def test_default_rotation_policy_shape(wire, keyvault):
    create(wire, "k", kty="EC")
    body = wire.get("/keys/k/rotationpolicy").get_json()
    assert body["id"] == f"{keyvault.vault_url}/keys/k/rotationpolicy"
    assert body["lifetimeActions"] == [{"trigger": {"timeBeforeExpiry": "P30D"}, "action": {"type": "Notify"}}]
    assert "expiryTime" not in body.get("attributes", {})


# -- backups stay on their side ------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["hsm-to-vault", "vault-to-hsm"])
def test_backups_do_not_cross_between_vault_and_managed_hsm(wire, hsm_wire, keyvault, direction):
    source, target = (hsm_wire, wire) if direction == "hsm-to-vault" else (wire, hsm_wire)
    create(source, "k", kty="oct-HSM" if direction == "hsm-to-vault" else "RSA")
    blob = source.post("/keys/k/backup").get_json()
    response = target.post("/keys/restore", body=blob)
    assert response.status_code == 400, response.get_json()
    store = keyvault.vault() if target is wire else keyvault.vault(HSM_URL)
    assert "k" not in store.keys


# -- response shapes -----------------------------------------------------------------------------------------


def test_rsa_bundle_at_2025_07_01(wire, keyvault):
    bundle = create(wire, "k", kty="RSA")
    for body in (bundle, wire.get("/keys/k/", api_version="2025-07-01").get_json()):
        assert set(body) == {"key", "attributes"}
        assert set(body["key"]) == {"kid", "kty", "key_ops", "n", "e"}
        assert body["key"]["e"] == "AQAB"
        assert len(unb64(body["key"]["n"])) == 256
        attributes = body["attributes"]
        assert attributes["exportable"] is False
        assert attributes["hsmPlatform"] == "0"
        assert attributes["key_size"] == 2048
        assert attributes["enabled"] is True
        assert attributes["recoveryLevel"] == "Recoverable+Purgeable"
        assert attributes["recoverableDays"] == 90
        assert attributes["created"] == attributes["updated"]
        assert isinstance(attributes["created"], int)


def test_ec_bundle_at_2025_07_01(wire):
    create(wire, "k", kty="EC", crv="P-384")
    body = wire.get("/keys/k/", api_version="2025-07-01").get_json()
    assert set(body["key"]) == {"kid", "kty", "key_ops", "crv", "x", "y"}
    assert body["key"]["crv"] == "P-384"
    assert len(unb64(body["key"]["x"])) == len(unb64(body["key"]["y"])) == 48
    assert body["key"]["key_ops"] == ["sign", "verify"]
    assert "key_size" not in body["attributes"]
    assert (body["attributes"]["exportable"], body["attributes"]["hsmPlatform"]) == (False, "0")


@pytest.mark.parametrize("kty", ["RSA", "EC"])
def test_bundle_at_7_2_has_no_newer_attributes(wire, kty):
    create(wire, "k", kty=kty)
    attributes = wire.get("/keys/k/", api_version="7.2").get_json()["attributes"]
    assert not {"exportable", "hsmPlatform", "key_size"} & set(attributes)
    assert {"enabled", "created", "updated", "recoverableDays", "recoveryLevel"} <= set(attributes)


def test_oct_bundle_has_no_key_material(hsm_wire):
    bundle = create(hsm_wire, "aes", kty="oct-HSM", key_size=192)
    for body in (bundle, hsm_wire.get("/keys/aes/").get_json()):
        assert set(body["key"]) == {"kid", "kty", "key_ops"}
        assert body["key"]["key_ops"] == ["encrypt", "decrypt", "wrapKey", "unwrapKey"]


def test_imported_private_parts_are_never_returned(wire, known_rsa):
    bundle = import_(wire, "k", rsa_private_jwk(known_rsa))
    for body in (bundle, wire.get("/keys/k/").get_json(), wire.delete("/keys/k").get_json()):
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(body["key"])
        assert body["key"]["n"] == uint(known_rsa.public_key().public_numbers().n)


def test_list_items(wire, keyvault):
    first = create(wire, "k", kty="EC", tags={"t": "1"})
    second = create(wire, "k", kty="EC")
    listed = wire.get("/keys").get_json()
    assert listed["nextLink"] is None
    [item] = listed["value"]
    assert item["kid"] == f"{keyvault.vault_url}/keys/k"
    assert "key" not in item and "tags" not in item
    versions = wire.get("/keys/k/versions").get_json()["value"]
    assert sorted(v["kid"] for v in versions) == sorted([first["key"]["kid"], second["key"]["kid"]])
    assert {"t": "1"} in [v.get("tags") for v in versions]


def test_list_paging(wire):
    for i in range(5):
        create(wire, f"k{i}", kty="EC")
    page = wire.get("/keys?maxresults=2").get_json()
    assert len(page["value"]) == 2
    assert page["nextLink"].startswith("https://kv-emulator.vault.azure.net/keys?")
    assert "maxresults=2" in page["nextLink"]
    assert_error(wire.get("/keys?maxresults=26"), 400, "BadParameter")


def test_deleted_key_list_items(wire):
    create(wire, "k", kty="EC")
    wire.delete("/keys/k")
    [item] = wire.get("/deletedkeys").get_json()["value"]
    assert item["kid"].endswith("/keys/k")
    assert item["recoveryId"].endswith("/deletedkeys/k")
    assert {"deletedDate", "scheduledPurgeDate", "attributes"} <= set(item)


def test_operation_result_shapes(wire, hsm_wire):
    create(wire, "k", kty="EC")
    signed = operation(wire, "k", "sign", alg="ES256", value=b64(sha256())).get_json()
    assert set(signed) == {"kid", "value"}
    verified = operation(wire, "k", "verify", alg="ES256", digest=b64(sha256()), value=signed["value"]).get_json()
    assert verified == {"value": True}
    create(hsm_wire, "aes", kty="oct-HSM", key_size=256)
    sealed = operation(hsm_wire, "aes", "encrypt", alg="A256GCM", value=b64(b"p"), aad=b64(b"a")).get_json()
    assert set(sealed) == {"kid", "value", "iv", "tag", "aad"}
    assert (len(unb64(sealed["iv"])), len(unb64(sealed["tag"])), unb64(sealed["aad"])) == (12, 16, b"a")
    cbc = operation(hsm_wire, "aes", "encrypt", alg="A256CBCPAD", value=b64(b"p")).get_json()
    assert set(cbc) == {"kid", "value", "iv"} and len(unb64(cbc["iv"])) == 16


def test_content_type(wire):
    response = wire.post("/keys/k/create", body={"kty": "EC"})
    assert response.headers["Content-Type"].startswith("application/json")


# -- the vault's side of what the SDK does locally: interop with `cryptography` -----------------------------


@pytest.mark.parametrize("alg", list(OAEP))
def test_vault_encrypts_cryptography_decrypts(wire, known_rsa, alg):
    import_(wire, "k", rsa_private_jwk(known_rsa))
    encrypted = operation(wire, "k", "encrypt", alg=alg, value=b64(b"vault made this")).get_json()
    assert known_rsa.decrypt(unb64(encrypted["value"]), OAEP[alg]) == b"vault made this"
    wrapped = operation(wire, "k", "wrapkey", alg=alg, value=b64(b"c" * 32)).get_json()
    assert known_rsa.decrypt(unb64(wrapped["value"]), OAEP[alg]) == b"c" * 32


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_vault_verifies_cryptography_rsa_signatures(wire, known_rsa, alg):
    import_(wire, "k", rsa_private_jwk(known_rsa))
    hash_algorithm = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    digest = hashlib.new(hash_algorithm.name, b"message").digest()
    padding = (
        asym_padding.PSS(asym_padding.MGF1(hash_algorithm), hash_algorithm.digest_size)
        if alg.startswith("PS")
        else asym_padding.PKCS1v15()
    )
    signature = known_rsa.sign(digest, padding, Prehashed(hash_algorithm))
    good = operation(wire, "k", "verify", alg=alg, digest=b64(digest), value=b64(signature))
    assert good.get_json() == {"value": True}
    bad = operation(wire, "k", "verify", alg=alg, digest=b64(digest), value=b64(signature[:-1] + b"\x00"))
    assert bad.get_json() == {"value": False}
    vault_signature = unb64(operation(wire, "k", "sign", alg=alg, value=b64(digest)).get_json()["value"])
    known_rsa.public_key().verify(vault_signature, digest, padding, Prehashed(hash_algorithm))


@pytest.mark.parametrize(
    ("crv", "curve", "width", "alg", "hash_algorithm"),
    [
        ("P-256", ec.SECP256R1(), 32, "ES256", hashes.SHA256()),
        ("P-384", ec.SECP384R1(), 48, "ES384", hashes.SHA384()),
        ("P-521", ec.SECP521R1(), 66, "ES512", hashes.SHA512()),
        ("P-256K", ec.SECP256K1(), 32, "ES256K", hashes.SHA256()),
    ],
)
def test_ec_signatures_are_raw_r_s_both_ways(wire, crv, curve, width, alg, hash_algorithm):
    private = ec.generate_private_key(curve)
    bundle = import_(wire, "k", ec_private_jwk(private, crv, width))
    assert bundle["key"]["crv"] == crv and set(bundle["key"]) == {"kid", "kty", "key_ops", "crv", "x", "y"}
    digest = hashlib.new(hash_algorithm.name, b"message").digest()
    signature = unb64(operation(wire, "k", "sign", alg=alg, value=b64(digest)).get_json()["value"])
    assert len(signature) == 2 * width
    r, s = int.from_bytes(signature[:width], "big"), int.from_bytes(signature[width:], "big")
    private.public_key().verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hash_algorithm)))
    # and the vault verifies a signature made outside, given as r||s
    r2, s2 = decode_dss_signature(private.sign(digest, ec.ECDSA(Prehashed(hash_algorithm))))
    raw = r2.to_bytes(width, "big") + s2.to_bytes(width, "big")
    assert operation(wire, "k", "verify", alg=alg, digest=b64(digest), value=b64(raw)).get_json() == {"value": True}
    der = encode_dss_signature(r2, s2)  # DER is not the wire format: not a valid signature
    assert operation(wire, "k", "verify", alg=alg, digest=b64(digest), value=b64(der)).get_json() == {"value": False}


@pytest.mark.parametrize("size", [128, 192, 256])
def test_aes_key_wrap_in_the_vault(hsm_wire, size):
    secret = os.urandom(size // 8)
    bundle = import_(hsm_wire, "aes", {"kty": "oct", "k": b64(secret)})
    assert bundle["key"]["kty"] == "oct-HSM" and "k" not in bundle["key"]
    alg = f"A{size}KW"
    cek = os.urandom(32)
    wrapped = operation(hsm_wire, "aes", "wrapkey", alg=alg, value=b64(cek)).get_json()
    assert aes_key_unwrap(secret, unb64(wrapped["value"])) == cek
    outside = aes_key_wrap(secret, cek)
    unwrapped = operation(hsm_wire, "aes", "unwrapkey", alg=alg, value=b64(outside)).get_json()
    assert unb64(unwrapped["value"]) == cek


@pytest.mark.parametrize("size", [128, 192, 256])
def test_aes_cbc_and_cbcpad_in_the_vault(hsm_wire, size):
    secret = os.urandom(size // 8)
    import_(hsm_wire, "aes", {"kty": "oct-HSM", "k": b64(secret)})
    iv = os.urandom(16)
    padded = operation(
        hsm_wire, "aes", "encrypt", alg=f"A{size}CBCPAD", value=b64(b"any length"), iv=b64(iv)
    ).get_json()
    assert unb64(padded["iv"]) == iv
    decryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).decryptor()
    block = decryptor.update(unb64(padded["value"])) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(128).unpadder()
    assert unpadder.update(block) + unpadder.finalize() == b"any length"
    encryptor = Cipher(algorithms.AES(secret), modes.CBC(iv)).encryptor()
    outside = encryptor.update(b"sixteen byte blk") + encryptor.finalize()
    plain = operation(hsm_wire, "aes", "decrypt", alg=f"A{size}CBC", value=b64(outside), iv=b64(iv)).get_json()
    assert unb64(plain["value"]) == b"sixteen byte blk"


@pytest.mark.parametrize("size", [128, 192, 256])
def test_aes_gcm_with_cryptography(hsm_wire, size):
    secret = os.urandom(size // 8)
    import_(hsm_wire, "aes", {"kty": "oct", "k": b64(secret)})
    alg = f"A{size}GCM"
    sealed = operation(hsm_wire, "aes", "encrypt", alg=alg, value=b64(b"gcm"), aad=b64(b"ctx")).get_json()
    assert AESGCM(secret).decrypt(unb64(sealed["iv"]), unb64(sealed["value"]) + unb64(sealed["tag"]), b"ctx") == b"gcm"
    nonce = os.urandom(12)
    outside = AESGCM(secret).encrypt(nonce, b"outside", None)
    opened = operation(
        hsm_wire, "aes", "decrypt", alg=alg, value=b64(outside[:-16]), iv=b64(nonce), tag=b64(outside[-16:])
    ).get_json()
    assert unb64(opened["value"]) == b"outside"
