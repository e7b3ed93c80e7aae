"""One record per operation: everything the pipeline needs to know about it, declared beside its handler.

Like werkzeug's ``Rule(path, endpoint=...)`` and moto's ``url_paths``, an operation is one piece of data::

    Operation("GET", "/secrets/{secret-name}/{secret-version}", "GetSecret", get_secret,
              permission=("secrets", "get"), action=f"{VAULT_DATA}/secrets/getSecret/action")

Routing reads ``method``, ``path``, ``hosts`` and ``since``; authorization ``permission`` and ``action`` (a
vault) or ``hsm_action`` (a Managed HSM's local RBAC); throttling ``throttle``; the handler step ``handler``.
Each api module lists its records in ``OPERATIONS``; :mod:`kv_emulator.api` gathers them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from .versions import PUBLISHED, ApiVersion

__all__ = [
    "BOTH",
    "FIRST",
    "MANAGED_HSM",
    "MHSM_DATA",
    "VAULT",
    "VAULT_DATA",
    "Handler",
    "Operation",
    "Throttle",
    "admin_record",
]

Handler = Callable[..., Any]

#: The first api-version: an operation without ``since`` has existed from it.
FIRST = PUBLISHED[0]
#: Azure RBAC data actions of a vault, and a Managed HSM's local RBAC data actions, start with these.
VAULT_DATA = "Microsoft.KeyVault/vaults"
MHSM_DATA = "Microsoft.KeyVault/managedHsm"

#: Where an operation exists: on vault hosts, on Managed HSM hosts, or both (keys.json).
VAULT = frozenset({"vault"})
MANAGED_HSM = frozenset({"managedhsm"})
BOTH = VAULT | MANAGED_HSM

#: The transaction class an operation counts in (http/throttling.py): a key operation's class also depends on
#: the key's protection and size, read from the stored key, or for ``key-create-from-body`` from the request.
Throttle = Literal["vault-other", "secret-create", "key-other", "key-create", "key-create-from-body"]


@dataclasses.dataclass(frozen=True)
class Operation:
    """One operation of the service, by its spec ``operationId`` (``name``)."""

    method: str
    path: str
    """The spec's path template (``/keys/{key-name}/{key-version}/sign``)."""
    name: str
    handler: Handler
    since: str = FIRST
    """The first api-version that has it; older versions route its path as if it did not exist."""
    permission: tuple[str, str] | None = None
    """The access-policy permission a vault checks: (object kind, permission), e.g. ("keys", "sign")."""
    action: str | None = None
    """The Azure RBAC data action a vault checks."""
    hsm_action: str | None = None
    """The local RBAC data action a Managed HSM checks."""
    throttle: Throttle = "vault-other"
    hosts: frozenset[str] = VAULT

    @property
    def on_vault(self) -> bool:
        return "vault" in self.hosts

    @property
    def on_managed_hsm(self) -> bool:
        return "managedhsm" in self.hosts

    def exists_at(self, version: ApiVersion) -> bool:
        """Whether the api-version has this operation."""
        return version.at_least(self.since)

    @property
    def route(self) -> tuple[str, str, str]:
        """(method, path template, operationId): the row of a route table."""
        return self.method, self.path, self.name


def admin_record(method: str, path: str, name: str, handler: Handler, *, hsm_action: str, since: str) -> Operation:
    """A Managed HSM administration operation: routed on Managed HSM hosts only, guarded by local RBAC."""
    return Operation(
        method, path, name, handler, since=since, hsm_action=f"{MHSM_DATA}/{hsm_action}", hosts=MANAGED_HSM
    )
