"""Helpers shared by the Event Grid tests: SDK clients as fixtures, a quick certificate policy, parsing."""

from __future__ import annotations

import datetime
import json

import pytest
from azure.eventgrid import EventGridEvent, SystemEventNames
from azure.keyvault.certificates import (
    CertificateClient,
    CertificatePolicy,
    KeyCurveName,
    KeyType,
    WellKnownIssuerNames,
)
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

__all__ = ["DAY", "SECRET_NEW", "certificates", "ec_policy", "keys", "parse", "secrets", "types_of"]

DAY = datetime.timedelta(days=1)
SECRET_NEW = SystemEventNames.KeyVaultSecretNewVersionCreatedEventName


@pytest.fixture
def secrets(keyvault):
    return SecretClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def keys(keyvault):
    return KeyClient(keyvault.vault_url, keyvault.credential)


@pytest.fixture
def certificates(keyvault):
    return CertificateClient(keyvault.vault_url, keyvault.credential)


def ec_policy(issuer: str = WellKnownIssuerNames.self, **kw) -> CertificatePolicy:
    return CertificatePolicy(
        issuer, subject="CN=app.example", key_type=KeyType.ec, key_curve_name=KeyCurveName.p_256, **kw
    )


def types_of(events) -> list[str]:
    return [e.get("eventType") or e.get("type") for e in events]


def parse(event: dict) -> EventGridEvent:
    """What an Azure Function or a webhook receiver does with one: the unmodified SDK's model."""
    return EventGridEvent.from_dict(json.loads(json.dumps(event)))
