"""The client side of a Managed HSM security domain, written from the Azure CLI's format (as the
azure-keyvault-securitydomain tests' helpers, wrapping.py/jwe.py/utils.py, 2025, read and write it), independently
of the emulator's own code: certificates to download to, decrypting the shares and the content, and the restore
blob an upload sends. Tests use it to prove the file the emulator hands out is the one the real tools read.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

OAEP256 = asymmetric.OAEP(asymmetric.MGF1(hashes.SHA256()), hashes.SHA256(), None)


def b64url(data: bytes) -> str:
    return base64.b64encode(data).decode().strip("=").replace("+", "-").replace("/", "_")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "===")


def make_wrapping_key(name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """What ``openssl req -newkey rsa:2048 -x509`` makes: a key and its self-signed certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def certificate_jwk(certificate: x509.Certificate) -> dict:
    """A ``SecurityDomainJsonWebKey`` as the SDK's test helper (and the CLI's ``--sd-wrapping-keys``) builds it."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    numbers = certificate.public_key().public_numbers()
    return {
        "kid": certificate.subject.rfc4514_string(),
        "kty": "RSA",
        "key_ops": ["verify", "encrypt", "wrapKey"],
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        "x5c": [base64.b64encode(der).decode()],
        "alg": "RSA-OAEP-256",
        "x5t": b64url(hashlib.sha1(der).digest()),
        "x5t#S256": b64url(hashlib.sha256(der).digest()),
    }


def kdf(master: bytes, label: str) -> bytes:
    """SP 800-108 counter mode with HMAC-SHA512, 512 bits: one block, as the CLI computes it."""
    data = (1).to_bytes(4, "big") + label.encode() + b"\x00" + (512).to_bytes(4, "big")
    return hmac.new(bytes(master), data, hashlib.sha512).digest()


def _mac(mac_key: bytes, header: str, iv: bytes, ciphertext: bytes) -> bytes:
    aad = header.encode()
    return hmac.new(mac_key, aad + iv + ciphertext + (len(aad) * 8).to_bytes(8, "big"), hashlib.sha512).digest()[:32]


def jwe_decrypt(compact: str, key) -> bytes:
    header, encrypted_key, iv, ciphertext, tag = compact.split(".")
    if isinstance(key, rsa.RSAPrivateKey):
        assert json.loads(unb64url(header))["alg"] == "RSA-OAEP-256"
        cek = key.decrypt(unb64url(encrypted_key), OAEP256)
    else:
        cek = key
    assert hmac.compare_digest(_mac(cek[:32], header, unb64url(iv), unb64url(ciphertext)), unb64url(tag))
    decryptor = Cipher(algorithms.AES(cek[32:]), modes.CBC(unb64url(iv))).decryptor()
    padded = decryptor.update(unb64url(ciphertext)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def jwe_encrypt(cek: bytes, plaintext: bytes, header: dict, encrypted_key: bytes = b"") -> str:
    encoded = b64url(json.dumps(header, separators=(",", ":")).encode())
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(cek[32:]), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    parts = (
        encoded,
        b64url(encrypted_key),
        b64url(iv),
        b64url(ciphertext),
        b64url(_mac(cek[:32], encoded, iv, ciphertext)),
    )
    return ".".join(parts)


def combine(shares: list[bytes]) -> bytes:
    """The master key from ``required`` shares: Lagrange at 0 over GF(257), words ``x << 9 | y`` little-endian."""
    words = [[int.from_bytes(share[i : i + 2], "little") for i in range(0, len(share), 2)] for share in shares]
    secret = bytearray()
    for column in zip(*words, strict=True):
        points = [(word >> 9, word & 0x1FF) for word in column]
        value = 0
        for i, (xi, yi) in enumerate(points):
            numerator = denominator = 1
            for j, (xj, _) in enumerate(points):
                if i != j:
                    numerator = numerator * xj % 257
                    denominator = denominator * (xj - xi) % 257
            value = (value + yi * numerator * pow(denominator, -1, 257)) % 257
        secret.append(value)
    return bytes(secret)


def open_security_domain(document: dict, keys: list[tuple[rsa.RSAPrivateKey, x509.Certificate]]) -> tuple[bytes, list]:
    """(master key, [(plaintext, tag)]) from a downloaded file and ``required`` of the wrapping keys."""
    shared = document["SharedKeys"]
    shares = []
    for key, certificate in keys:
        thumbprint = b64url(hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest())
        item = next(item for item in shared["enc_shares"] if item["x5t_256"] == thumbprint)
        shares.append(jwe_decrypt(item["enc_key"], key))
    master = combine(shares[: shared["required"]])
    contents = [(jwe_decrypt(d["compact_jwe"], kdf(master, d["tag"])), d["tag"]) for d in document["EncData"]["data"]]
    return master, contents


def restore_blob(contents: list, transfer_certificate: x509.Certificate) -> str:
    """What ``az keyvault security-domain restore-blob`` writes: the content under a new master key, wrapped to
    the HSM's transfer key."""
    master = os.urandom(32)
    data = [
        {
            "compact_jwe": jwe_encrypt(kdf(master, tag), plaintext, {"alg": "dir", "enc": "A256CBC-HS512", "kid": tag}),
            "tag": tag,
        }
        for plaintext, tag in contents
    ]
    cek = os.urandom(64)
    wrapped = jwe_encrypt(
        cek,
        master,
        {"alg": "RSA-OAEP-256", "enc": "A256CBC-HS512", "kid": "not used"},
        transfer_certificate.public_key().encrypt(cek, OAEP256),
    )
    der = transfer_certificate.public_bytes(serialization.Encoding.DER)
    return json.dumps(
        {
            "EncData": {"data": data, "kdf": "sp108_kdf"},
            "WrappedKey": {"enc_key": wrapped, "x5t_256": b64url(hashlib.sha256(der).digest())},
        }
    )


def transfer_certificate(transfer_key: dict) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(transfer_key["x5c"][0]))
