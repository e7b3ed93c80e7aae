"""Bring your own key: the key transfer blob (``key_hsm``) an HSM makes for a vault's key exchange key.

As Microsoft's BYOK specification describes it: a JSON document ``{"schema_version", "header": {"kid" (the
KEK), "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"}, "ciphertext", "generator"}``, base64url-encoded, whose
ciphertext is a fresh AES-256 key wrapped with the KEK (RSA-OAEP; SHA-1 for ``CKM_RSA_AES_KEY_WRAP``)
followed by the target key wrapped with that AES key (AES key wrap with padding, RFC 5649). The target is
the PKCS#8 DER of an RSA or EC private key, or the bytes of an AES key. All crypto is ``cryptography``'s.

:func:`make_transfer_blob` does what the vendor's BYOK tool does, so a test can bring a key of its own.
Every refusal is a BadParameter (400); texts are ours (unverified).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding, aes_key_wrap_with_padding

from ..errors import BadParameter
from .key_material import KeyMaterial, b64url_decode, b64url_encode, key_family

__all__ = ["TRANSFER_ENCRYPTIONS", "TransferBlob", "make_transfer_blob", "open_transfer_blob", "read_transfer_blob"]

#: ``header.enc`` -> the OAEP hash that wraps the AES key.
TRANSFER_ENCRYPTIONS: dict[str, hashes.HashAlgorithm] = {
    "CKM_RSA_AES_KEY_WRAP": hashes.SHA1(),
    "RSA_AES_KEY_WRAP_256": hashes.SHA256(),
    "RSA_AES_KEY_WRAP_384": hashes.SHA384(),
}
_AES_KEY_BYTES = 32


@dataclasses.dataclass(frozen=True)
class TransferBlob:
    """The parts of a ``key_hsm`` that matter: the KEK it was made for, how, and the wrapped bytes."""

    kek_id: str
    enc: str
    ciphertext: bytes

    @property
    def kek_name_and_version(self) -> tuple[str, str | None]:
        """``(name, version)`` from the KEK's key identifier (``https://{vault}/keys/{name}[/{version}]``)."""
        parts = urlsplit(self.kek_id).path.strip("/").split("/")
        if len(parts) not in (2, 3) or parts[0] != "keys" or not parts[1]:
            raise _invalid(f"header.kid '{self.kek_id}' is not a key identifier")
        return parts[1], parts[2] if len(parts) == 3 and parts[2] else None

    @property
    def kek_host(self) -> str:
        return (urlsplit(self.kek_id).hostname or "").lower()


def _invalid(detail: str) -> BadParameter:
    return BadParameter(f"The key_hsm transfer blob is not valid: {detail}.")  # unverified text


def read_transfer_blob(key_hsm: Any) -> TransferBlob:
    """Parse ``key_hsm`` (base64url of the JSON document) without opening it."""
    if not isinstance(key_hsm, str):
        raise _invalid("key_hsm must be a base64url string")
    try:
        document = json.loads(b64url_decode(key_hsm, field="key_hsm"))
    except (ValueError, UnicodeDecodeError):
        raise _invalid("it is not base64url-encoded JSON") from None
    header = document.get("header") if isinstance(document, dict) else None
    if not isinstance(header, dict) or not isinstance(header.get("kid"), str):
        raise _invalid("header.kid is missing")
    enc = header.get("enc")
    if enc not in TRANSFER_ENCRYPTIONS:
        raise _invalid(f"header.enc must be one of {', '.join(TRANSFER_ENCRYPTIONS)}")
    ciphertext = document.get("ciphertext")
    if not isinstance(ciphertext, str):
        raise _invalid("ciphertext is missing")
    return TransferBlob(header["kid"], enc, b64url_decode(ciphertext, field="ciphertext"))


def open_transfer_blob(blob: TransferBlob, kek: KeyMaterial, kty: str) -> KeyMaterial:
    """Unwrap the target key with the KEK's private key; a wrong KEK or a tampered blob is a 400."""
    if not isinstance(kek.key, rsa.RSAPrivateKey):
        raise _invalid(f"the key exchange key must be an RSA key, not {kek.kty}")
    algorithm = TRANSFER_ENCRYPTIONS[blob.enc]
    size = kek.key.key_size // 8
    try:
        aes_key = kek.key.decrypt(
            blob.ciphertext[:size], padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
        )
        target = aes_key_unwrap_with_padding(aes_key, blob.ciphertext[size:])
    except (ValueError, InvalidUnwrap):
        raise _invalid("it cannot be unwrapped with the key exchange key (a wrong KEK, or a changed blob)") from None
    family = key_family(kty)
    if family == "oct":
        return KeyMaterial.from_jwk({"kty": kty, "k": b64url_encode(target)})  # checks the AES key size
    try:
        private = serialization.load_der_private_key(target, password=None)
    except ValueError:
        raise _invalid("the wrapped key is not a PKCS#8 private key") from None
    if family == "RSA" and isinstance(private, rsa.RSAPrivateKey):
        private_jwk = KeyMaterial("RSA", private).private_jwk()
    elif family == "EC" and isinstance(private, ec.EllipticCurvePrivateKey):
        private_jwk = KeyMaterial("EC", private).private_jwk()
    else:
        raise _invalid(f"the wrapped key is not a {family} key")
    return KeyMaterial.from_jwk({**private_jwk, "kty": kty})  # the sizes and curves a vault allows


def make_transfer_blob(
    kek_id: str,
    kek_public_key: rsa.RSAPublicKey,
    target: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | bytes,
    *,
    enc: str = "CKM_RSA_AES_KEY_WRAP",
) -> str:
    """The ``key_hsm`` a BYOK tool makes for ``target`` and the vault's KEK (its id and public key)."""
    secret = (
        target
        if isinstance(target, bytes)
        else target.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    algorithm = TRANSFER_ENCRYPTIONS[enc]
    aes_key = os.urandom(_AES_KEY_BYTES)
    wrapped_aes = kek_public_key.encrypt(
        aes_key, padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
    )
    document = {
        "schema_version": "1.0.0",
        "header": {"kid": kek_id, "alg": "dir", "enc": enc},
        "ciphertext": b64url_encode(wrapped_aes + aes_key_wrap_with_padding(aes_key, secret)),
        "generator": "kv-emulator make_transfer_blob",
    }
    return b64url_encode(json.dumps(document).encode())
