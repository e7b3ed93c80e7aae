"""Key Vault key material: the key types, making new keys, and JWK in and out.

The JWK <-> key conversion itself is PyJWT's (``RSAAlgorithm`` and ``ECAlgorithm``); what stays here is
what is Key Vault's own: the ``-HSM`` key types, the curve names (``P-256K``, and ``SECP256K1`` of the
preview api-version), ``oct`` keys, ``key_ops``, the sizes the service allows, leniency the service shows
(padded or standard-alphabet base64, coordinates without leading zeros, partial RSA CRT values) and its
error messages. Every refusal is a :class:`~kv_emulator.errors.BadParameter` (HTTP 400). Error texts are
ours (unverified against the real service) unless a comment says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from .. import encoding
from ..encoding import b64url_encode
from ..errors import BadParameter

__all__ = [
    "CURVES",
    "INVALID_JWK",
    "KEY_TYPES",
    "MAX_PUBLIC_EXPONENT",
    "OCT_KEY_SIZES",
    "RSA_IMPORT_SIZES",
    "RSA_KEY_SIZES",
    "KeyMaterial",
    "RsaGenerator",
    "RsaRequestRefused",
    "b64url_decode",
    "b64url_encode",
    "check_rsa_request",
    "default_key_ops",
    "ec_coordinate_bytes",
    "generate_key",
    "key_family",
]

KEY_TYPES = ("EC", "EC-HSM", "RSA", "RSA-HSM", "oct", "oct-HSM")
RSA_KEY_SIZES = (2048, 3072, 4096)
#: Imports also take 1024-bit RSA keys: the service accepts them on every api-version (recorded 2016-2023, issue 19).
RSA_IMPORT_SIZES = (1024, *RSA_KEY_SIZES)
#: The service's answer to a JWK it cannot read (recorded, azure-sdk-for-java#3405, for a ``key`` that is not an
#: object; presumed, unverified, for a JWK without ``kty``, with members of the wrong JSON type or not base64url, or
#: without the public members its type needs).
INVALID_JWK = 'The property "key" must be a valid JsonWebKey object.'
OCT_KEY_SIZES = (128, 192, 256)
#: The largest RSA public exponent a new key may have (unverified: PKCS#11 HSMs take 32-bit exponents).
MAX_PUBLIC_EXPONENT = 2**32 - 1
_CURVE_CLASSES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
    "P-256K": ec.SECP256K1,
}
CURVES = tuple(_CURVE_CLASSES)
# "SECP256K1" is the preview-era name of P-256K (api-version 2016-10-01); accepted on input, never emitted.
_CURVE_ALIASES = {"SECP256K1": "P-256K"}
_CURVE_BY_OPENSSL_NAME = {cls().name: crv for crv, cls in _CURVE_CLASSES.items()}
# PyJWT names secp256k1 as RFC 8812 does; Key Vault calls it P-256K.
_PYJWT_CURVE_NAMES = {"P-256K": "secp256k1"}
_RSA_PRIVATE_MEMBERS = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
_RSA_CRT_MEMBERS = ("dp", "dq", "qi")

_DEFAULT_KEY_OPS = {
    "RSA": ("encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"),  # [ex CreateKey] order
    "EC": ("sign", "verify"),  # [rec]
    "oct": ("encrypt", "decrypt", "wrapKey", "unwrapKey"),
}

_PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | bytes
_PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def b64url_decode(text: str, *, field: str = "value") -> bytes:
    """Decode a base64url wire field leniently (see :func:`kv_emulator.encoding.b64url_decode`); anything
    that is not base64url is a BadParameter naming ``field``."""
    if not isinstance(text, str):
        raise BadParameter(f"The '{field}' field must be a base64url string.")  # unverified text
    try:
        return encoding.b64url_decode(text)
    except ValueError:  # binascii.Error included
        raise BadParameter(f"The '{field}' field is not valid base64url.") from None  # unverified text


def key_family(kty: str) -> str:
    """``RSA``, ``EC`` or ``oct`` for a JWK key type: the -HSM variants work alike here."""
    if kty not in KEY_TYPES:
        # unverified text
        raise BadParameter(f"The key type (kty) '{kty}' is not valid; valid key types are {', '.join(KEY_TYPES)}.")
    return kty.removesuffix("-HSM")


def default_key_ops(kty: str) -> list[str]:
    """The key_ops a new key gets when the request names none."""
    return list(_DEFAULT_KEY_OPS[key_family(kty)])


def ec_coordinate_bytes(curve: ec.EllipticCurve) -> int:
    """Bytes of one coordinate (and of each half of a JWS signature) on ``curve``."""
    return (curve.key_size + 7) // 8


def _pyjwt_jwk(key: _PublicKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """PyJWT's JWK of an RSA or EC key (RFC 7518 integers; EC members at the curve's fixed width)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(key, as_dict=True)
    return ECAlgorithm.to_jwk(key, as_dict=True)


class KeyMaterial:
    """One key version's cryptographic part: an RSA or EC private key object, or the AES key bytes.

    Attributes, tags and key_ops live in the vault layer; this holds only what crypto needs, and never
    shows the secret in its repr.
    """

    __slots__ = ("_crv", "_key", "_public", "kty")

    def __init__(
        self, kty: str, key: _PrivateKey, *, crv: str | None = None, public: Mapping[str, bytes] | None = None
    ) -> None:
        family = key_family(kty)
        expected = {"RSA": rsa.RSAPrivateKey, "EC": ec.EllipticCurvePrivateKey, "oct": bytes}[family]
        if not isinstance(key, expected):
            raise TypeError(f"a {kty} key needs a {expected.__name__}, not {type(key).__name__}")
        self.kty = kty
        self._key = key
        self._crv = crv
        """The curve name as an import spelled it (``SECP256K1``), which the service echoes; None: canonical."""
        self._public = dict(public or {})
        """The public members (n, e; x, y) as an import sent them, which the service echoes byte for byte."""

    def with_kty(self, kty: str) -> KeyMaterial:
        """The same key as another key type of its family (``RSA`` imported as ``RSA-HSM``), as sent."""
        return KeyMaterial(kty, self._key, crv=self._crv, public=self._public)

    def __repr__(self) -> str:
        detail = f"curve={self.curve!r}" if self.curve else f"key_size={self.key_size}"
        return f"KeyMaterial(kty={self.kty!r}, {detail})"

    @property
    def family(self) -> str:
        return key_family(self.kty)

    @property
    def hsm(self) -> bool:
        return self.kty.endswith("-HSM")

    @property
    def key(self) -> _PrivateKey:
        """The private key object (RSA, EC) or the AES key bytes (oct)."""
        return self._key

    @property
    def key_size(self) -> int | None:
        """Bits, for RSA and oct keys (what ``attributes.key_size`` reports); None for EC."""
        if isinstance(self._key, bytes):
            return len(self._key) * 8
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.key_size
        return None

    @property
    def curve(self) -> str | None:
        """The JWK curve name (``P-256`` ...) of an EC key; None otherwise."""
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return _CURVE_BY_OPENSSL_NAME[self._key.curve.name]
        return None

    @property
    def crv(self) -> str | None:
        """The curve as the wire shows it: as the import spelled it (``SECP256K1``), else :attr:`curve`."""
        return self._crv or self.curve

    def public_key(self) -> _PublicKey | None:
        """The public half of an RSA or EC key; None for oct, which has none."""
        if isinstance(self._key, bytes):
            return None
        return self._key.public_key()

    def public_jwk(self, kid: str, key_ops: Sequence[str] | None = None) -> dict[str, Any]:
        """The JWK as GET returns it: public parts only, and no material at all for oct keys."""
        jwk: dict[str, Any] = {
            "kid": kid,
            "kty": self.kty,
            "key_ops": list(key_ops) if key_ops is not None else default_key_ops(self.kty),
        }
        if isinstance(self._key, rsa.RSAPrivateKey):
            public = self._public_members(("n", "e"))
            jwk.update(n=public["n"], e=public["e"])
        elif isinstance(self._key, ec.EllipticCurvePrivateKey):
            public = self._public_members(("x", "y"))
            jwk.update(crv=self.crv, x=public["x"], y=public["y"])
        return jwk

    def _public_members(self, names: tuple[str, str]) -> dict[str, str]:
        """The public members as imported when they were, else PyJWT's canonical encoding."""
        if all(name in self._public for name in names):
            return {name: b64url_encode(self._public[name]) for name in names}
        public = _pyjwt_jwk(self._key.public_key())  # type: ignore[union-attr]  # RSA or EC here
        return {name: public[name] for name in names}

    def private_jwk(self) -> dict[str, str]:
        """Everything needed to rebuild the key (for backup blobs); ``from_jwk`` reads it back."""
        jwk = {"kty": self.kty}
        if isinstance(self._key, bytes):
            jwk["k"] = b64url_encode(self._key)
        elif isinstance(self._key, rsa.RSAPrivateKey):
            private = _pyjwt_jwk(self._key)
            jwk.update({name: private[name] for name in _RSA_PRIVATE_MEMBERS})
            jwk.update(self._public_members(("n", "e")))  # as imported, so that a restored key shows them alike
        else:
            private = _pyjwt_jwk(self._key)
            jwk["crv"] = self.crv or ""
            jwk.update({name: private[name] for name in ("x", "y", "d")})
            jwk.update(self._public_members(("x", "y")))
        return jwk

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> KeyMaterial:
        """Build key material from an ImportKey JWK, which must carry the private parts; extra members
        (kid, key_ops, ...) are ignored. Missing RSA CRT values are computed, as JWK allows."""
        if not isinstance(jwk, Mapping):
            raise BadParameter(INVALID_JWK)
        kty = jwk.get("kty")
        if not isinstance(kty, str) or not kty:
            raise BadParameter(INVALID_JWK)  # presumed: the service cannot read a JWK without its type
        family = key_family(kty)
        if jwk.get("key_hsm") is not None or jwk.get("t") is not None:
            # unverified text
            raise BadParameter(  # the emulator's own: a vault opens a BYOK blob with its KEK (KeyStore.import_key)
                "A BYOK key (key_hsm) is opened by the vault that holds its key exchange key, not read as key material."
            )
        if family == "RSA":
            public = {name: _jwk_bytes(jwk, name, kty, public=True) for name in ("n", "e")}
            return cls(kty, _rsa_from_jwk(jwk, kty), public=public)
        if family == "EC":
            crv = jwk.get("crv")
            public = {name: _jwk_bytes(jwk, name, kty, public=True) for name in ("x", "y")}
            key = _ec_from_jwk(jwk, kty)
            return cls(kty, key, crv=crv if crv != _CURVE_BY_OPENSSL_NAME[key.curve.name] else None, public=public)
        k = _jwk_bytes(jwk, "k", kty, public=True)
        if len(k) * 8 not in OCT_KEY_SIZES:
            # unverified text
            raise BadParameter(f"An {kty} key must be 128, 192 or 256 bits long, not {len(k) * 8} bits.")
        return cls(kty, k)


def _jwk_bytes(jwk: Mapping[str, Any], name: str, kty: str, *, public: bool = False) -> bytes:
    """One member's bytes. A member of the wrong JSON type or not base64url, or a missing member the key type
    needs even in a public JWK (``public``), makes a JWK the service cannot read (presumed, unverified)."""
    value = jwk.get(name)
    if value is None or value == "":
        if public:
            raise BadParameter(INVALID_JWK)
        raise BadParameter(f"The {kty} key is missing the required JWK member '{name}'.")  # unverified text
    if not isinstance(value, str):
        raise BadParameter(INVALID_JWK)
    try:
        return encoding.b64url_decode(value)
    except ValueError:  # binascii.Error included
        raise BadParameter(INVALID_JWK) from None


def _rsa_from_jwk(jwk: Mapping[str, Any], kty: str) -> rsa.RSAPrivateKey:
    """PyJWT builds the key; first the members are checked one by one (for errors that name them) and
    brought to the shape PyJWT takes: strict base64url, and CRT values all present or all absent."""
    members = {name: _jwk_bytes(jwk, name, kty) for name in ("n", "e", "d")}
    try:
        if jwk.get("p") and jwk.get("q"):
            members.update(p=_jwk_bytes(jwk, "p", kty), q=_jwk_bytes(jwk, "q", kty))
            if not all(jwk.get(name) for name in _RSA_CRT_MEMBERS):  # JWK allows them out; PyJWT does not
                d, p, q = (int.from_bytes(members[name], "big") for name in ("d", "p", "q"))
                computed = {"dp": rsa.rsa_crt_dmp1(d, p), "dq": rsa.rsa_crt_dmq1(d, q), "qi": rsa.rsa_crt_iqmp(p, q)}
                for name, value in computed.items():
                    members[name] = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
            for name in _RSA_CRT_MEMBERS:
                if jwk.get(name):
                    members[name] = _jwk_bytes(jwk, name, kty)
        # else: PyJWT recovers p and q from n, e and d, and computes the CRT values
        key = RSAAlgorithm.from_jwk({"kty": "RSA", **{name: b64url_encode(raw) for name, raw in members.items()}})
    except (ValueError, TypeError, InvalidKeyError):
        # Seen from the service for an RSA JWK it could not use (azure-sdk-for-python#28452; medium confidence:
        # the issue does not show which parameter was wrong).
        raise BadParameter("RSA key is not valid - cannot instantiate crypto service") from None
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - "d" is always given
        raise BadParameter("The RSA key is missing its private part.")  # unverified text
    if key.key_size not in RSA_IMPORT_SIZES:
        # unverified text; the service documents 2048, 3072 and 4096-bit RSA keys, and takes 1024-bit imports
        raise BadParameter(f"RSA keys must be 1024, 2048, 3072 or 4096 bits long, not {key.key_size} bits.")
    return key


def _ec_from_jwk(jwk: Mapping[str, Any], kty: str) -> ec.EllipticCurvePrivateKey:
    """PyJWT builds the key from the members at the curve's fixed width (the service also takes them
    with leading zero bytes left out, so they are padded back first)."""
    crv = jwk.get("crv")
    if not isinstance(crv, str) or not crv:
        raise BadParameter(INVALID_JWK)  # presumed: an EC JWK without its curve
    name = _curve_name(crv)
    width = ec_coordinate_bytes(_CURVE_CLASSES[name]())
    coordinates = {member: _jwk_bytes(jwk, member, kty) for member in ("x", "y", "d")}
    for member, raw in coordinates.items():
        if len(raw) > width:
            # unverified text
            raise BadParameter(f"The JWK member '{member}' is {len(raw)} bytes; curve {crv} needs at most {width}.")
    padded = {member: b64url_encode(raw.rjust(width, b"\0")) for member, raw in coordinates.items()}
    try:
        key = ECAlgorithm.from_jwk({"kty": "EC", "crv": _PYJWT_CURVE_NAMES.get(name, name), **padded})
    except (ValueError, InvalidKeyError):
        key = None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise BadParameter(f"The EC key parameters are not a valid private key on curve {crv}.")  # unverified
    return key


def _curve_name(crv: str) -> str:
    name = _CURVE_ALIASES.get(crv, crv)
    if name not in _CURVE_CLASSES:
        raise BadParameter(f"The curve (crv) '{crv}' is not valid; valid curves are {', '.join(CURVES)}.")  # unverified
    return name


def _plain_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RsaRequestRefused(name, f"The '{name}' parameter must be an integer.")  # unverified text
    return value


RsaGenerator: TypeAlias = Callable[[int, int], rsa.RSAPrivateKey]
"""Makes an RSA private key from (size in bits, public exponent); a pool can stand in for inline generation."""


def _generate_rsa(size: int, exponent: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=exponent, key_size=size)


def _generate_rsa_any_exponent(size: int, exponent: int) -> rsa.RSAPrivateKey:
    """An RSA key with another odd public exponent, as a Managed HSM makes them: ``cryptography`` only
    generates e = 3 or 65537, so pycryptodome finds the primes and ``cryptography`` holds the key."""
    from Crypto.PublicKey import RSA  # imported on first use: most runs never need it

    made = RSA.generate(size, e=exponent)
    p, q, d = int(made.p), int(made.q), int(made.d)
    crt = (rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q))
    return rsa.RSAPrivateNumbers(p, q, d, *crt, rsa.RSAPublicNumbers(exponent, int(made.n))).private_key()


class RsaRequestRefused(BadParameter):
    """CreateKey's refusal of a key request; ``field`` (``key_size``, ``public_exponent``) lets a seed file name it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_rsa_request(
    kty: str, *, size: object = None, public_exponent: object = None, managed_hsm: bool
) -> tuple[int, int] | None:
    """The one RSA request rule, CreateKey's and the seed loader's: (bits, exponent) the key is made with, None
    for a key of another family, or :class:`RsaRequestRefused`. A vault ignores ``public_exponent`` (e is always
    65537; azure-sdk-for-go#19624, and the spec says it applies to Managed HSM only); a Managed HSM makes the
    key with any odd exponent asked for."""
    family = key_family(kty)
    if public_exponent is not None and family != "RSA":
        raise RsaRequestRefused(  # unverified text
            "public_exponent", f"The public_exponent parameter is only valid for RSA keys, not {kty}."
        )
    if family != "RSA":
        return None
    bits = RSA_KEY_SIZES[0] if size is None else _plain_int(size, "key_size")
    if not managed_hsm:
        public_exponent = None
    exponent = 65537 if public_exponent is None else _plain_int(public_exponent, "public_exponent")
    if bits not in RSA_KEY_SIZES:
        # unverified text
        raise RsaRequestRefused("key_size", f"The key_size {bits} is not valid for {kty} keys; use 2048, 3072 or 4096.")
    if exponent % 2 == 0 or not 3 <= exponent <= MAX_PUBLIC_EXPONENT:
        raise RsaRequestRefused(  # unverified text
            "public_exponent",
            f"The public_exponent {exponent} is not supported; use an odd number from 3 to {MAX_PUBLIC_EXPONENT}.",
        )
    return bits, exponent


def generate_key(
    kty: str,
    *,
    size: int | None = None,
    curve: str | None = None,
    public_exponent: int | None = None,
    managed_hsm: bool = True,
    rsa_generator: RsaGenerator | None = None,
) -> KeyMaterial:
    """A new key as CreateKey makes it: RSA 2048/e=65537, EC P-256 and oct 256 bits by default.

    ``managed_hsm=False`` is a vault's CreateKey, which ignores ``public_exponent``."""
    family = key_family(kty)
    if curve is not None and family != "EC":
        raise BadParameter(f"The curve (crv) parameter is only valid for EC keys, not {kty}.")  # unverified text
    rsa_request = check_rsa_request(kty, size=size, public_exponent=public_exponent, managed_hsm=managed_hsm)
    if rsa_request is not None:
        bits, exponent = rsa_request
        if exponent not in (3, 65537):  # all that `cryptography` (and so a pool) makes
            return KeyMaterial(kty, _generate_rsa_any_exponent(bits, exponent))
        return KeyMaterial(kty, (rsa_generator or _generate_rsa)(bits, exponent))
    if family == "EC":
        if size is not None:
            # unverified text
            raise BadParameter(f"The key_size parameter is not valid for {kty} keys; choose the curve with crv.")
        return KeyMaterial(kty, ec.generate_private_key(_CURVE_CLASSES[_curve_name(curve or "P-256")]()))
    bits = OCT_KEY_SIZES[-1] if size is None else _plain_int(size, "key_size")
    if bits not in OCT_KEY_SIZES:
        # recorded on a Managed HSM, which appends " (Activity ID: …)" (Java SDK createOctKeyWithInvalidSize, 2023-09)
        raise BadParameter(f"Invalid key size: '{bits}'")
    return KeyMaterial(kty, os.urandom(bits // 8))
