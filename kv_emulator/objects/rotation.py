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

__all__ = ["KeyLifetimeAction", "RotationPolicy", "add_duration", "parse_duration"]

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
class KeyLifetimeAction:
    """``Rotate`` or ``Notify`` a duration after creation or before expiry (the wire form is the handlers')."""

    trigger: str  # "timeAfterCreate" or "timeBeforeExpiry"
    duration: str
    action: str  # "Rotate" or "Notify"


@dataclasses.dataclass
class RotationPolicy:
    lifetime_actions: list[KeyLifetimeAction]
    expiry_time: str | None = None
    created: int | None = None
    updated: int | None = None

    @classmethod
    def default(cls) -> RotationPolicy:
        """What the service returns for a key that never had a policy: notify 30 days before expiry."""
        return cls([KeyLifetimeAction("timeBeforeExpiry", DEFAULT_NOTIFY, "Notify")])

    def complete(self) -> RotationPolicy:
        """Check the service's rules (as documented; message texts unverified) and keep a ``Notify`` action, as
        the service does; returns ``self``."""
        expiry = self.expiry_time
        if expiry is not None and _approximate_days(expiry, "expiryTime") < MIN_EXPIRY_DAYS:
            raise BadParameter(f"The expiryTime of a rotation policy must be at least {MIN_EXPIRY_DAYS} days.")
        for entry in self.lifetime_actions:
            if _approximate_days(entry.duration, entry.trigger) < MIN_TRIGGER_DAYS:
                raise BadParameter(f"A lifetime action trigger must be at least {MIN_TRIGGER_DAYS} days.")
            rotate = entry.action == "Rotate"
            if entry.trigger == "timeBeforeExpiry" and expiry is None and rotate:
                raise BadParameter("A timeBeforeExpiry trigger to rotate needs an expiryTime in the policy.")
            if expiry is not None and rotate:
                # Documented rule: rotation at least 7 days after creation and 7 days before expiry.
                lifetime = _approximate_days(expiry, "expiryTime")
                after_create = _approximate_days(entry.duration, entry.trigger)
                if entry.trigger == "timeBeforeExpiry":
                    after_create = lifetime - after_create
                if after_create < MIN_TRIGGER_DAYS or lifetime - after_create < MIN_TRIGGER_DAYS:
                    raise BadParameter(
                        f"Rotation must happen at least {MIN_TRIGGER_DAYS} days after creation and "
                        f"{MIN_TRIGGER_DAYS} days before expiry."
                    )
        if not any(a.action == "Notify" for a in self.lifetime_actions):
            # The service always keeps a Notify action (recorded: an empty list comes back with it).
            self.lifetime_actions.append(KeyLifetimeAction("timeBeforeExpiry", DEFAULT_NOTIFY, "Notify"))
        return self

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

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RotationPolicy:
        actions = [KeyLifetimeAction(**a) for a in data["lifetime_actions"]]
        return cls(actions, data["expiry_time"], data["created"], data["updated"])
