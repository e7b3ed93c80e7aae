"""The security domain file's cryptography, as the Azure CLI and the SDK's test helpers read and write it.

A downloaded security domain is JSON: ``EncData`` holds the domain's content as compact JWEs (``dir``,
``A256CBC-HS512``) under keys derived from a 32-byte master key (SP 800-108 counter mode, HMAC-SHA512, label =
the item's tag, 512 bits); ``SharedKeys`` holds that master key split into shares (Shamir over GF(257), one
16-bit word ``x << 9 | y`` per byte, little-endian), each share a compact JWE (``RSA-OAEP-256``,
``A256CBC-HS512``) to one of the caller's certificates, named by its SHA-256 thumbprint; any ``required`` of
them give the master key back. An upload ("restore blob") is the same ``EncData`` under a new master key, which
is wrapped (``WrappedKey``) to the HSM's transfer key. Every primitive is ``cryptography``'s; A256CBC-HS512
is RFC 7518 §5.2 (AES-256-CBC, then HMAC-SHA512 over the header, IV, ciphertext and AAD length, cut to 32
bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.kbkdf import KBKDFHMAC, CounterLocation, Mode

__all__ = [
    "FormatError",
    "b64url",
    "b64url_decode",
    "decrypt",
    "derive",
    "encrypt_direct",
    "encrypt_to",
    "split",
]

_OAEP = OAEP(mgf=MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
_PRIME = 257


class FormatError(ValueError):
    """A security domain document or JWE that cannot be read."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise FormatError("not base64url") from exc


def derive(master: bytes, label: str) -> bytes:
    """The 64-byte content key of the ``EncData`` item tagged ``label`` (SP 800-108, HMAC-SHA512)."""
    kdf = KBKDFHMAC(
        algorithm=hashes.SHA512(),
        mode=Mode.CounterMode,
        length=64,
        rlen=4,
        llen=4,
        location=CounterLocation.BeforeFixed,
        label=label.encode(),
        context=b"",
        fixed=None,
    )
    return kdf.derive(master)


def _tag(mac_key: bytes, header: str, iv: bytes, ciphertext: bytes) -> bytes:
    aad = header.encode("ascii")
    data = aad + iv + ciphertext + (len(aad) * 8).to_bytes(8, "big")
    return hmac.new(mac_key, data, hashlib.sha512).digest()[:32]


def _seal(cek: bytes, header: dict[str, str], encrypted_key: bytes, plaintext: bytes) -> str:
    encoded = b64url(json.dumps(header, separators=(",", ":")).encode())
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(cek[32:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    tag = _tag(cek[:32], encoded, iv, ciphertext)
    return ".".join((encoded, b64url(encrypted_key), b64url(iv), b64url(ciphertext), b64url(tag)))


def encrypt_direct(key: bytes, plaintext: bytes, kid: str) -> str:
    """A compact JWE with the 64-byte ``key`` itself (``alg: dir``)."""
    return _seal(key, {"alg": "dir", "enc": "A256CBC-HS512", "kid": kid}, b"", plaintext)


def encrypt_to(public_key: rsa.RSAPublicKey, plaintext: bytes, kid: str) -> str:
    """A compact JWE to an RSA public key (``RSA-OAEP-256`` wrapping a fresh 64-byte content key)."""
    cek = os.urandom(64)
    header = {"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "kid": kid}
    return _seal(cek, header, public_key.encrypt(cek, _OAEP), plaintext)


def header(compact: str) -> dict[str, Any]:
    try:
        document = json.loads(b64url_decode(compact.split(".")[0]))
    except ValueError as exc:
        raise FormatError("unreadable JWE header") from exc
    if not isinstance(document, dict):
        raise FormatError("unreadable JWE header")
    return document


def decrypt(compact: str, key: bytes | rsa.RSAPrivateKey) -> bytes:
    """The plaintext of a compact A256CBC-HS512 JWE: ``dir`` with the key's bytes, or RSA-OAEP(-256)."""
    parts = compact.split(".") if isinstance(compact, str) else []
    if len(parts) != 5:
        raise FormatError("not a compact JWE")
    head = header(compact)
    if head.get("enc") != "A256CBC-HS512":
        raise FormatError("unsupported JWE encryption")
    if isinstance(key, bytes):
        cek = key
    else:
        oaep = _OAEP if head.get("alg") == "RSA-OAEP-256" else OAEP(MGF1(hashes.SHA1()), hashes.SHA1(), None)
        try:
            cek = key.decrypt(b64url_decode(parts[1]), oaep)
        except ValueError as exc:
            raise FormatError("the JWE's key is not for this key") from exc
    if len(cek) != 64:
        raise FormatError("wrong content key length")
    iv, ciphertext, tag = (b64url_decode(part) for part in parts[2:])
    if not hmac.compare_digest(_tag(cek[:32], parts[0], iv, ciphertext), tag):
        raise FormatError("JWE authentication failed")
    decryptor = Cipher(algorithms.AES(cek[32:]), modes.CBC(iv)).decryptor()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise FormatError("JWE padding") from exc


def split(secret: bytes, count: int, required: int) -> list[bytes]:
    """Shamir shares of ``secret`` (any ``required`` of the ``count`` give it back), byte by byte over GF(257),
    each share's words ``x << 9 | y`` little-endian: the encoding the CLI's share combiner reads."""
    shares = [bytearray() for _ in range(count)]
    for byte in secret:
        coefficients = [byte] + [secrets.randbelow(_PRIME) for _ in range(required - 1)]
        for index in range(count):
            x = index + 1
            y = 0
            for coefficient in reversed(coefficients):
                y = (y * x + coefficient) % _PRIME
            shares[index] += ((x << 9) | y).to_bytes(2, "little")
    return [bytes(share) for share in shares]
