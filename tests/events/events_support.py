"""Helpers shared by the Event Grid tests in this folder: a quick certificate policy, parsing (the SDK client
fixtures are in tests/conftest.py)."""

from __future__ import annotations

import datetime
import json

from azure.eventgrid import EventGridEvent, SystemEventNames
from azure.keyvault.certificates import (
    CertificatePolicy,
    KeyCurveName,
    KeyType,
    WellKnownIssuerNames,
)

__all__ = ["DAY", "SECRET_NEW", "ec_policy", "parse", "types_of"]

DAY = datetime.timedelta(days=1)
SECRET_NEW = SystemEventNames.KeyVaultSecretNewVersionCreatedEventName


def ec_policy(issuer: str = WellKnownIssuerNames.self, **kw) -> CertificatePolicy:
    return CertificatePolicy(
        issuer, subject="CN=app.example", key_type=KeyType.ec, key_curve_name=KeyCurveName.p_256, **kw
    )


def types_of(events) -> list[str]:
    return [e.get("eventType") or e.get("type") for e in events]


def parse(event: dict) -> EventGridEvent:
    """What an Azure Function or a webhook receiver does with one: the unmodified SDK's model."""
    return EventGridEvent.from_dict(json.loads(json.dumps(event)))
