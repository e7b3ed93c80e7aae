"""Check a whole seed document and turn it into typed specs, before anything is applied.

Every problem is collected with where it is (``vaults.billing.secrets.db-password.expires``) and what is
wrong, so a bad file fails at start with all its mistakes named and no vault half-seeded. Key material
and certificate files are parsed here too: what reaches :func:`kv_emulator.seed.apply` is known good.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import functools
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .api.certificate_policy_wire import policy_from_wire
from .config import Settings
from .errors import KeyVaultError
from .hosts import VaultAddress, parse_name_or_url
from .objects import certificate_crypto as certs
from .objects import key_material
from .objects.keys import KEY_OPERATIONS
from .objects.versioned import MAX_TAG_LENGTH, MAX_TAGS, validate_name

__all__ = [
    "VAULT_SETTINGS",
    "CertificateSpec",
    "KeySpec",
    "Problems",
    "SecretSpec",
    "VaultSpec",
    "read_vaults",
]

#: The settings a seed file may give one vault (its Azure Resource Manager properties).
VAULT_SETTINGS = (
    "enable_soft_delete",
    "soft_delete_retention_in_days",
    "enable_purge_protection",
    "sku",
    "enable_rbac_authorization",
)
_COMMON = ("tags", "enabled", "not_before", "expires")
_SECRET_FIELDS = ("value", "content_type", *_COMMON)
_KEY_FIELDS = ("type", "size", "curve", "public_exponent", "operations", "jwk", "pem", "password", *_COMMON)
_CERTIFICATE_FIELDS = ("policy", "subject", "pem", "pfx", "password", "tags", "enabled")
_VAULT_FIELDS = ("url", "settings", "secrets", "keys", "certificates")


class Problems:
    """The mistakes found so far, each as ``path: what is wrong``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(f"{path}: {message}")


@dataclasses.dataclass(frozen=True)
class SecretSpec:
    name: str
    value: str
    content_type: str | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    enabled: bool = True
    not_before: int | None = None
    expires: int | None = None


@dataclasses.dataclass(frozen=True)
class KeySpec:
    name: str
    kty: str
    size: int | None = None
    curve: str | None = None
    public_exponent: int | None = None
    operations: tuple[str, ...] | None = None
    material: key_material.KeyMaterial | None = None
    """Key material to import; None means "generate one of ``kty``/``size``/``curve``"."""
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    enabled: bool = True
    not_before: int | None = None
    expires: int | None = None


@dataclasses.dataclass(frozen=True)
class CertificateSpec:
    name: str
    policy: dict[str, Any] | None = None
    content: bytes | str | None = None
    """PFX bytes or PEM text to import; None means "issue from ``policy``"."""
    password: str | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    enabled: bool = True


@dataclasses.dataclass(frozen=True)
class VaultSpec:
    key: str
    """The vault's name in the document (``vaults.<key>``)."""
    address: VaultAddress
    settings: dict[str, Any]
    secrets: tuple[SecretSpec, ...] = ()
    keys: tuple[KeySpec, ...] = ()
    certificates: tuple[CertificateSpec, ...] = ()


def read_vaults(document: Any, problems: Problems) -> tuple[VaultSpec, ...]:
    if not isinstance(document, Mapping):
        problems.add("(document)", "expected a table/object at the top level")
        return ()
    _unknown(document, ("version", "vaults"), "", problems)
    if document.get("version", 1) != 1:
        problems.add("version", f"only version 1 is understood, not {document.get('version')!r}")
    vaults = document.get("vaults", {})
    if not isinstance(vaults, Mapping):
        problems.add("vaults", "expected a table of vaults by name")
        return ()
    specs = []
    for key, body in vaults.items():
        spec = _vault(str(key), body, f"vaults.{key}", problems)
        if spec is not None:
            specs.append(spec)
    return tuple(specs)


def _vault(key: str, body: Any, path: str, problems: Problems) -> VaultSpec | None:
    if not isinstance(body, Mapping):
        problems.add(path, "expected a table with url, settings, secrets, keys, certificates")
        return None
    _unknown(body, _VAULT_FIELDS, path, problems)
    url = body.get("url", key)
    try:
        address = parse_name_or_url(str(url))
        if "://" not in str(url):
            Settings.from_options(vault_name=address.name)  # the name rules
    except (TypeError, ValueError) as exc:
        problems.add(f"{path}.url" if "url" in body else path, str(exc))
        return None
    settings = body.get("settings", {})
    if not isinstance(settings, Mapping):
        problems.add(f"{path}.settings", "expected a table of vault settings")
        settings = {}
    for name in settings:
        if name not in VAULT_SETTINGS:
            problems.add(
                f"{path}.settings.{name}", f"unknown vault setting; vault settings are: {', '.join(VAULT_SETTINGS)}"
            )
    known = {name: value for name, value in settings.items() if name in VAULT_SETTINGS}
    try:
        Settings.from_options(known)
    except (TypeError, ValueError) as exc:
        problems.add(f"{path}.settings", str(exc))
    return VaultSpec(
        key,
        address,
        dict(known),
        tuple(_each(body, "secrets", path, problems, _secret)),
        tuple(_each(body, "keys", path, problems, functools.partial(_key, managed_hsm=address.managed_hsm))),
        tuple(_each(body, "certificates", path, problems, _certificate)),
    )


def _each(body: Mapping[str, Any], kind: str, path: str, problems: Problems, read: Any) -> list[Any]:
    section = body.get(kind, {})
    if not isinstance(section, Mapping):
        problems.add(f"{path}.{kind}", f"expected a table of {kind} by name")
        return []
    specs = []
    for name, item in section.items():
        item_path = f"{path}.{kind}.{name}"
        try:
            validate_name(kind, str(name))
        except KeyVaultError:
            problems.add(item_path, f"invalid name {name!r}: 1-127 letters, digits and hyphens")
            continue
        spec = read(str(name), item, item_path, problems)
        if spec is not None:
            specs.append(spec)
    return specs


# -- secrets ---------------------------------------------------------------------------------------------


def _secret(name: str, body: Any, path: str, problems: Problems) -> SecretSpec | None:
    if isinstance(body, str):  # shorthand: name = "value"
        body = {"value": body}
    if not isinstance(body, Mapping):
        problems.add(path, "expected a string (the value) or a table with value, content_type, tags, ...")
        return None
    _unknown(body, _SECRET_FIELDS, path, problems)
    value = body.get("value")
    if not isinstance(value, str):
        problems.add(f"{path}.value", "required, a string")
        return None
    content_type = _optional_str(body, "content_type", path, problems)
    return SecretSpec(name, value, content_type, **_common(body, path, problems))


# -- keys ------------------------------------------------------------------------------------------------


def _key(name: str, body: Any, path: str, problems: Problems, *, managed_hsm: bool = False) -> KeySpec | None:
    if not isinstance(body, Mapping):
        problems.add(path, "expected a table with type and size or curve, or jwk or pem to import")
        return None
    _unknown(body, _KEY_FIELDS, path, problems)
    common = _common(body, path, problems)
    operations = body.get("operations")
    if operations is not None:
        if not isinstance(operations, list) or not all(isinstance(op, str) for op in operations):
            problems.add(f"{path}.operations", "expected a list of operation names")
            operations = None
        else:
            for op in operations:
                if op not in KEY_OPERATIONS:
                    problems.add(f"{path}.operations", f"unknown operation {op!r}; one of {', '.join(KEY_OPERATIONS)}")
            operations = tuple(operations)
    if "jwk" in body or "pem" in body:
        material = _key_material(body, path, problems)
        if material is None:
            return None
        return KeySpec(name, material.kty, operations=operations, material=material, **common)
    kty = body.get("type", "RSA")
    if kty not in key_material.KEY_TYPES:
        problems.add(f"{path}.type", f"unknown key type {kty!r}; one of {', '.join(key_material.KEY_TYPES)}")
        return None
    family = key_material.key_family(kty)
    size, curve, exponent = body.get("size"), body.get("curve"), body.get("public_exponent")
    _check_rsa(kty, size, exponent, managed_hsm, path, problems)
    if family == "oct" and size is not None and size not in key_material.OCT_KEY_SIZES:
        problems.add(
            f"{path}.size", f"an oct key is {', '.join(map(str, key_material.OCT_KEY_SIZES))} bits, not {size!r}"
        )
    if family == "EC" and size is not None:
        problems.add(f"{path}.size", "an EC key has a curve, not a size")
    if curve is not None and (family != "EC" or curve not in key_material.CURVES):
        problems.add(f"{path}.curve", f"a curve is for EC keys: one of {', '.join(key_material.CURVES)}")
    return KeySpec(name, kty, size, curve, exponent, operations, **common)


def _check_rsa(kty: str, size: Any, exponent: Any, managed_hsm: bool, path: str, problems: Problems) -> None:
    """CreateKey's own rule on this host, so a seed file accepts and refuses what CreateKey does."""
    made = f"{kty}-HSM" if managed_hsm and not kty.endswith("-HSM") else kty  # as a Managed HSM makes it
    try:
        key_material.check_rsa_request(made, size=size, public_exponent=exponent, managed_hsm=managed_hsm)
    except key_material.RsaRequestRefused as exc:
        problems.add(f"{path}.{'size' if exc.field == 'key_size' else exc.field}", exc.message)


def _key_material(body: Mapping[str, Any], path: str, problems: Problems) -> key_material.KeyMaterial | None:
    if "jwk" in body and "pem" in body:
        problems.add(path, "give jwk or pem, not both")
        return None
    hsm = str(body.get("type", "")).endswith("-HSM")
    if "jwk" in body:
        jwk = body["jwk"]
        try:
            material = key_material.KeyMaterial.from_jwk(jwk)
        except (KeyVaultError, ValueError, TypeError) as exc:
            problems.add(f"{path}.jwk", f"not a private JSON Web Key: {exc}")
            return None
    else:
        pem, password = body["pem"], body.get("password")
        if not isinstance(pem, str) or (password is not None and not isinstance(password, str)):
            problems.add(f"{path}.pem", "expected PEM text (and an optional password string)")
            return None
        try:
            key = serialization.load_pem_private_key(pem.encode(), password.encode() if password else None)
        except (ValueError, TypeError) as exc:
            problems.add(f"{path}.pem", f"not a PEM private key: {exc}")
            return None
        if isinstance(key, rsa.RSAPrivateKey):
            material = key_material.KeyMaterial("RSA", key)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            material = key_material.KeyMaterial("EC", key)
        else:
            problems.add(f"{path}.pem", "only RSA and EC private keys can be imported")
            return None
    if hsm and not material.hsm:
        material = key_material.KeyMaterial(f"{material.family}-HSM", material.key)
    return material


# -- certificates ----------------------------------------------------------------------------------------


def _certificate(name: str, body: Any, path: str, problems: Problems) -> CertificateSpec | None:
    if not isinstance(body, Mapping):
        problems.add(path, "expected a table with policy (or subject) to issue, or pem or pfx to import")
        return None
    _unknown(body, _CERTIFICATE_FIELDS, path, problems)
    common = _common(body, path, problems)
    common.pop("not_before"), common.pop("expires")
    password = _optional_str(body, "password", path, problems)
    policy = body.get("policy")
    if policy is not None and not isinstance(policy, Mapping):
        problems.add(f"{path}.policy", "expected a certificate policy table (the REST API's policy shape)")
        return None
    if policy is None and "subject" in body:
        policy = {"issuer": {"name": "Self"}, "x509_props": {"subject": body["subject"]}}
    if policy is not None:
        try:
            policy_from_wire(_plain(policy)).complete()
        except KeyVaultError as exc:
            problems.add(f"{path}.policy", f"not a valid certificate policy: {exc}")
    content: bytes | str | None = None
    if "pem" in body and "pfx" in body:
        problems.add(path, "give pem or pfx, not both")
        return None
    if "pem" in body:
        content = body["pem"]
        if not isinstance(content, str):
            problems.add(f"{path}.pem", "expected PEM text (private key and certificates)")
            return None
    elif "pfx" in body:
        try:
            content = base64.b64decode(str(body["pfx"]), validate=True)
        except (binascii.Error, ValueError):
            problems.add(f"{path}.pfx", "expected the PFX file as base64 text")
            return None
    if content is not None:
        try:
            if isinstance(content, str):
                certs.load_pem_bundle(content, password)
            else:
                certs.load_pfx(content, password)
        except (KeyVaultError, ValueError, TypeError) as exc:
            field = "pem" if isinstance(content, str) else "pfx"
            problems.add(f"{path}.{field}", f"cannot read the certificate and its private key: {exc}")
            return None
    elif policy is None:
        problems.add(path, "give policy (or subject) to issue a certificate, or pem or pfx to import one")
        return None
    return CertificateSpec(name, _plain(policy) if policy is not None else None, content, password, **common)


# -- shared ----------------------------------------------------------------------------------------------


def _unknown(body: Mapping[str, Any], allowed: tuple[str, ...], path: str, problems: Problems) -> None:
    for field in body:
        if field not in allowed:
            where = f"{path}.{field}" if path else str(field)
            problems.add(where, f"unknown field; expected one of {', '.join(allowed)}")


def _optional_str(body: Mapping[str, Any], field: str, path: str, problems: Problems) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        problems.add(f"{path}.{field}", "expected a string")
        return None
    return value


def _common(body: Mapping[str, Any], path: str, problems: Problems) -> dict[str, Any]:
    tags = body.get("tags", {})
    if not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values()):
        problems.add(f"{path}.tags", "expected a table of string values")
        tags = {}
    elif len(tags) > MAX_TAGS or any(len(str(k)) > MAX_TAG_LENGTH or len(v) > MAX_TAG_LENGTH for k, v in tags.items()):
        problems.add(f"{path}.tags", f"at most {MAX_TAGS} tags, names and values up to {MAX_TAG_LENGTH} characters")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.add(f"{path}.enabled", "expected true or false")
        enabled = True
    times = {field: _time(body.get(field), f"{path}.{field}", problems) for field in ("not_before", "expires")}
    if times["not_before"] is not None and times["expires"] is not None and times["expires"] <= times["not_before"]:
        problems.add(f"{path}.expires", "must be later than not_before")
    return {"tags": {str(k): v for k, v in tags.items()}, "enabled": enabled, **times}


def _time(value: Any, path: str, problems: Problems) -> int | None:
    """Unix seconds from a TOML date-time, ISO 8601 text (``2027-01-01T00:00:00Z``) or a number."""
    if value is None:
        return None
    if isinstance(value, bool):
        problems.add(path, "expected a date-time (2027-01-01T00:00:00Z) or Unix seconds")
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.add(path, f"not a date-time: {value!r} (expected e.g. 2027-01-01T00:00:00Z)")
            return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return int(value.timestamp())
    if isinstance(value, datetime.date):
        return int(datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc).timestamp())
    problems.add(path, "expected a date-time (2027-01-01T00:00:00Z) or Unix seconds")
    return None


def _plain(value: Any) -> Any:
    """TOML tables as plain dicts and lists (what the policy reader expects)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
