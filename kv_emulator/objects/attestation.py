"""The emulator's stand-in for Microsoft Azure Attestation, and the signatures of secure key release.

A test that releases a key needs an attestation token the vault trusts: :meth:`AttestationAuthority.issue_token`
makes one (a real RS256 JWT with the claims the test chooses and a fresh transfer key in
``x-ms-runtime.keys``). The vault checks it against the key's release policy and answers with a JWS
signed by the vault, carrying the key wrapped for the transfer key (``CKM_RSA_AES_KEY_WRAP`` and its
SHA-256/384 variants). :func:`unwrap_released_key` opens that for the test, as the TEE would.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import os
import uuid
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding, aes_key_wrap_with_padding
from cryptography.x509.oid import NameOID

from ..clock import Clock
from ..errors import BadParameter, TargetNotAttested
from .key_material import KeyMaterial, b64url_decode, b64url_encode

__all__ = [
    "DEFAULT_AUTHORITY",
    "AttestationAuthority",
    "AttestationToken",
    "TargetNotAttested",
    "unwrap_released_key",
]

DEFAULT_AUTHORITY = "https://kv-emulator.attest.azure.net"
_RELEASE_HASHES: dict[str, hashes.HashAlgorithm] = {
    "CKM_RSA_AES_KEY_WRAP": hashes.SHA1(),
    "RSA_AES_KEY_WRAP_256": hashes.SHA256(),
    "RSA_AES_KEY_WRAP_384": hashes.SHA384(),
}


@dataclasses.dataclass(frozen=True)
class AttestationToken:
    """What :meth:`AttestationAuthority.issue_token` gives a test: the JWT and the TEE's transfer key."""

    jwt: str
    transfer_key: rsa.RSAPrivateKey


def _self_signed(key: rsa.RSAPrivateKey, common_name: str, now: datetime.datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _runtime_jwk(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The public JWK of a TEE's transfer key, as ``x-ms-runtime.keys`` carries it."""
    public = key.public_key().public_numbers()
    return {
        "kid": "TpmEphemeralEncryptionKey",
        "kty": "RSA",
        "key_ops": ["encrypt"],
        "e": b64url_encode(public.e.to_bytes((public.e.bit_length() + 7) // 8, "big")),
        "n": b64url_encode(public.n.to_bytes((public.n.bit_length() + 7) // 8, "big")),
    }


class AttestationAuthority:
    """Issues attestation tokens, verifies them, and signs what the vault releases or attests."""

    def __init__(self, clock: Clock, issuer: str = DEFAULT_AUTHORITY) -> None:
        self.clock = clock
        self.issuer = issuer
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.certificate = _self_signed(self._key, "kv-emulator attestation", clock.now())
        self._kid = b64url_encode(self.certificate.fingerprint(hashes.SHA256()))
        self.attestation_policies: dict[str, str] = {}
        """The policies set over ``PUT /policies/{type}``, by lower-case attestation type."""
        self._stand_ins: dict[str, rsa.RSAPrivateKey] = {}

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    @property
    def kid(self) -> str:
        """The ``kid`` of the authority's signing key: its certificate's SHA-256 thumbprint, base64url."""
        return self._kid

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    # -- tokens -----------------------------------------------------------------------------------

    def issue_token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        transfer_key: rsa.RSAPrivateKey | None = None,
        lifetime: datetime.timedelta = datetime.timedelta(hours=8),
    ) -> AttestationToken:
        """A token the vault accepts as ``target`` of a key release, with ``claims`` for the policy."""
        transfer_key = transfer_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        payload = {"jti": uuid.uuid4().hex, "x-ms-runtime": {"keys": [_runtime_jwk(transfer_key)]}, **(claims or {})}
        return AttestationToken(self.encode_token(payload, lifetime=lifetime), transfer_key)

    def encode_token(
        self, claims: dict[str, Any], *, signed: bool = True, lifetime: datetime.timedelta = datetime.timedelta(hours=8)
    ) -> str:
        """A JWT from this authority with ``claims``: RS256 with its key (``kid``, ``jku``), or unsecured."""
        now = int(self.clock.time())
        payload = {"iss": self.issuer, "iat": now, "nbf": now, "exp": now + int(lifetime.total_seconds()), **claims}
        if not signed:
            return jwt.encode(payload, "", algorithm="none")
        headers = {"kid": self._kid, "jku": f"{self.issuer}/certs", "typ": "JWT"}
        return jwt.encode(payload, self._key, algorithm="RS256", headers=headers)

    def stand_in_transfer_key(self) -> dict[str, Any]:
        """The public JWK of a fresh transfer key the emulator holds for an enclave that sent none."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = _runtime_jwk(key)
        self._stand_ins[jwk["n"]] = key
        return jwk

    def transfer_key(self, token: str) -> rsa.RSAPrivateKey | None:
        """The private half of the transfer key in ``token``'s ``x-ms-runtime``, when the emulator made it.

        A token from ``POST /attest/OpenEnclave`` without runtime data names such a key: unwrap what a
        release gave for that token with it (:func:`unwrap_released_key`).
        """
        try:
            keys = _claim(jwt.decode(token, options={"verify_signature": False}), "x-ms-runtime.keys")
        except jwt.PyJWTError:
            return None
        if not isinstance(keys, list):
            return None
        return next(
            (self._stand_ins[k["n"]] for k in keys if isinstance(k, dict) and k.get("n") in self._stand_ins), None
        )

    def verify_token(self, token: str) -> dict[str, Any]:
        """The claims of a token this authority issued and that is valid now on the emulator's clock."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            # Seen as a live-service error in azure-sdk-for-net tests (medium confidence).
            raise TargetNotAttested("Target environment attestation statement cannot be verified.") from None
        now = self.clock.time()
        if not claims.get("nbf", 0) <= now < claims.get("exp", 0):
            raise TargetNotAttested("Target environment attestation statement cannot be verified.")
        return claims

    # -- signing ----------------------------------------------------------------------------------

    def sign(self, payload: dict[str, Any]) -> str:
        """A compact JWS (RS256) over ``payload``, with the authority's certificate in ``x5c``."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        headers = {"kid": self._kid, "x5c": [base64.b64encode(der).decode()], "x5t#S256": self._kid}
        return jwt.encode(payload, self._key, algorithm="RS256", headers=headers)


# -- release policy ---------------------------------------------------------------------------------


_MISSING = object()


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _condition_holds(condition: Any, claims: dict[str, Any]) -> bool:
    if not isinstance(condition, dict):
        return False
    for combine, name in ((any, "anyOf"), (all, "allOf")):
        if name in condition:
            parts = condition[name]
            return isinstance(parts, list) and combine(_condition_holds(c, claims) for c in parts)
    value = _claim(claims, str(condition.get("claim", "")))
    if "equals" in condition:
        return value is not _MISSING and value == condition["equals"]
    return False


def policy_allows(policy_data: str, claims: dict[str, Any]) -> bool:
    """Evaluate a release policy (``{"anyOf": [{"authority", "allOf": [{"claim", "equals"}]}]}``)."""
    try:
        policy = json.loads(b64url_decode(policy_data, field="release_policy.data"))
    except ValueError:
        raise BadParameter("Property release_policy has invalid value\r\n") from None
    issuer = str(claims.get("iss", "")).rstrip("/").lower()
    for rule in policy.get("anyOf", []) if isinstance(policy, dict) else []:
        if not isinstance(rule, dict):
            continue
        authority = str(rule.get("authority", "")).rstrip("/").lower()
        # A rule's claims come as allOf or as anyOf (the JavaScript SDK's Managed HSM sample, 2025); a rule
        # naming only its authority holds for any token of that authority, as before.
        conditions = "allOf" in rule or "anyOf" in rule
        if authority == issuer and (not conditions or _condition_holds(rule, claims)):
            return True
    return False


# -- wrapping for the target -----------------------------------------------------------------------


def wrap_for_target(material: KeyMaterial, claims: dict[str, Any], enc: str) -> str:
    """``key_hsm`` of a released key: the key (PKCS#8 DER, or raw AES bytes) wrapped for the TEE's key."""
    if enc not in _RELEASE_HASHES:
        raise BadParameter("Property enc has invalid value\r\n")
    runtime_keys = _claim(claims, "x-ms-runtime.keys")
    if not isinstance(runtime_keys, list) or not runtime_keys:
        raise TargetNotAttested("Target environment attestation statement cannot be verified.")
    jwk = runtime_keys[0]
    target = rsa.RSAPublicNumbers(
        int.from_bytes(b64url_decode(jwk["e"], field="e"), "big"),
        int.from_bytes(b64url_decode(jwk["n"], field="n"), "big"),
    ).public_key()
    secret = (
        material.key
        if isinstance(material.key, bytes)
        else material.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ephemeral = os.urandom(32)  # the AES-256 key-encryption key of CKM_RSA_AES_KEY_WRAP
    algorithm = _RELEASE_HASHES[enc]
    wrapped_key = target.encrypt(ephemeral, padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None))
    ciphertext = wrapped_key + aes_key_wrap_with_padding(ephemeral, secret)
    document = {
        "schema_version": "1.0",
        "header": {"kid": jwk.get("kid", "TpmEphemeralEncryptionKey"), "alg": "dir", "enc": enc},
        "ciphertext": b64url_encode(ciphertext),
        "generator": "kv-emulator",
    }
    return b64url_encode(json.dumps(document).encode())


def unwrap_released_key(released: str, transfer_key: rsa.RSAPrivateKey) -> bytes:
    """Open the JWS a key release returned, as the TEE would: the key's PKCS#8 DER (RSA, EC) or AES bytes.

    The JWS signature is not checked here; verify it with ``Emulator.attestation.public_key`` if needed.
    """
    payload = jwt.decode(released, options={"verify_signature": False})
    key_hsm = payload["response"]["key"]["key"]["key_hsm"]
    document = json.loads(b64url_decode(key_hsm, field="key_hsm"))
    ciphertext = b64url_decode(document["ciphertext"], field="ciphertext")
    algorithm = _RELEASE_HASHES[document["header"]["enc"]]
    size = transfer_key.key_size // 8
    ephemeral = transfer_key.decrypt(
        ciphertext[:size], padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
    )
    return aes_key_unwrap_with_padding(ephemeral, ciphertext[size:])
