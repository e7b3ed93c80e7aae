"""Key rotation policies: lifetime actions with ISO-8601 duration triggers, evaluated on the emulator's clock.

Key Vault durations are whole years, months and days (``P2Y``, ``P90D``, ``P1Y6M``); we also accept weeks.
Months and years are calendar arithmetic, so ``P1M`` after 31 January is the last day of February.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import BadParameter

__all__ = ["LifetimeAction", "RotationPolicy", "add_duration", "parse_duration"]

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
MIN_EXPIRY_DAYS = 28
MIN_TRIGGER_DAYS = 7
DEFAULT_NOTIFY = "P30D"


def parse_duration(text: str, field: str) -> tuple[int, int, int]:
    """(years, months, days) of a duration; a clear 400 otherwise (text unverified)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or not any(match.groups()):
        raise BadParameter(f"Property {field} has invalid value\r\n")
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return years, months, weeks * 7 + days


def add_duration(timestamp: int, text: str, *, sign: int = 1) -> int:
    years, months, days = parse_duration(text, "duration")
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    total_months = moment.month - 1 + sign * (years * 12 + months)
    year, month = moment.year + total_months // 12, total_months % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    moment = moment.replace(year=year, month=month, day=day) + sign * timedelta(days=days)
    return int(moment.timestamp())


def _approximate_days(text: str, field: str) -> int:
    years, months, days = parse_duration(text, field)
    return years * 365 + months * 30 + days


@dataclasses.dataclass
class LifetimeAction:
    trigger: str  # "timeAfterCreate" or "timeBeforeExpiry"
    duration: str
    action: str  # "Rotate" or "Notify"

    def to_dict(self) -> dict[str, Any]:
        return {"trigger": {self.trigger: self.duration}, "action": {"type": self.action}}


@dataclasses.dataclass
class RotationPolicy:
    lifetime_actions: list[LifetimeAction]
    expiry_time: str | None = None
    created: int | None = None
    updated: int | None = None

    @classmethod
    def default(cls) -> RotationPolicy:
        """What the service returns for a key that never had a policy: notify 30 days before expiry."""
        return cls([LifetimeAction("timeBeforeExpiry", DEFAULT_NOTIFY, "Notify")])

    @classmethod
    def from_wire(cls, body: dict[str, Any]) -> RotationPolicy:
        """Validate an UpdateKeyRotationPolicy body (rules as documented; message texts unverified)."""
        actions_in = body.get("lifetimeActions") or []
        attributes = body.get("attributes") or {}
        if not isinstance(actions_in, list) or not isinstance(attributes, dict):
            raise BadParameter("Property lifetimeActions has invalid value\r\n")
        expiry = attributes.get("expiryTime")
        if expiry is not None and _approximate_days(expiry, "expiryTime") < MIN_EXPIRY_DAYS:
            raise BadParameter(f"The expiryTime of a rotation policy must be at least {MIN_EXPIRY_DAYS} days.")
        actions: list[LifetimeAction] = []
        for entry in actions_in:
            trigger = entry.get("trigger") if isinstance(entry, dict) else None
            action = entry.get("action") if isinstance(entry, dict) else None
            if not isinstance(trigger, dict) or not isinstance(action, dict):
                raise BadParameter("Property lifetimeActions has invalid value\r\n")
            given = {k: v for k, v in trigger.items() if k in ("timeAfterCreate", "timeBeforeExpiry") and v}
            kind = str(action.get("type", ""))
            if len(given) != 1 or kind.lower() not in ("rotate", "notify"):
                raise BadParameter(
                    "A lifetime action needs exactly one trigger and an action type of Rotate or Notify."
                )
            ((name, duration),) = given.items()
            if _approximate_days(duration, name) < MIN_TRIGGER_DAYS:
                raise BadParameter(f"A lifetime action trigger must be at least {MIN_TRIGGER_DAYS} days.")
            if name == "timeBeforeExpiry" and expiry is None and kind.lower() == "rotate":
                raise BadParameter("A timeBeforeExpiry trigger to rotate needs an expiryTime in the policy.")
            if expiry is not None and kind.lower() == "rotate":
                # Documented rule: rotation at least 7 days after creation and 7 days before expiry.
                lifetime = _approximate_days(expiry, "expiryTime")
                after_create = _approximate_days(duration, name)
                if name == "timeBeforeExpiry":
                    after_create = lifetime - after_create
                if after_create < MIN_TRIGGER_DAYS or lifetime - after_create < MIN_TRIGGER_DAYS:
                    raise BadParameter(
                        f"Rotation must happen at least {MIN_TRIGGER_DAYS} days after creation and "
                        f"{MIN_TRIGGER_DAYS} days before expiry."
                    )
            actions.append(LifetimeAction(name, duration, kind.capitalize()))
        if not any(a.action == "Notify" for a in actions):
            # The service always keeps a Notify action (recorded: an empty list comes back with it).
            actions.append(LifetimeAction("timeBeforeExpiry", DEFAULT_NOTIFY, "Notify"))
        return cls(actions, expiry)

    def expiry_after(self, created: int) -> int | None:
        return add_duration(created, self.expiry_time) if self.expiry_time else None

    def next_action(self, created: int, expires: int | None, action: str) -> int | None:
        """When ``action`` is due for a version created at ``created`` (None if never)."""
        times = []
        for entry in self.lifetime_actions:
            if entry.action != action:
                continue
            if entry.trigger == "timeAfterCreate":
                times.append(add_duration(created, entry.duration))
            elif expires is not None:
                times.append(add_duration(expires, entry.duration, sign=-1))
        return min(times) if times else None

    def to_wire(self, policy_id: str) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        if self.expiry_time:
            attributes["expiryTime"] = self.expiry_time
        if self.created is not None:
            attributes["created"] = self.created
            attributes["updated"] = self.updated
        return {
            "id": policy_id,
            "lifetimeActions": [a.to_dict() for a in self.lifetime_actions],
            "attributes": attributes,
        }

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RotationPolicy:
        actions = [LifetimeAction(**a) for a in data["lifetime_actions"]]
        return cls(actions, data["expiry_time"], data["created"], data["updated"])
