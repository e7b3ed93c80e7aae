"""Certificates' lifetime actions: ``AutoRenew`` makes the next version, ``EmailContacts`` records an e-mail.

Each fires once per version, when the emulator's clock passes its trigger (a percentage of the version's
lifetime, or days before its expiry). A completed version or a changed policy plans the certificate's next
trigger on the vault's schedule (:mod:`.schedule`, phase ``renew``); the schedule runs it on the next catch-up.
A renewal is stamped with the time it was due, so a clock moved a year ahead finds the versions the service
would have made on the way.
"""

from __future__ import annotations

import builtins
import threading
from typing import TYPE_CHECKING, Any

from .certificate_issuers import CertificateContacts, IssuerRegistry
from .certificate_operations import CertificateOperation, CertificateValue, current_version
from .certificate_policy import CertificatePolicy
from .schedule import Schedule
from .versioned import Version, VersionedObject

__all__ = ["MAX_RENEWALS_PER_RUN", "LifetimeActionsMixin"]

MAX_RENEWALS_PER_RUN = 1000
"""Renewals of one certificate in one catch-up; the rest go on at the next (a bound on one request's work)."""


class LifetimeActionsMixin:
    """Planning and firing the lifetime actions of a :class:`~.certificates.CertificateStore`."""

    if TYPE_CHECKING:  # provided by CertificateStore and VersionedStore
        kind: str
        contacts: CertificateContacts
        issuers: IssuerRegistry
        _lock: threading.RLock
        _schedule: Schedule
        _live: dict[str, VersionedObject[CertificateValue]]
        _policies: dict[str, CertificatePolicy]
        _operations: dict[str, CertificateOperation]
        _notifications: list[dict[str, Any]]
        _emailed: set[tuple[str, int]]

        def _start(
            self,
            name: str,
            policy: CertificatePolicy,
            *,
            enabled: bool,
            tags: dict[str, str] | None,
            preserve_order: bool | None,
            at: int | None = None,
        ) -> Version[CertificateValue]: ...
        def _issue(self, operation: CertificateOperation, *, at: int) -> None: ...

    def _pending_actions(
        self, obj: VersionedObject[CertificateValue], policy: CertificatePolicy
    ) -> builtins.list[tuple[int, str]]:
        """(due, action) of the current version's actions that have not fired (e-mails fire once per version)."""
        latest = current_version(obj)
        attrs = latest.attributes
        if latest.payload.pending or attrs.not_before is None or attrs.expires is None:
            return []
        pending = []
        for action in policy.lifetime_actions or []:
            due = action.due(attrs.not_before, attrs.expires)
            if action.action != "EmailContacts" or (latest.version, due) not in self._emailed:
                pending.append((due, action.action))
        return pending

    def _changed(self, key: str) -> None:
        obj, policy = self._live.get(key), self._policies.get(key)
        if obj is not None and policy is not None:
            pending = self._pending_actions(obj, policy)
            self._schedule.plan("renew", self.kind, key, min((due for due, _ in pending), default=None))

    def _renew_due(self, key: str, now: int) -> None:
        """Scheduled (``renew`` phase): fire what is due, then plan the next trigger. A renewal that is due but
        cannot happen yet (an operation in progress, the issuer gone) waits and is tried on every catch-up."""
        obj, policy = self._live.get(key), self._policies.get(key)
        if obj is None or policy is None or not policy.lifetime_actions:
            return
        for _ in range(MAX_RENEWALS_PER_RUN):
            if not self._fire_due_actions(obj, policy, now):
                break
        else:
            self._schedule.wait("renew", self.kind, key)  # more to do: go on at the next catch-up
            return
        pending = self._pending_actions(obj, policy)
        if any(due <= now for due, _ in pending):
            self._schedule.wait("renew", self.kind, key)  # an AutoRenew that cannot run yet
        else:
            self._schedule.plan("renew", self.kind, key, min((due for due, _ in pending), default=None))

    def _fire_due_actions(self, obj: VersionedObject[CertificateValue], policy: CertificatePolicy, now: int) -> bool:
        """Fire what is due for the current version; True when a renewal made a newer one."""
        latest = current_version(obj)
        attrs = latest.attributes
        if latest.payload.pending or attrs.not_before is None or attrs.expires is None:
            return False
        for action in policy.lifetime_actions or []:
            due = action.due(attrs.not_before, attrs.expires)
            if due > now:
                continue
            if action.action == "EmailContacts":
                if (latest.version, due) not in self._emailed:
                    self._emailed.add((latest.version, due))
                    marker = {"name": obj.name, "version": latest.version, "time": due, "emails": self.contacts.emails}
                    self._notifications.append(marker)
                continue
            operation = self._operations.get(obj.name.lower())
            if policy.unknown_issuer or (operation is not None and operation.status == "inProgress"):
                continue
            if not policy.self_signed and policy.issuer_name not in self.issuers:
                continue  # the issuer is gone: nothing can renew it
            version = self._start(
                obj.name, policy, enabled=attrs.enabled, tags=latest.tags, preserve_order=None, at=due
            )
            self._issue(self._operations[obj.name.lower()], at=version.attributes.created)
            return True
        return False
