"""Emulator settings: one frozen dataclass, validated once.

The names are the vault properties users know from Azure Resource Manager (``enable_soft_delete``,
``soft_delete_retention_in_days``, ``enable_purge_protection``, ``sku``) plus emulator switches. The
pytest marker, the command line, ``pytest.ini`` and :func:`kv_emulator.emulate` all take these names.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "DEFAULT_SUBSCRIPTION_ID",
    "DEFAULT_TENANT_ID",
    "DEFAULT_VAULT_NAME",
    "RETRY_AFTER_HEADERS",
    "SETTING_HELP",
    "TRANSACTION_CLASSES",
    "Settings",
    "format_words",
]

#: The tenant named in the challenge when ``AZURE_TENANT_ID`` is not set. A fixed, obviously fake GUID.
DEFAULT_TENANT_ID = "5a1e7e57-0000-4000-8000-000000000000"
#: The one subscription Azure Resource Manager shows (the same fake id the data plane's resource ids use).
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-0000-0000-00000000c0de"
#: The vault behind ``vault_url`` unless ``vault_name`` says otherwise.
DEFAULT_VAULT_NAME = "kv-emulator"

#: Key Vault's throttling transaction classes -> documented limit per vault per 10 seconds
#: (research/protocol.md §6); the throttling step of the pipeline counts against these.
TRANSACTION_CLASSES: dict[str, int] = {
    "key-software-create": 20,
    "key-software-other": 4000,
    "key-hsm-create": 10,
    "key-hsm-other": 2000,
    "secret-create": 300,
    "vault-other": 4000,
}
#: The headers a 429 may carry its wait in (``throttle_retry_after_header``).
RETRY_AFTER_HEADERS = ("Retry-After", "retry-after-ms", "x-ms-retry-after-ms")

_VAULT_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
_SKUS = ("standard", "premium")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: What each setting does, in a line (the command line's help; docs/pytest-plugin.md has the long form).
SETTING_HELP: dict[str, str] = {
    "enable_soft_delete": "a deleted object stays recoverable until its purge date; off: a delete is final",
    "soft_delete_retention_in_days": "days a deleted object stays recoverable, 7 to 90",
    "enable_purge_protection": "refuse purges while an object is deleted (needs soft delete)",
    "sku": "the vaults' tier: standard (refuses -HSM keys) or premium",
    "strict_api_version": "refuse an api-version newer than the newest known, as the service does",
    "strict_hosts": "only declared vaults answer (the default vault, --vaults); others get 404 VaultNotFound",
    "vaults": "more vaults to declare at start: names or URLs (a Managed HSM by its URL)",
    "vault_name": "the default vault's name: 3-24 letters, digits and hyphens, starting with a letter",
    "tenant_id": "the tenant named in the 401 challenge and in issued tokens",
    "location": "the region in the x-ms-keyvault-region header and in ARM",
    "throttling": "enforce Key Vault's service limits (per vault, per class, per 10 s) with its 429",
    "throttle_scale": "multiply every documented limit by this: above 0, at most 1000 (0.001 = reachable quickly)",
    "throttle_limits": "limits for single transaction classes, per 10 s",
    "throttle_retry_after": "seconds a throttling 429 advertises; none: no header, as the service",
    "throttle_retry_after_header": "the header carrying that wait",
    "virtual_time": "retry and polling sleeps and injected latency advance the clock instead of waiting",
    "emulate_identity": "answer Entra ID, IMDS and the App Service identity endpoint",
    "emulate_management": "answer Azure Resource Manager (management.azure.com)",
    "emulate_cli": "put fake az and azd first on PATH while it runs (in-process only)",
    "strict_auth": "check each token's signature, audience, issuer and lifetime; off: any bearer token passes",
    "enable_rbac_authorization": "the permission model: true = Azure RBAC, false = access policies, none = no checks",
    "certificate_pending_polls": "polls a new certificate's operation answers inProgress before it completes",
    "certificate_issuance_time": (
        "seconds of the emulator's clock a self-issued certificate takes to issue, 0 to 86400; 0 issues at once"
    ),
    "subscription_id": "the one subscription ARM shows",
    "subscription_name": "that subscription's display name",
    "client_ip": "who an in-process caller is for vault firewalls (a server uses the socket's address)",
    "arm_pending_polls": "polls an ARM long-running operation answers 'still running' before it is done",
}
_FORMATS: dict[Any, str] = {
    bool: "true or false",
    bool | None: "true, false or none",
    int: "a whole number",
    float: "a number",
    float | None: "a number of seconds, or none",
    str: "text",
    tuple[str, ...]: "names separated by commas",
    dict[str, int]: "CLASS=N pairs separated by commas, e.g. secret-create=3,vault-other=100 (classes: "
    + ", ".join(TRANSACTION_CLASSES)
    + ")",
}
_CHOICES = {"sku": _SKUS, "throttle_retry_after_header": RETRY_AFTER_HEADERS}


def format_words(name: str) -> str:
    """How a setting is written in a flag, an environment variable or ini text, in words."""
    if name in _CHOICES:
        return "one of " + ", ".join(_CHOICES[name])
    if name in ("tenant_id", "subscription_id"):
        return "a GUID"
    if name == "client_ip":
        return "an IP address, or empty"
    return _FORMATS[_field_types()[name]]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that shapes an emulator's behaviour. Build with :meth:`from_options`."""

    enable_soft_delete: bool = True
    soft_delete_retention_in_days: int = 90
    enable_purge_protection: bool = False
    sku: str = "premium"
    strict_api_version: bool = False
    strict_hosts: bool = False
    vaults: tuple[str, ...] = ()
    vault_name: str = DEFAULT_VAULT_NAME
    tenant_id: str = dataclasses.field(default_factory=lambda: os.environ.get("AZURE_TENANT_ID") or DEFAULT_TENANT_ID)
    location: str = "westus"
    throttling: bool = False
    throttle_scale: float = 1.0
    throttle_limits: dict[str, int] = dataclasses.field(default_factory=dict)
    throttle_retry_after: float | None = None
    throttle_retry_after_header: str = "Retry-After"
    virtual_time: bool = False
    emulate_identity: bool = True
    emulate_management: bool = True
    emulate_cli: bool = False
    strict_auth: bool = False
    enable_rbac_authorization: bool | None = None
    certificate_pending_polls: int = 0
    certificate_issuance_time: int = 2
    """Seconds of emulator time a ``Self`` or named-issuer certificate takes to issue after CreateCertificate;
    it is then complete whether or not anyone polled (0: complete in the 202 already)."""
    subscription_id: str = DEFAULT_SUBSCRIPTION_ID
    subscription_name: str = "kv-emulator"
    client_ip: str = ""
    arm_pending_polls: int = 0
    """Who an in-process caller is, for vault firewall rules (server mode uses the socket's address)."""

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Settings:
        """Validate user options (from a marker, ``emulate()`` or ini text) into settings."""
        merged = {**(options or {}), **kwargs}
        unknown = sorted(set(merged) - set(cls.option_names()))
        if unknown:
            raise TypeError(
                f"unknown kv-emulator option(s): {', '.join(unknown)}; "
                f"valid options are: {', '.join(cls.option_names())}"
            )
        values = {name: _coerce(name, value) for name, value in merged.items()}
        settings = cls(**values)
        settings._validate()
        return settings

    def replace(self, **options: Any) -> Settings:
        """A copy with ``options`` applied and validated."""
        current = dataclasses.asdict(self)
        current.update(options)
        return Settings.from_options(current)

    def _validate(self) -> None:
        if not 7 <= self.soft_delete_retention_in_days <= 90:
            raise ValueError("soft_delete_retention_in_days must be between 7 and 90")
        if self.enable_purge_protection and not self.enable_soft_delete:
            raise ValueError("enable_purge_protection requires enable_soft_delete")
        if self.sku not in _SKUS:
            raise ValueError(f"sku must be one of {', '.join(_SKUS)}")
        for name in (self.vault_name, *self.vaults):
            if "://" in name:
                from .hosts import parse_name_or_url  # a URL declares a vault or a Managed HSM

                parse_name_or_url(name)
                continue
            if not _VAULT_NAME.match(name):
                raise ValueError(
                    f"invalid vault name {name!r}: 3-24 characters, letters, digits and hyphens, starting with a letter"
                )
        if not self.tenant_id:
            raise ValueError("tenant_id must not be empty")
        if not _GUID.match(self.subscription_id):
            raise ValueError(f"subscription_id must be a GUID, got {self.subscription_id!r}")
        if self.client_ip:
            import ipaddress

            ipaddress.ip_address(self.client_ip)  # ValueError names the bad address
        if not 0 <= self.certificate_issuance_time <= 86400:
            raise ValueError("certificate_issuance_time must be between 0 and 86400 seconds")
        if not 0 < self.throttle_scale <= 1000:
            raise ValueError("throttle_scale must be greater than 0 and at most 1000")
        unknown = sorted(set(self.throttle_limits) - set(TRANSACTION_CLASSES))
        if unknown:
            raise ValueError(
                f"unknown throttle_limits class(es): {', '.join(unknown)}; "
                f"classes are: {', '.join(TRANSACTION_CLASSES)}"
            )
        if any(limit < 1 for limit in self.throttle_limits.values()):
            raise ValueError("throttle_limits must be at least 1")
        if self.throttle_retry_after_header not in RETRY_AFTER_HEADERS:
            raise ValueError(f"throttle_retry_after_header must be one of {', '.join(RETRY_AFTER_HEADERS)}")
        if self.throttle_retry_after is not None and self.throttle_retry_after < 0:
            raise ValueError("throttle_retry_after must not be negative")

    @property
    def recoverable_days(self) -> int:
        return self.soft_delete_retention_in_days if self.enable_soft_delete else 0

    @property
    def recovery_level(self) -> str:
        """The ``recoveryLevel`` every object in such a vault reports."""
        if not self.enable_soft_delete:
            return "Purgeable"
        prefix = "Recoverable" if self.soft_delete_retention_in_days == 90 else "CustomizedRecoverable"
        return prefix if self.enable_purge_protection else f"{prefix}+Purgeable"


_BOOLS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


class _Refused(Exception):
    """A value a setting's coercer cannot read."""


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    raise _Refused


def _to_int(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _Refused


def _to_float(value: Any) -> float:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Refused from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _Refused


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    raise _Refused


def _to_names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part for part in re.split(r"[,\s]+", value) if part)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _Refused


def _to_limits(value: Any) -> dict[str, int]:
    if isinstance(value, str):  # ini text: "secret-create=3, key-software-create=2"
        pairs = [part.split("=", 1) for part in re.split(r"[,\s]+", value) if part]
        if all(len(pair) == 2 and pair[1].strip().isdigit() for pair in pairs):
            return {k.strip(): int(v) for k, v in pairs}
    elif isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) for k, v in value.items()
    ):
        return dict(value)
    raise _Refused


def _optional(coerce: Callable[[Any], Any], nulls: tuple[str, ...]) -> Callable[[Any], Any]:
    """``coerce``, with None (or one of the ``nulls`` texts) read as None."""

    def read(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in nulls):
            return None
        return coerce(value)

    return read


#: The reader of each type a setting may have: ini and environment text, or the Python value itself.
_COERCERS: dict[Any, Callable[[Any], Any]] = {
    bool: _to_bool,
    bool | None: _optional(_to_bool, ("none",)),
    int: _to_int,
    float: _to_float,
    float | None: _optional(_to_float, ("", "none")),
    str: _to_str,
    tuple[str, ...]: _to_names,
    dict[str, int]: _to_limits,
}


@functools.cache
def _field_types() -> dict[str, Any]:
    """Each setting's declared type (evaluated, not its annotation's text); a type without a reader is an error."""
    hints = typing.get_type_hints(Settings)
    types = {field.name: hints[field.name] for field in dataclasses.fields(Settings)}
    unknown = {name: kind for name, kind in types.items() if kind not in _COERCERS or kind not in _FORMATS}
    if unknown:
        raise TypeError(f"Settings fields of a type with no reader in kv_emulator.config: {unknown}")
    return types


def _coerce(name: str, value: Any) -> Any:
    """Accept ini/env text as well as Python values, read by the setting's declared type; refuse others clearly."""
    try:
        return _COERCERS[_field_types()[name]](value)
    except _Refused:
        raise TypeError(f"kv-emulator option {name} expects {format_words(name)}, got {value!r}") from None
