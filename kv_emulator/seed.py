"""Seed files: vaults with their settings, secrets, keys and certificates, as one JSON or TOML document.

``load_seed(path_or_mapping)`` reads and checks a whole document (:mod:`kv_emulator.seed_validate`),
``apply(emulator, doc)`` puts it into an emulator, ``dump(emulator)`` writes an emulator's vaults back in
the same format. The pytest plugin (``kv_seed``), ``emulate(seed=...)``, ``Emulator.load``/``dump`` and
the server all use these three. The format is described in docs/seed-files.md.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives import serialization

from .api.certificate_policy_wire import policy_to_wire
from .errors import KeyVaultError
from .hosts import VaultAddress
from .objects import certificate_crypto as certs
from .objects.key_material import KeyMaterial
from .seed_validate import VAULT_SETTINGS, Problems, VaultSpec, read_vaults
from .state import StateError, export_state, import_state, is_state, upgrade

if TYPE_CHECKING:
    from .config import Settings
    from .objects.vault import Vault

__all__ = ["SeedDocument", "SeedError", "apply", "dump", "dump_to", "load_seed"]


class Emulator(Protocol):
    """What a seed is applied to and dumped from: a :class:`kv_emulator.Emulator` (or a server's)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def vaults(self) -> list[Vault]: ...

    def create_vault(self, name_or_url: str, settings: Settings | None = None) -> Vault: ...


class SeedError(ValueError):
    """A seed file that cannot be applied: names the file, the path inside it and what is wrong."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"kv-emulator seed {source}: {len(problems)} problem(s):\n{lines}")


@dataclasses.dataclass(frozen=True)
class SeedDocument:
    """A checked seed document: nothing in it can fail to parse when applied."""

    source: str
    vaults: tuple[VaultSpec, ...]
    generated: dict[str, KeyMaterial] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """Key material generated for the document's keys, by path: made at the first apply, imported by the
    next ones, so every emulator seeded from one document (a fixture per test) has the same keys, cheaply."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, compare=False, repr=False)
    state: dict[str, Any] | None = dataclasses.field(default=None, compare=False, repr=False)
    """A whole state document (``format``: docs/state.md) rather than a seed: applying it replaces the state."""


def load_seed(path_or_mapping: str | Path | Mapping[str, Any], *, source: str | None = None) -> SeedDocument:
    """Read (a ``.json`` or ``.toml`` file, or an already parsed mapping) and check the whole document."""
    if isinstance(path_or_mapping, Mapping):
        document: Any = path_or_mapping
        source = source or "(mapping)"
    else:
        path = Path(path_or_mapping)
        source = source or str(path)
        document = _read(path, source)
    if is_state(document):  # a dump (Emulator.dump(full=True), GET /_kv/state?full=true, kv-emulator export)
        try:
            return SeedDocument(source, (), state=upgrade(document, source=source))
        except StateError as exc:
            raise SeedError(source, [f"(state): {exc}"]) from None
    problems = Problems()
    vaults = read_vaults(document, problems)
    if problems.items:
        raise SeedError(source, problems.items)
    return SeedDocument(source, vaults)


def _read(path: Path, source: str) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SeedError(source, [f"(file): cannot read: {exc.strerror or exc}"]) from None
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise SeedError(source, ["(file): a seed file is .json or .toml"])
    try:
        if suffix == ".json":
            return json.loads(data)
        return tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SeedError(source, [f"(file): not valid {suffix[1:].upper()}: {exc}"]) from None


def apply(emulator: Emulator, doc: SeedDocument) -> None:
    """Create the document's vaults and objects in ``emulator``; a refusal is reported with its path.

    Vault settings are checked against the emulator's for every vault before the first object is made.
    """
    if doc.state is not None:
        try:
            import_state(emulator, doc.state, source=doc.source)
        except (KeyVaultError, ValueError, TypeError, KeyError) as exc:
            raise SeedError(doc.source, [f"(state): cannot be loaded: {exc!r}"]) from exc
        return
    planned: list[tuple[VaultSpec, Any]] = []
    problems = Problems()
    for spec in doc.vaults:
        try:
            settings = emulator.settings.replace(**spec.settings) if spec.settings else emulator.settings
        except (TypeError, ValueError) as exc:
            problems.add(f"vaults.{spec.key}.settings", str(exc))
            continue
        existing = {vault.url: vault for vault in emulator.vaults}.get(spec.address.url)
        if existing is not None and spec.settings and existing.settings != settings:
            problems.add(f"vaults.{spec.key}.settings", "the vault exists already; settings apply to a new vault")
        _check_kinds(spec, settings, problems)
        planned.append((spec, settings))
    if problems.items:
        raise SeedError(doc.source, problems.items)
    with doc.lock:
        for spec, settings in planned:
            _apply_vault(emulator.create_vault(spec.address.url, settings), spec, doc)


def _check_kinds(spec: VaultSpec, settings: Any, problems: Problems) -> None:
    hsm = spec.address.managed_hsm
    for key in spec.keys:
        path = f"vaults.{spec.key}.keys.{key.name}"
        if key.kty.startswith("oct") and not hsm:
            problems.add(path, "oct (symmetric) keys exist only in a Managed HSM")
        if key.kty.endswith("-HSM") and not hsm and settings.sku != "premium":
            problems.add(path, "HSM keys need a premium vault (settings.sku = 'premium')")
    taken = {secret.name.lower() for secret in spec.secrets} | {key.name.lower() for key in spec.keys}
    for certificate in spec.certificates:
        if certificate.name.lower() in taken:
            path = f"vaults.{spec.key}.certificates.{certificate.name}"
            problems.add(path, "a certificate's key and secret share its name; a key or secret has it already")
    if hsm and (spec.secrets or spec.certificates):
        problems.add(f"vaults.{spec.key}", "a Managed HSM holds keys only")


def _apply_vault(vault: Vault, spec: VaultSpec, doc: SeedDocument) -> None:
    base, source = f"vaults.{spec.key}", doc.source
    for secret in spec.secrets:
        with _refusal(source, f"{base}.secrets.{secret.name}"):
            vault.secrets.set(
                secret.name,
                secret.value,
                content_type=secret.content_type,
                enabled=secret.enabled,
                not_before=secret.not_before,
                expires=secret.expires,
                tags=secret.tags,
            )
    for key in spec.keys:
        common: dict[str, Any] = {
            "enabled": key.enabled,
            "not_before": key.not_before,
            "expires": key.expires,
            "tags": key.tags,
        }
        ops = list(key.operations) if key.operations is not None else None
        path = f"{base}.keys.{key.name}"
        with _refusal(source, path):
            material = key.material or doc.generated.get(path)
            if material is not None:
                vault.keys.import_key(key.name, material, hsm=material.hsm, key_ops=ops, **common)
            else:
                made = vault.keys.create(
                    key.name, key.kty, size=key.size, curve=key.curve, public_exponent=key.public_exponent,
                    key_ops=ops, **common,
                )  # fmt: skip
                doc.generated[path] = made.payload.material
    for certificate in spec.certificates:
        with _refusal(source, f"{base}.certificates.{certificate.name}"):
            if certificate.content is not None:
                vault.certificates.import_certificate(
                    certificate.name,
                    certificate.content,
                    password=certificate.password,
                    policy=certificate.policy,
                    enabled=certificate.enabled,
                    tags=certificate.tags,
                )
            else:
                vault.certificates.create(
                    certificate.name, certificate.policy, enabled=certificate.enabled, tags=certificate.tags
                )


class _refusal:
    """Turn a model's refusal into a SeedError naming the object's path."""

    def __init__(self, source: str, path: str) -> None:
        self.source, self.path = source, path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, (KeyVaultError, ValueError, TypeError)):
            raise SeedError(self.source, [f"{self.path}: {exc}"]) from exc


# -- dump ------------------------------------------------------------------------------------------------


def dump(emulator: Emulator) -> dict[str, Any]:
    """The emulator's vaults as a seed document: the current version of every live object.

    Older versions, deleted objects, rotation policies and the journal are not part of a seed.
    """
    vaults: dict[str, Any] = {}
    for vault in emulator.vaults:
        body: dict[str, Any] = {}
        if vault.url != VaultAddress(vault.name).url:
            body["url"] = vault.url
        settings = {name: getattr(vault.settings, name) for name in VAULT_SETTINGS}
        body["settings"] = {name: value for name, value in settings.items() if value is not None}
        secrets = _dump_secrets(vault)
        keys = _dump_keys(vault)
        certificates = _dump_certificates(vault)
        for kind, items in (("secrets", secrets), ("keys", keys), ("certificates", certificates)):
            if items:
                body[kind] = items
        vaults[vault.name if vault.name not in vaults else vault.url] = body
    return {"version": 1, "vaults": vaults}


def dump_to(emulator: Emulator, path: str | Path, *, full: bool = False) -> None:
    """Write :func:`dump` to ``path``: JSON for ``.json``, TOML for ``.toml``; ``full``: the whole state
    (:func:`kv_emulator.state.export_state`), which is JSON only (TOML has no null)."""
    path = Path(path)
    document = export_state(emulator) if full else dump(emulator)
    if full and path.suffix.lower() != ".json":
        raise ValueError(f"a state file is .json, not {path.name!r}")
    if path.suffix.lower() == ".toml":
        import tomli_w

        path.write_text(tomli_w.dumps(document), encoding="utf-8")
    elif path.suffix.lower() == ".json":
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    else:
        raise ValueError(f"a seed file is .json or .toml, not {path.name!r}")


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _common(version: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version.tags:
        out["tags"] = dict(version.tags)
    if not version.attributes.enabled:
        out["enabled"] = False
    for field in ("not_before", "expires"):
        value = _iso(getattr(version.attributes, field))
        if value is not None:
            out[field] = value
    return out


def _dump_secrets(vault: Vault) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for obj in vault.secrets.list():
        if obj.managed:
            continue  # the secret behind a certificate comes back with the certificate
        latest = obj.latest
        body: dict[str, Any] = {"value": latest.payload.value}
        if latest.payload.content_type is not None:
            body["content_type"] = latest.payload.content_type
        body.update(_common(latest))
        out[obj.name] = body
    return out


def _dump_keys(vault: Vault) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for obj in vault.keys.list():
        if obj.managed:
            continue
        latest = obj.latest
        body: dict[str, Any] = {"type": latest.payload.material.kty, "operations": list(latest.payload.key_ops)}
        body["jwk"] = latest.payload.material.private_jwk()
        body.update(_common(latest))
        out[obj.name] = body
    return out


def _dump_certificates(vault: Vault) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for obj in vault.certificates.list_certificates():
        # The certificate's secret holds its PFX (base64) or PEM with the private key. Written as PEM, which is
        # stable from dump to dump (a PFX is salted anew each time); the policy keeps the content type.
        secret = vault.secrets.get(obj.name)
        if secret.payload.content_type == certs.PEM:
            body: dict[str, Any] = {"pem": secret.payload.value}
        else:
            key, chain = certs.load_pfx(base64.b64decode(secret.payload.value), None)
            body = {"pem": _pem(key, chain)}
        policy = vault.certificates.policy_of(obj.name)
        if policy is not None:
            wire = policy_to_wire(policy, "")
            for field in ("id", "attributes"):
                wire.pop(field, None)
            body["policy"] = _without_none(wire)
        if obj.tags:
            body["tags"] = dict(obj.tags)
        if not obj.attributes.enabled:
            body["enabled"] = False
        out[obj.name] = body
    return out


def _pem(key: Any, chain: list[Any]) -> str:
    text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return text + "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)


def _without_none(value: Any) -> Any:
    """TOML has no null: drop the policy's unset fields (the reader treats missing and null alike)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
