"""The directory as Microsoft Graph sees it: users and service principals, in Graph's JSON shapes, and the
``$filter`` clauses the Azure CLI and the SDKs send to find them.

Graph knows what the emulated directory knows: registered principals (apps and managed identities), every
app the directory has issued a token to (the open directory's ad-hoc apps, the emulator's own credential),
and the signed-in user of the fake ``az``. While the directory is open, a lookup by an app id that looks
like one (a GUID) finds that app too, as the token endpoint would give it a token.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from typing import Any

from ..identity.directory import Directory

__all__ = ["DirectoryObject", "FilterError", "GraphView", "parse_filter"]

USER_TYPE = "#microsoft.graph.user"
SERVICE_PRINCIPAL_TYPE = "#microsoft.graph.servicePrincipal"


@dataclasses.dataclass(frozen=True)
class DirectoryObject:
    """One user or service principal, with the properties Graph's v1.0 answers by default."""

    object_id: str
    kind: str  # "user" or "servicePrincipal"
    display_name: str
    app_id: str = ""
    user_principal_name: str = ""
    tenant_id: str = ""
    managed: bool = False

    @property
    def odata_type(self) -> str:
        return USER_TYPE if self.kind == "user" else SERVICE_PRINCIPAL_TYPE

    @property
    def names(self) -> list[str]:
        """``servicePrincipalNames``: the app id (and, on the service, the app's identifier URIs)."""
        return [self.app_id]

    def to_wire(self) -> dict[str, Any]:
        """The object as Graph v1.0 returns it (default properties; ``@odata.type`` is the caller's choice)."""
        if self.kind == "user":
            return {
                "businessPhones": [],
                "displayName": self.display_name,
                "givenName": None,
                "jobTitle": None,
                "mail": self.user_principal_name,
                "mobilePhone": None,
                "officeLocation": None,
                "preferredLanguage": None,
                "surname": None,
                "userPrincipalName": self.user_principal_name,
                "id": self.object_id,
            }
        return {
            "id": self.object_id,
            "deletedDateTime": None,
            "accountEnabled": True,
            "alternativeNames": [],
            "appDisplayName": self.display_name,
            "appId": self.app_id,
            "appOwnerOrganizationId": None if self.managed else self.tenant_id,
            "displayName": self.display_name,
            "servicePrincipalNames": self.names,
            "servicePrincipalType": "ManagedIdentity" if self.managed else "Application",
            "signInAudience": None if self.managed else "AzureADMyOrg",
            "tags": [],
        }

    def value(self, prop: str) -> list[str]:
        """The values a ``$filter`` clause compares for ``prop`` (a list: servicePrincipalNames has several)."""
        values = {
            "id": [self.object_id],
            "displayName": [self.display_name],
            "appId": [self.app_id] if self.kind != "user" else [],
            "userPrincipalName": [self.user_principal_name] if self.kind == "user" else [],
            "mail": [self.user_principal_name] if self.kind == "user" else [],
            "servicePrincipalNames": self.names if self.kind != "user" else [],
        }
        return values.get(prop, [])


def is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


class GraphView:
    """The objects Graph answers with, read from the directory at each request (it changes as tests run)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._named: dict[str, DirectoryObject] = {}
        """Apps an open directory was asked for by app id: getByIds names them afterwards too."""

    def objects(self) -> list[DirectoryObject]:
        """Registered principals, then apps that were issued tokens, then the fake ``az``'s user."""
        found: dict[str, DirectoryObject] = {}
        for principal in self.directory.principals():
            found.setdefault(
                principal.object_id.lower(),
                DirectoryObject(
                    principal.object_id,
                    "servicePrincipal",
                    principal.display_name or principal.client_id,
                    app_id=principal.client_id,
                    tenant_id=principal.tenant_id,
                    managed=principal.kind == "managed_identity",
                ),
            )
        for claims in list(self.directory.issued):
            oid, appid = str(claims.get("oid", "")), str(claims.get("appid", ""))
            if oid and appid and claims.get("idtyp") == "app":
                found.setdefault(
                    oid.lower(),
                    DirectoryObject(oid, "servicePrincipal", appid, app_id=appid, tenant_id=str(claims.get("tid", ""))),
                )
        if self.directory.open:
            for named in list(self._named.values()):
                found.setdefault(named.object_id.lower(), named)
        upn, user_id = self.directory.signed_in_user
        found.setdefault(
            user_id.lower(), DirectoryObject(user_id, "user", "kv-emulator developer", user_principal_name=upn)
        )
        return list(found.values())

    def by_id(self, object_id: str) -> DirectoryObject | None:
        return next((o for o in self.objects() if o.object_id.lower() == object_id.lower()), None)

    def user(self, id_or_upn: str) -> DirectoryObject | None:
        key = id_or_upn.lower()
        users = (o for o in self.objects() if o.kind == "user")
        return next((u for u in users if key in (u.object_id.lower(), u.user_principal_name.lower())), None)

    def listed(self, kind: str, clauses: list[Clause]) -> list[DirectoryObject]:
        """The objects of ``kind`` every clause matches, plus an open directory's app named by app id."""
        matches = [o for o in self.objects() if o.kind == kind and all(c.matches(o) for c in clauses)]
        if matches or kind != "servicePrincipal" or not self.directory.open:
            return matches
        wanted = [c.literal for c in clauses if c.prop in ("appId", "servicePrincipalNames") and c.op == "eq"]
        if len(wanted) == 1 and is_guid(wanted[0]):
            tenant = self.directory.default_tenant
            app_id = wanted[0]
            candidate = DirectoryObject(
                self.directory.object_id_for(tenant, app_id), kind, app_id, app_id=app_id, tenant_id=tenant
            )
            if all(c.matches(candidate) for c in clauses):
                self._named[candidate.object_id.lower()] = candidate
                return [candidate]
        return []


# -- $filter -------------------------------------------------------------------------------------------

_LITERAL = r"'(?P<literal>(?:[^']|'')*)'"
_CLAUSES = (
    re.compile(rf"^(?P<prop>[A-Za-z]+)\s+(?P<op>eq)\s+{_LITERAL}$"),
    re.compile(rf"^(?P<prop>[A-Za-z]+)/any\((?P<var>\w+):\s*(?P=var)\s+(?P<op>eq)\s+{_LITERAL}\)$"),
    re.compile(rf"^(?P<op>startswith)\(\s*(?P<prop>[A-Za-z]+)\s*,\s*{_LITERAL}\s*\)$", re.I),
)
_PROPERTIES = {
    "user": ("id", "displayName", "userPrincipalName", "mail"),
    "servicePrincipal": ("id", "displayName", "appId", "servicePrincipalNames"),
}


class FilterError(ValueError):
    """A ``$filter`` the emulator cannot read: (code, message) as Graph would send them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class Clause:
    prop: str
    op: str  # "eq" or "startswith"
    literal: str

    def matches(self, obj: DirectoryObject) -> bool:
        # Graph compares these string properties without regard to case (unverified for displayName).
        wanted = self.literal.casefold()
        values = [v.casefold() for v in obj.value(self.prop)]
        if self.op == "startswith":
            return any(v.startswith(wanted) for v in values)
        return wanted in values


def parse_filter(text: str | None, kind: str) -> list[Clause]:
    """The clauses of a ``$filter`` joined by ``and``: ``appId eq '…'``, ``displayName eq '…'``,
    ``servicePrincipalNames/any(c:c eq '…')``, ``userPrincipalName eq '…'``, ``startswith(displayName,'…')``."""
    if not text or not text.strip():
        return []
    clauses = []
    for part in _split_and(text.strip()):
        clauses.append(_clause(part.strip(), kind))
    return clauses


def _split_and(text: str) -> Iterable[str]:
    """Split on `` and `` outside quoted literals."""
    parts, current, quoted = [], "", False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "'":
            quoted = not quoted
        if not quoted and text[index : index + 5].lower() == " and ":
            parts.append(current)
            current, index = "", index + 5
            continue
        current += char
        index += 1
    parts.append(current)
    return parts


def _clause(text: str, kind: str) -> Clause:
    for pattern in _CLAUSES:
        match = pattern.match(text)
        if match is None:
            continue
        prop, op = match.group("prop"), match.group("op").lower()
        known = {p.lower(): p for p in _PROPERTIES[kind]}
        if prop.lower() not in known:
            resource = "User" if kind == "user" else "ServicePrincipal"
            raise FilterError(
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause specified for property '{prop}' of resource "
                f"'{resource}'.",  # unverified
            )
        return Clause(known[prop.lower()], op, match.group("literal").replace("''", "'"))
    shown = text if len(text) <= 200 else text[:200] + "..."
    raise FilterError("BadRequest", f"Invalid filter clause: {shown}")  # unverified
