"""The Key Vault events as Event Grid publishes them: types, the ``data`` payload, and both delivery schemas.

The shapes follow the official Event Grid spec for Key Vault (``Microsoft.KeyVault/stable/2018-01-01``):
``data`` has ``Id``, ``VaultName``, ``ObjectType``, ``ObjectName``, ``Version`` (strings) and ``NBF``,
``EXP`` (numbers, epoch seconds). The Learn page's example quotes the numbers and has stray spaces in two
names; the spec wins. Captured events show ``"NBF": null`` / ``"EXP": null`` when the object has none, an
``eventTime`` with seven fractional digits, and ``dataVersion``/``metadataVersion`` ``"1"``.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "EVENT_TYPES",
    "PREFIX",
    "SCHEMAS",
    "Event",
    "event_type",
    "format_time",
    "to_cloudevent",
    "to_eventgrid",
]

PREFIX = "Microsoft.KeyVault."
#: The ten event types a vault publishes, by their full names.
EVENT_TYPES = tuple(
    PREFIX + name
    for name in (
        "CertificateNewVersionCreated",
        "CertificateNearExpiry",
        "CertificateExpired",
        "KeyNewVersionCreated",
        "KeyNearExpiry",
        "KeyExpired",
        "SecretNewVersionCreated",
        "SecretNearExpiry",
        "SecretExpired",
        "VaultAccessPolicyChanged",
    )
)
#: Delivery schemas: ours, and the names Event Grid's ``eventDeliverySchema`` uses for them.
SCHEMAS = {
    "eventgrid": "eventgrid",
    "eventgridschema": "eventgrid",
    "cloudevents": "cloudevents",
    "cloudeventschemav1_0": "cloudevents",
}
_OBJECT_TYPES = {"secret": "Secret", "key": "Key", "certificate": "Certificate"}
_COLLECTIONS = {"secret": "secrets", "key": "keys", "certificate": "certificates"}


def event_type(kind: str, what: str) -> str:
    """``event_type("secret", "NewVersionCreated")`` -> ``Microsoft.KeyVault.SecretNewVersionCreated``."""
    return f"{PREFIX}{_OBJECT_TYPES[kind]}{what}"


def format_time(seconds: float) -> str:
    """ISO 8601 in UTC with seven fractional digits, as Event Grid writes ``eventTime``."""
    whole = math.floor(seconds)
    ticks = round((seconds - whole) * 10_000_000)
    if ticks == 10_000_000:  # rounded up into the next second
        whole, ticks = whole + 1, 0
    moment = datetime.fromtimestamp(whole, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ticks:07d}Z"


@dataclasses.dataclass(frozen=True)
class Event:
    """One published event, schema-neutral; ``sequence`` orders it among the vault's changes."""

    type: str
    time: float
    topic: str
    subject: str
    data: dict[str, Any]
    vault: str
    sequence: int
    """The change that caused it: a subscription sees events of changes made after it existed."""
    id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def for_version(
        cls,
        what: str,
        *,
        kind: str,
        vault: str,
        vault_url: str,
        topic: str,
        name: str,
        version: str,
        not_before: int | None,
        expires: int | None,
        time: float,
        sequence: int,
    ) -> Event:
        data = {
            "Id": f"{vault_url.rstrip('/')}/{_COLLECTIONS[kind]}/{name}/{version}",
            "VaultName": vault,
            "ObjectType": _OBJECT_TYPES[kind],
            "ObjectName": name,
            "Version": version,
            "NBF": not_before,
            "EXP": expires,
        }
        return cls(event_type(kind, what), time, topic, name, data, vault, sequence)

    @classmethod
    def access_policy_changed(cls, *, vault: str, vault_url: str, topic: str, time: float, sequence: int) -> Event:
        # Unverified: no captured VaultAccessPolicyChanged payload was found; the spec gives it the same
        # properties as the others. We name the vault as the object and leave version and dates empty.
        data = {
            "Id": vault_url.rstrip("/") + "/",
            "VaultName": vault,
            "ObjectType": "Vault",
            "ObjectName": vault,
            "Version": "",
            "NBF": None,
            "EXP": None,
        }
        return cls(PREFIX + "VaultAccessPolicyChanged", time, topic, vault, data, vault, sequence)

    def render(self, schema: str) -> dict[str, Any]:
        return to_cloudevent(self) if schema == "cloudevents" else to_eventgrid(self)


def to_eventgrid(event: Event) -> dict[str, Any]:
    """The Event Grid schema (what ``EventGridEvent.from_dict`` reads)."""
    return {
        "id": event.id,
        "topic": event.topic,
        "subject": event.subject,
        "eventType": event.type,
        "data": dict(event.data),
        "dataVersion": "1",
        "metadataVersion": "1",
        "eventTime": format_time(event.time),
    }


def to_cloudevent(event: Event) -> dict[str, Any]:
    """CloudEvents 1.0 in its JSON format, as captured from Key Vault (no ``datacontenttype``)."""
    return {
        "id": event.id,
        "source": event.topic,
        "specversion": "1.0",
        "type": event.type,
        "subject": event.subject,
        "time": format_time(event.time),
        "data": dict(event.data),
    }
