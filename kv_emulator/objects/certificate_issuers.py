"""Certificate issuers and contacts: the two vault-wide settings of the certificates API.

An issuer names a provider (DigiCert, GlobalSign, "Test", ...); a certificate whose policy names the issuer is
signed by the emulator's test CA, whatever the provider, so the chain is real. Contacts are the people the
``EmailContacts`` lifetime action would write to; the emulator records those e-mails instead of sending them.
"""

from __future__ import annotations

import builtins
import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..clock import Clock
from ..errors import BadParameter, ContactsNotFound, IssuerNotFound
from .versioned import validate_name

__all__ = ["ISSUER_PROVIDERS", "CertificateContacts", "Contact", "Issuer", "IssuerRegistry"]

#: Providers a named issuer may name, lowercased: Key Vault's partner CAs (DigiCert, GlobalSign), Microsoft's
#: internal ones, and "Test", which the SDKs' own live tests use. The emulator's test CA signs for all of
#: them; an issuer naming any other provider ends its certificate operations ``failed`` (unverified).
ISSUER_PROVIDERS = frozenset({"digicert", "globalsign", "onecertv2-publicca", "onecertv2-privateca", "test"})


@dataclasses.dataclass
class Issuer:
    """A certificate issuer. The password is kept (a provider would need it) but never shown on the wire."""

    name: str
    provider: str
    account_id: str | None = None
    password: str | None = None
    organization_id: str | None = None
    admin_details: list[dict[str, str]] = dataclasses.field(default_factory=list)
    enabled: bool = True
    created: int = 0
    updated: int = 0
    credentials_given: bool = False
    """The client sent ``credentials`` (even ``{}``): the service echoes them (recorded traffic, issue 19)."""
    org_given: bool = False
    """The client sent ``org_details``: the service shows them only then (recorded traffic, issue 19)."""

    @property
    def shows_credentials(self) -> bool:
        return self.credentials_given or self.account_id is not None

    @property
    def shows_org(self) -> bool:
        return self.org_given or self.organization_id is not None or bool(self.admin_details)


@dataclasses.dataclass(frozen=True)
class Contact:
    email: str | None = None
    name: str | None = None
    phone: str | None = None


class IssuerRegistry:
    """The issuers of one vault, by case-insensitive name."""

    def __init__(self, *, clock: Clock, lock: threading.RLock) -> None:
        self._clock = clock
        self._lock = lock
        self._issuers: dict[str, Issuer] = {}

    def _now(self) -> int:
        return int(self._clock.time())

    def set(
        self,
        name: str,
        provider: str,
        *,
        account_id: str | None = None,
        password: str | None = None,
        organization_id: str | None = None,
        admin_details: builtins.list[dict[str, str]] | None = None,
        enabled: bool = True,
        credentials_given: bool = False,
        org_given: bool = False,
    ) -> Issuer:
        """SetCertificateIssuer: create or replace the issuer."""
        validate_name("issuer", name)
        if not provider:
            raise BadParameter("Property provider is required\r\n")  # unverified
        with self._lock:
            now = self._now()
            previous = self._issuers.get(name.lower())
            issuer = Issuer(
                name=previous.name if previous else name,
                provider=provider,
                account_id=account_id,
                password=password,
                organization_id=organization_id,
                admin_details=list(admin_details or []),
                enabled=enabled,
                created=previous.created if previous else now,
                updated=now,
                credentials_given=credentials_given,
                org_given=org_given,
            )
            self._issuers[name.lower()] = issuer
            return issuer

    def update(self, name: str, **changes: Any) -> Issuer:
        """UpdateCertificateIssuer: change the fields given (``None`` leaves a field as it is)."""
        with self._lock:
            issuer = self._issuers.get(name.lower())
            if issuer is None:
                raise IssuerNotFound(name)  # an update names the issuer (recorded traffic, issue 19)
            fields = {f.name for f in dataclasses.fields(Issuer)} - {"name", "created", "updated"}
            unknown = set(changes) - fields
            if unknown:
                raise TypeError(f"unknown issuer field(s): {', '.join(sorted(unknown))}")
            for field, value in changes.items():
                if value is None or (field in ("credentials_given", "org_given") and not value):
                    continue  # None leaves a field as it is; once sent, credentials and org_details stay shown
                setattr(issuer, field, list(value) if field == "admin_details" else value)
            issuer.updated = self._now()
            return issuer

    def get(self, name: str) -> Issuer:
        with self._lock:
            issuer = self._issuers.get(name.lower())
            if issuer is None:
                raise IssuerNotFound()
            return issuer

    def delete(self, name: str) -> Issuer:
        with self._lock:
            issuer = self.get(name)
            del self._issuers[name.lower()]
            return issuer

    def list(self) -> builtins.list[Issuer]:
        with self._lock:
            return [self._issuers[k] for k in sorted(self._issuers)]

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return isinstance(name, str) and name.lower() in self._issuers

    def to_state(self) -> builtins.list[dict[str, Any]]:
        """Plain data (kv_emulator.state): every issuer, password included (a provider would need it)."""
        with self._lock:
            return [dataclasses.asdict(self._issuers[k]) for k in sorted(self._issuers)]

    def from_state(self, data: Iterable[Mapping[str, Any]]) -> None:
        known = {field.name for field in dataclasses.fields(Issuer)}
        with self._lock:
            self._issuers = {
                str(item["name"]).lower(): Issuer(**{k: v for k, v in item.items() if k in known}) for item in data
            }


class CertificateContacts:
    """The vault's certificate contacts: ``None`` until set, and again after they are deleted."""

    def __init__(self, *, lock: threading.RLock) -> None:
        self._lock = lock
        self._contacts: list[Contact] | None = None

    def set(self, contacts: Sequence[Contact | dict[str, Any]]) -> list[Contact]:
        """SetCertificateContacts: replace the list."""
        parsed = [c if isinstance(c, Contact) else Contact(**c) for c in contacts]
        with self._lock:
            self._contacts = parsed
            return list(parsed)

    def get(self) -> list[Contact]:
        with self._lock:
            if self._contacts is None:
                raise ContactsNotFound()
            return list(self._contacts)

    def delete(self) -> list[Contact]:
        with self._lock:
            contacts = self.get()
            self._contacts = None
            return contacts

    def to_state(self) -> list[dict[str, Any]] | None:
        """Plain data (kv_emulator.state): None until contacts are set."""
        with self._lock:
            return None if self._contacts is None else [dataclasses.asdict(c) for c in self._contacts]

    def from_state(self, data: Iterable[Mapping[str, Any]] | None) -> None:
        with self._lock:
            self._contacts = None if data is None else [Contact(**dict(c)) for c in data]

    @property
    def emails(self) -> list[str]:
        """Where an ``EmailContacts`` action would write now (empty when no contacts are set)."""
        with self._lock:
            return [c.email for c in self._contacts or [] if c.email]
