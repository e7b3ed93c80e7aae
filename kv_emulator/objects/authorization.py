"""Who may do what in a vault: Azure RBAC role assignments or access policies, checked per operation.

Off until a test turns it on (the ARM property ``enable_rbac_authorization``: True for RBAC, False for
access policies). Grants and revocations take effect on the next request. Refusals are the service's
403s: ``ForbiddenByRbac`` and ``AccessDenied``, with the texts recorded from real vaults.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import Forbidden

__all__ = ["BUILT_IN_ROLES", "AccessPolicy", "Authorization", "Forbidden", "RoleAssignment"]

_KV = "Microsoft.KeyVault/vaults"

# Built-in Key Vault roles and their data actions (wildcards as Azure writes them).
BUILT_IN_ROLES: dict[str, tuple[str, ...]] = {
    "Key Vault Administrator": (f"{_KV}/*",),
    "Key Vault Secrets Officer": (f"{_KV}/secrets/*",),
    "Key Vault Secrets User": (f"{_KV}/secrets/getSecret/action", f"{_KV}/secrets/readMetadata/action"),
    "Key Vault Crypto Officer": (f"{_KV}/keys/*", f"{_KV}/keyrotationpolicies/*"),
    "Key Vault Crypto User": (
        f"{_KV}/keys/read",
        f"{_KV}/keys/update/action",
        f"{_KV}/keys/backup/action",
        f"{_KV}/keys/encrypt/action",
        f"{_KV}/keys/decrypt/action",
        f"{_KV}/keys/wrap/action",
        f"{_KV}/keys/unwrap/action",
        f"{_KV}/keys/sign/action",
        f"{_KV}/keys/verify/action",
    ),
    "Key Vault Crypto Service Encryption User": (
        f"{_KV}/keys/read",
        f"{_KV}/keys/wrap/action",
        f"{_KV}/keys/unwrap/action",
    ),
    "Key Vault Certificates Officer": (
        f"{_KV}/certificates/*",
        f"{_KV}/certificatecas/*",
        f"{_KV}/certificatecontacts/*",
    ),
    "Key Vault Certificate User": (
        f"{_KV}/certificates/read",
        f"{_KV}/secrets/getSecret/action",
        f"{_KV}/secrets/readMetadata/action",
        f"{_KV}/keys/read",
    ),
    "Key Vault Reader": (
        f"{_KV}/*/read",
        f"{_KV}/secrets/readMetadata/action",
    ),
}


def _allows(pattern: str, action: str) -> bool:
    """Azure's data-action wildcards: ``*`` matches any run of segments."""
    if pattern.endswith("/*"):
        return action.startswith(pattern[:-1])
    if "/*/" in pattern:
        head, tail = pattern.split("/*/", 1)
        return action.startswith(head + "/") and action.endswith("/" + tail)
    return pattern.lower() == action.lower()


@dataclasses.dataclass(frozen=True)
class RoleAssignment:
    id: str
    role: str
    principal_id: str
    scope: str
    """"/" for the whole vault, or an object such as "/secrets/db-password" or "/keys/signing"."""


@dataclasses.dataclass
class AccessPolicy:
    object_id: str
    secrets: set[str] = dataclasses.field(default_factory=set)
    keys: set[str] = dataclasses.field(default_factory=set)
    certificates: set[str] = dataclasses.field(default_factory=set)


_POLICY_KINDS = ("secrets", "keys", "certificates")


def _principal_id(principal: Any) -> str:
    """An object id, from a string or anything with ``object_id`` (a registered Principal)."""
    return str(getattr(principal, "object_id", principal)).lower()


class Authorization:
    """A vault's authorization model. ``vault.authorization.assign("Key Vault Secrets User", principal)``."""

    def __init__(self, vault: str, location: str, resource_id: str, rbac: bool | None) -> None:
        self.vault = vault
        self.location = location
        self.resource_id = resource_id
        self._rbac = rbac
        self._batch_depth = 0
        self.on_change: list[Callable[[], None]] = []
        """Told when the access policies or the permission model change (VaultAccessPolicyChanged)."""
        self._lock = threading.Lock()
        self._assignments: list[RoleAssignment] = []
        self._policies: dict[str, AccessPolicy] = {}

    @property
    def rbac(self) -> bool | None:
        """True: Azure RBAC; False: access policies; None: no checks (the emulator's default)."""
        return self._rbac

    @rbac.setter
    def rbac(self, value: bool | None) -> None:
        # Switching between access policies and RBAC is a change the service announces; switching the
        # emulator's checks on (from None, as a control-plane PUT does for a new vault) is not.
        changed, self._rbac = None not in (value, self._rbac) and value != self._rbac, value
        if changed:
            self._changed()

    def _changed(self) -> None:
        if self._batch_depth:
            return  # told once, at the end of the batch
        for observer in self.on_change:
            observer()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Make several changes as one (a control-plane PUT replacing every policy): observers hear once at the
        end, and only if the access policies or the permission model differ from before."""
        before = self._state()
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if not self._batch_depth and self._state() != before:
                self._changed()

    def _state(self) -> tuple[bool | None, dict[str, AccessPolicy]]:
        with self._lock:
            return self._rbac, {oid: dataclasses.replace(p) for oid, p in self._policies.items()}

    # -- RBAC ---------------------------------------------------------------------------------------

    def assign(self, role: str, principal: Any, scope: str = "/") -> RoleAssignment:
        """Grant a built-in role at vault scope or on one object (``scope="/secrets/name"``)."""
        if role not in BUILT_IN_ROLES:
            raise ValueError(f"unknown role {role!r}; built-in roles: {', '.join(BUILT_IN_ROLES)}")
        assignment = RoleAssignment(str(uuid.uuid4()), role, _principal_id(principal), "/" + scope.strip("/").lower())
        with self._lock:
            self._assignments.append(assignment)
        return assignment

    def revoke(self, assignment: RoleAssignment | str) -> None:
        wanted = assignment.id if isinstance(assignment, RoleAssignment) else assignment
        with self._lock:
            self._assignments = [a for a in self._assignments if a.id != wanted]

    @property
    def assignments(self) -> list[RoleAssignment]:
        with self._lock:
            return list(self._assignments)

    # -- access policies ----------------------------------------------------------------------------

    def set_access_policy(
        self,
        principal: Any,
        *,
        secrets: list[str] | tuple[str, ...] = (),
        keys: list[str] | tuple[str, ...] = (),
        certificates: list[str] | tuple[str, ...] = (),
    ) -> AccessPolicy:
        """Replace a principal's permissions (``secrets=["get", "list"]``; ``"all"`` grants every one)."""
        policy = AccessPolicy(
            _principal_id(principal),
            {p.lower() for p in secrets},
            {p.lower() for p in keys},
            {p.lower() for p in certificates},
        )
        with self._lock:
            previous, self._policies[policy.object_id] = self._policies.get(policy.object_id), policy
        if policy != previous:
            self._changed()
        return policy

    def remove_access_policy(self, principal: Any) -> None:
        with self._lock:
            removed = self._policies.pop(_principal_id(principal), None)
        if removed is not None:
            self._changed()

    @property
    def access_policies(self) -> list[AccessPolicy]:
        """Copies of the access policies, one per principal."""
        with self._lock:
            return [dataclasses.replace(policy) for policy in self._policies.values()]

    # -- state (kv_emulator.state) ------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Plain data: the permission model, the role assignments and the access policies."""
        with self._lock:
            return {
                "rbac": self._rbac,
                "assignments": [dataclasses.asdict(a) for a in self._assignments],
                "access_policies": [
                    {"object_id": p.object_id, **{kind: sorted(getattr(p, kind)) for kind in _POLICY_KINDS}}
                    for p in self._policies.values()
                ],
            }

    def from_state(self, data: dict[str, Any]) -> None:
        """Take back :meth:`to_state`'s data (observers are not told: nothing changed, it was restored)."""
        with self._lock:
            self._rbac = data.get("rbac")
            self._assignments = [RoleAssignment(**a) for a in data.get("assignments", ())]
            policies = [
                AccessPolicy(p["object_id"], *({str(x) for x in p.get(kind, ())} for kind in _POLICY_KINDS))
                for p in data.get("access_policies", ())
            ]
            self._policies = {p.object_id: p for p in policies}

    # -- the check ----------------------------------------------------------------------------------

    def check(
        self, permission: tuple[str, str] | None, action: str | None, caller: dict[str, Any] | None, object_path: str
    ) -> str | None:
        """Raise the service's 403 unless the caller holds the data ``action`` (RBAC) or the access-policy
        ``permission`` ((object kind, permission)) an operation needs; returns the RBAC assignment id used.

        An operation that declares none is refused: nothing is allowed by being left out.
        """
        if self.rbac is None:
            return None
        if permission is None or action is None:
            # unverified: every operation of the service needs a permission; this text is the emulator's
            raise Forbidden(
                "The operation declares no permission or data action, so it is refused.",
                "ForbiddenByRbac" if self.rbac else "AccessDenied",
            )
        kind, permission_name = permission
        caller = caller or {}
        oid = str(caller.get("oid", "")).lower()
        described = (
            f"appid={caller.get('appid', '')};oid={caller.get('oid', '')};"
            f"iss={caller.get('iss', 'https://sts.windows.net/' + str(caller.get('tid', '')) + '/')}"
        )
        if self.rbac:
            for assignment in self.assignments:
                path = object_path.lower()
                in_scope = assignment.scope in ("/", path) or path.startswith(assignment.scope + "/")
                if (
                    assignment.principal_id == oid
                    and in_scope
                    and any(_allows(p, action) for p in BUILT_IN_ROLES[assignment.role])
                ):
                    return assignment.id
            raise Forbidden(
                "Caller is not authorized to perform action on resource.\r\n"
                "If role assignments, deny assignments or role definitions were changed recently, please observe "
                "propagation time.\r\n"
                f"Caller: {described}\r\n"
                f"Action: '{action}'\r\n"
                f"Resource: '{(self.resource_id + object_path.rstrip('/')).lower()}'\r\n"
                "Assignment: (not found)\r\n"
                "DenyAssignmentId: null\r\n"
                "DecisionReason: 'DeniedWithNoValidRBAC' \r\n"
                f"Vault: {self.vault};location={self.location}\r\n",
                "ForbiddenByRbac",
            )
        with self._lock:
            policy = self._policies.get(oid)
        granted: set[str] = getattr(policy, kind) if policy else set()
        if permission_name.lower() in granted or "all" in granted:
            return None
        raise Forbidden(
            f"The user, group or application '{described}' does not have {kind} {permission_name} permission on key "
            f"vault '{self.vault};location={self.location}'. For help resolving this issue, please see "
            "https://go.microsoft.com/fwlink/?linkid=2125287",
            "AccessDenied",
        )
