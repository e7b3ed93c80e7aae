"""The operations on Key Vault key material: encrypt/decrypt, wrapKey/unwrapKey, sign/verify.

No HTTP and no JSON bodies here, only bytes in and bytes out, so the wire layer stays thin and every algorithm
can be tested against ``cryptography`` directly. All crypto is done by ``cryptography``; nothing is hand-made.
The key material itself (key types, new keys, JWK in and out) is in :mod:`.key_material`. Every refusal is a
:class:`~kv_emulator.errors.BadParameter` (HTTP 400). Error texts are ours (unverified against the real
service) unless a comment says they were seen in real service answers.
"""

from __future__ import annotations

import dataclasses
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_unwrap_with_padding,
    aes_key_wrap,
    aes_key_wrap_with_padding,
)

from ..errors import BadParameter
from .key_material import KeyMaterial, ec_coordinate_bytes

__all__ = [
    "ENCRYPTION_ALGORITHMS",
    "SIGNATURE_ALGORITHMS",
    "WRAP_ALGORITHMS",
    "EncryptResult",
    "decrypt",
    "encrypt",
    "sign",
    "unwrap_key",
    "verify",
    "wrap_key",
]

_RSA_ENCRYPTION = ("RSA-OAEP", "RSA-OAEP-256", "RSA1_5")
# AES algorithm -> key length in bytes it requires.
_AES_GCM = {"A128GCM": 16, "A192GCM": 24, "A256GCM": 32}
_AES_CBC = {"A128CBC": 16, "A192CBC": 24, "A256CBC": 32}
_AES_CBCPAD = {"A128CBCPAD": 16, "A192CBCPAD": 24, "A256CBCPAD": 32}
_AES_KW = {"A128KW": 16, "A192KW": 24, "A256KW": 32}
_AES_KWPAD = {"A128KWPAD": 16, "A192KWPAD": 24, "A256KWPAD": 32}
_CKM_WRAP = ("CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD")  # PKCS#11 names: any AES key size

#: Algorithms of the encrypt and decrypt operations.
ENCRYPTION_ALGORITHMS = (*_RSA_ENCRYPTION, *_AES_GCM, *_AES_CBC, *_AES_CBCPAD)
#: Algorithms of the wrapKey and unwrapKey operations.
WRAP_ALGORITHMS = (*_RSA_ENCRYPTION, *_AES_KW, *_AES_KWPAD, *_CKM_WRAP)

# Signature algorithm -> (hash of the pre-computed digest, PSS padding?) for RSA; -> (curve, hash) for EC.
_RSA_SIGNATURES: dict[str, tuple[hashes.HashAlgorithm, bool]] = {
    "PS256": (hashes.SHA256(), True),
    "PS384": (hashes.SHA384(), True),
    "PS512": (hashes.SHA512(), True),
    "RS256": (hashes.SHA256(), False),
    "RS384": (hashes.SHA384(), False),
    "RS512": (hashes.SHA512(), False),
}
_EC_SIGNATURES: dict[str, tuple[str, hashes.HashAlgorithm]] = {
    "ES256": ("P-256", hashes.SHA256()),
    "ES384": ("P-384", hashes.SHA384()),
    "ES512": ("P-521", hashes.SHA512()),
    "ES256K": ("P-256K", hashes.SHA256()),
}
# HMAC on oct keys (Managed HSM only, where oct keys live): algorithm -> hash.
_HMAC_SIGNATURES: dict[str, hashes.HashAlgorithm] = {
    "HS256": hashes.SHA256(),
    "HS384": hashes.SHA384(),
    "HS512": hashes.SHA512(),
}
#: Algorithms of the sign and verify operations (RSNULL is not implemented).
SIGNATURE_ALGORITHMS = (*_RSA_SIGNATURES, *_EC_SIGNATURES, *_HMAC_SIGNATURES)

_GCM_IV_BYTES = 12
_GCM_TAG_BYTES = 16
_AES_BLOCK_BYTES = 16


# --- algorithm checks ------------------------------------------------------------------------------------


def _unsupported(material: KeyMaterial, alg: str, operation: str) -> BadParameter:
    # unverified text
    return BadParameter(
        f"The algorithm '{alg}' is not supported for the {operation} operation on a {material.kty} key."
    )


def _rsa_key(material: KeyMaterial, alg: str, operation: str) -> rsa.RSAPrivateKey:
    if not isinstance(material.key, rsa.RSAPrivateKey):
        raise _unsupported(material, alg, operation)
    return material.key


def _aes_key(material: KeyMaterial, alg: str, operation: str, required: int | None) -> bytes:
    """The AES key bytes, checked against the length the algorithm name demands (None: any)."""
    if not isinstance(material.key, bytes):
        raise _unsupported(material, alg, operation)
    if required is not None and len(material.key) != required:
        raise BadParameter(  # unverified text
            f"The algorithm '{alg}' needs a {required * 8}-bit key; this key is {len(material.key) * 8} bits."
        )
    return material.key


def _oaep_padding(alg: str) -> asym_padding.AsymmetricPadding:
    if alg == "RSA1_5":
        return asym_padding.PKCS1v15()
    digest: hashes.HashAlgorithm = hashes.SHA1() if alg == "RSA-OAEP" else hashes.SHA256()
    return asym_padding.OAEP(mgf=asym_padding.MGF1(digest), algorithm=digest, label=None)


def _rsa_encrypt(key: rsa.RSAPrivateKey, alg: str, data: bytes) -> bytes:
    try:
        return key.public_key().encrypt(data, _oaep_padding(alg))
    except ValueError:
        # unverified text
        raise BadParameter(f"The value is too long to encrypt with {alg} and a {key.key_size}-bit key.") from None


def _rsa_decrypt(key: rsa.RSAPrivateKey, alg: str, data: bytes) -> bytes:
    # RSA1_5 with OpenSSL 3.2+ uses implicit rejection: a wrong ciphertext of the right length decrypts to
    # random bytes instead of failing, which is also what protects the real service from padding oracles.
    try:
        return key.decrypt(data, _oaep_padding(alg))
    except ValueError:
        raise BadParameter(f"The value could not be decrypted with {alg} and this key.") from None  # unverified


def _check_cbc_iv(iv: bytes, alg: str) -> None:
    if len(iv) != _AES_BLOCK_BYTES:
        raise BadParameter(f"The iv for {alg} must be {_AES_BLOCK_BYTES} bytes, not {len(iv)}.")  # unverified text


# --- encrypt / decrypt -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EncryptResult:
    """What encrypt returns: the ciphertext, plus the iv (AES) and the authentication tag (AES-GCM)."""

    ciphertext: bytes
    iv: bytes | None = None
    tag: bytes | None = None


def encrypt(
    material: KeyMaterial, alg: str, plaintext: bytes, *, iv: bytes | None = None, aad: bytes | None = None
) -> EncryptResult:
    """Encrypt one block of data. AES-GCM and AES-CBC make a random iv when none is given (the SDK documents
    that the service generates one) and return it; ``aad`` only matters for GCM."""
    if alg in _RSA_ENCRYPTION:
        return EncryptResult(_rsa_encrypt(_rsa_key(material, alg, "encrypt"), alg, plaintext))
    if alg in _AES_GCM:
        key = _aes_key(material, alg, "encrypt", _AES_GCM[alg])
        nonce = os.urandom(_GCM_IV_BYTES) if iv is None else iv
        try:
            sealed = AESGCM(key).encrypt(nonce, plaintext, aad or None)
        except ValueError as exc:
            raise BadParameter(f"The {alg} encryption parameters are not valid: {exc}") from None  # unverified
        return EncryptResult(sealed[:-_GCM_TAG_BYTES], nonce, sealed[-_GCM_TAG_BYTES:])
    if alg in _AES_CBC or alg in _AES_CBCPAD:
        key = _aes_key(material, alg, "encrypt", _AES_CBC.get(alg) or _AES_CBCPAD[alg])
        nonce = os.urandom(_AES_BLOCK_BYTES) if iv is None else iv
        _check_cbc_iv(nonce, alg)
        if alg in _AES_CBCPAD:
            padder = sym_padding.PKCS7(algorithms.AES.block_size).padder()
            plaintext = padder.update(plaintext) + padder.finalize()
        elif len(plaintext) % _AES_BLOCK_BYTES:
            # The Managed HSM (the only home of AES keys) zero-pads to the block size; decrypt returns the
            # padded plaintext, zeros included (issue 12: client code that passes against the service).
            plaintext += bytes(-len(plaintext) % _AES_BLOCK_BYTES)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(nonce)).encryptor()
        return EncryptResult(encryptor.update(plaintext) + encryptor.finalize(), nonce)
    raise _unsupported(material, alg, "encrypt")


def decrypt(
    material: KeyMaterial,
    alg: str,
    ciphertext: bytes,
    *,
    iv: bytes | None = None,
    aad: bytes | None = None,
    tag: bytes | None = None,
) -> bytes:
    """Decrypt what :func:`encrypt` made; every failure (wrong key, tag, padding or length) is BadParameter."""
    if alg in _RSA_ENCRYPTION:
        return _rsa_decrypt(_rsa_key(material, alg, "decrypt"), alg, ciphertext)
    if alg in _AES_GCM:
        key = _aes_key(material, alg, "decrypt", _AES_GCM[alg])
        if iv is None or tag is None:
            raise BadParameter(f"Decryption with {alg} needs both the iv and the tag.")  # unverified text
        if len(tag) != _GCM_TAG_BYTES:
            raise BadParameter(f"The tag for {alg} must be {_GCM_TAG_BYTES} bytes, not {len(tag)}.")  # unverified
        try:
            return AESGCM(key).decrypt(iv, ciphertext + tag, aad or None)
        except (InvalidTag, ValueError):
            # unverified text
            raise BadParameter(f"The value could not be decrypted with {alg}: authentication failed.") from None
    if alg in _AES_CBC or alg in _AES_CBCPAD:
        key = _aes_key(material, alg, "decrypt", _AES_CBC.get(alg) or _AES_CBCPAD[alg])
        if iv is None:
            raise BadParameter(f"Decryption with {alg} needs the iv.")  # unverified text
        _check_cbc_iv(iv, alg)
        if len(ciphertext) % _AES_BLOCK_BYTES:
            raise BadParameter(f"The value for {alg} must be a multiple of 16 bytes.")  # unverified text
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
        if alg in _AES_CBC:
            return plaintext
        unpadder = sym_padding.PKCS7(algorithms.AES.block_size).unpadder()
        try:
            return unpadder.update(plaintext) + unpadder.finalize()
        except ValueError:
            raise BadParameter(f"The value could not be decrypted with {alg}: bad padding.") from None  # unverified
    raise _unsupported(material, alg, "decrypt")


# --- wrapKey / unwrapKey ---------------------------------------------------------------------------------


def _aes_wrap_spec(material: KeyMaterial, alg: str, operation: str) -> tuple[bytes, bool]:
    """(AES key, RFC 5649 padding?) for an AES key-wrap algorithm."""
    if alg in _AES_KW:
        return _aes_key(material, alg, operation, _AES_KW[alg]), False
    if alg in _AES_KWPAD:
        return _aes_key(material, alg, operation, _AES_KWPAD[alg]), True
    if alg in _CKM_WRAP:
        return _aes_key(material, alg, operation, None), alg == "CKM_AES_KEY_WRAP_PAD"
    raise _unsupported(material, alg, operation)


def wrap_key(material: KeyMaterial, alg: str, key: bytes) -> bytes:
    """Wrap a key: RSA encryption, or AES key wrap (RFC 3394, or RFC 5649 for the *PAD algorithms)."""
    if alg in _RSA_ENCRYPTION:
        return _rsa_encrypt(_rsa_key(material, alg, "wrapKey"), alg, key)
    wrapping_key, padded = _aes_wrap_spec(material, alg, "wrapKey")
    need = "1 byte or more" if padded else "16 bytes or more and a multiple of 8 bytes"
    refused = BadParameter(f"The key to wrap with {alg} must be {need}, not {len(key)} bytes.")  # unverified text
    if not key:  # checked here: cryptography < 47 wraps an empty key with padding instead of refusing it
        raise refused
    try:
        return (aes_key_wrap_with_padding if padded else aes_key_wrap)(wrapping_key, key)
    except ValueError:
        raise refused from None


def unwrap_key(material: KeyMaterial, alg: str, wrapped: bytes) -> bytes:
    """Undo :func:`wrap_key`; a wrapped key that fails its integrity check is BadParameter."""
    if alg in _RSA_ENCRYPTION:
        return _rsa_decrypt(_rsa_key(material, alg, "unwrapKey"), alg, wrapped)
    wrapping_key, padded = _aes_wrap_spec(material, alg, "unwrapKey")
    try:
        if padded:
            return aes_key_unwrap_with_padding(wrapping_key, wrapped)
        return aes_key_unwrap(wrapping_key, wrapped)
    except (InvalidUnwrap, ValueError):
        raise BadParameter(f"The value could not be unwrapped with {alg} and this key.") from None  # unverified


# --- sign / verify ---------------------------------------------------------------------------------------


def _check_digest(alg: str, digest: bytes, hash_algorithm: hashes.HashAlgorithm, field: str) -> None:
    if len(digest) != hash_algorithm.digest_size:
        # Seen from the real service for sign (field 'value'): "Invalid length of 'value': 44 bytes.
        # ES256 requires 32 bytes, encoded with base64url." The verify form (field 'digest') is unverified.
        raise BadParameter(
            f"Invalid length of '{field}': {len(digest)} bytes. "
            f"{alg} requires {hash_algorithm.digest_size} bytes, encoded with base64url."
        )


def _incompatible(material: KeyMaterial, alg: str, kid: str | None) -> BadParameter:
    key = f"Key {kid}" if kid else "The key"
    if alg in _EC_SIGNATURES and material.curve is not None:
        # Seen from the real service (azure-sdk-for-java#6262): "Key and signing algorithm are incompatible.
        # Key https://…/keys/n/v uses curve 'SECP256K1', and algorithm 'ES256K' can only be used with curve 'P-256K'."
        return BadParameter(
            f"Key and signing algorithm are incompatible. {key} uses curve '{material.crv}', and algorithm "
            f"'{alg}' can only be used with curve '{_EC_SIGNATURES[alg][0]}'."
        )
    if alg in SIGNATURE_ALGORITHMS:
        family = "RSA" if alg in _RSA_SIGNATURES else "EC" if alg in _EC_SIGNATURES else "oct"
        # unverified text, shaped like the verified curve message above
        return BadParameter(
            f"Key and signing algorithm are incompatible. {key} is of type '{material.kty}', and algorithm "
            f"'{alg}' can only be used with keys of type '{family}'."
        )
    return BadParameter(  # unverified text
        f"The signature algorithm '{alg}' is not supported; valid algorithms are {', '.join(SIGNATURE_ALGORITHMS)}."
    )


def _rsa_padding(alg: str) -> tuple[hashes.HashAlgorithm, asym_padding.AsymmetricPadding]:
    hash_algorithm, pss = _RSA_SIGNATURES[alg]
    if pss:  # salt as long as the digest, like the SDK's local provider
        return hash_algorithm, asym_padding.PSS(asym_padding.MGF1(hash_algorithm), hash_algorithm.digest_size)
    return hash_algorithm, asym_padding.PKCS1v15()


def _fits_ec(material: KeyMaterial, alg: str) -> bool:
    return alg in _EC_SIGNATURES and material.curve == _EC_SIGNATURES[alg][0]


def sign(material: KeyMaterial, alg: str, digest: bytes, *, kid: str | None = None) -> bytes:
    """Sign a pre-computed digest (the service never hashes). EC signatures are JWS ``r||s``, not DER.
    ``kid`` only goes into error messages, as the service's do."""
    key = material.key
    if isinstance(key, rsa.RSAPrivateKey) and alg in _RSA_SIGNATURES:
        hash_algorithm, rsa_padding = _rsa_padding(alg)
        _check_digest(alg, digest, hash_algorithm, "value")
        return key.sign(digest, rsa_padding, Prehashed(hash_algorithm))
    if isinstance(key, ec.EllipticCurvePrivateKey) and _fits_ec(material, alg):
        hash_algorithm = _EC_SIGNATURES[alg][1]
        _check_digest(alg, digest, hash_algorithm, "value")
        r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hash_algorithm))))
        width = ec_coordinate_bytes(key.curve)
        return r.to_bytes(width, "big") + s.to_bytes(width, "big")
    if isinstance(key, bytes) and alg in _HMAC_SIGNATURES:
        return _hmac(key, alg, digest).finalize()
    raise _incompatible(material, alg, kid)


def _hmac(key: bytes, alg: str, value: bytes) -> hmac.HMAC:
    """HMAC over the value as given: unlike RSA and EC there is no digest length to check (unverified: the
    service's rule for the length of an HMAC 'value' is not recorded)."""
    mac = hmac.HMAC(key, _HMAC_SIGNATURES[alg])
    mac.update(value)
    return mac


def verify(material: KeyMaterial, alg: str, digest: bytes, signature: bytes, *, kid: str | None = None) -> bool:
    """Check a signature over a pre-computed digest: False when it does not match, BadParameter only when
    the request itself is wrong (algorithm, digest length)."""
    key = material.key
    try:
        if isinstance(key, rsa.RSAPrivateKey) and alg in _RSA_SIGNATURES:
            hash_algorithm, rsa_padding = _rsa_padding(alg)
            _check_digest(alg, digest, hash_algorithm, "digest")
            key.public_key().verify(signature, digest, rsa_padding, Prehashed(hash_algorithm))
            return True
        if isinstance(key, ec.EllipticCurvePrivateKey) and _fits_ec(material, alg):
            hash_algorithm = _EC_SIGNATURES[alg][1]
            _check_digest(alg, digest, hash_algorithm, "digest")
            width = ec_coordinate_bytes(key.curve)
            if len(signature) != 2 * width:
                return False
            r, s = int.from_bytes(signature[:width], "big"), int.from_bytes(signature[width:], "big")
            key.public_key().verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hash_algorithm)))
            return True
        if isinstance(key, bytes) and alg in _HMAC_SIGNATURES:
            _hmac(key, alg, digest).verify(signature)
            return True
    except (InvalidSignature, ValueError):
        return False
    raise _incompatible(material, alg, kid)
