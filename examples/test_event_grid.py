"""Event Grid notifications: react to Key Vault events in a test, on the emulator's clock.

Run with ``python -m pytest examples/test_events.py``. The guide is docs/events.md.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import responses
from azure.eventgrid import EventGridEvent, SystemEventNames
from azure.keyvault.certificates import (
    CertificateClient,
    CertificatePolicy,
    CertificatePolicyAction,
    LifetimeAction,
    WellKnownIssuerNames,
)
from azure.keyvault.secrets import SecretClient

# -- 1. a rotation handler driven by SecretNewVersionCreated ----------------------------------------------


class ConnectionPool:
    """The code under test: reconnects with the new password whenever the secret gets a new version."""

    def __init__(self, secrets: SecretClient) -> None:
        self.secrets = secrets
        self.password = secrets.get_secret("db-password").value

    def on_event(self, event: dict) -> None:
        parsed = EventGridEvent.from_dict(event)
        if parsed.event_type == SystemEventNames.KeyVaultSecretNewVersionCreatedEventName:
            self.password = self.secrets.get_secret(parsed.subject, parsed.data["Version"]).value


def test_rotation_handler_picks_up_the_new_password(keyvault):
    secrets = SecretClient(keyvault.vault_url, keyvault.credential)
    secrets.set_secret("db-password", "first")
    pool = ConnectionPool(secrets)
    keyvault.events.subscribe(pool.on_event, types=["SecretNewVersionCreated"], subject_begins_with="db-")

    secrets.set_secret("db-password", "second")  # the handler runs before set_secret returns

    assert pool.password == "second"


# -- 2. a renewal job driven by CertificateNearExpiry -----------------------------------------------------


def test_renewal_job_runs_30_days_before_expiry(keyvault):
    keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    certificates = CertificateClient(keyvault.vault_url, keyvault.credential)
    renewals = []

    def renew(event: dict) -> None:  # what an Azure Function bound to the event would do
        renewals.append((event["subject"], event["eventTime"]))
        certificates.begin_create_certificate(event["subject"], CertificatePolicy.get_default()).result()

    keyvault.events.subscribe(renew, types=["CertificateNearExpiry"])
    email_only = [LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=10)]  # no auto-renew
    policy = CertificatePolicy(
        WellKnownIssuerNames.self, subject="CN=shop.example", validity_in_months=3, lifetime_actions=email_only
    )
    first = certificates.begin_create_certificate("shop", policy).result()
    expires = first.properties.expires_on

    keyvault.clock.advance(days=59)
    assert renewals == []
    keyvault.clock.advance(days=31)  # passes expiry - 30 days: the event falls due, once

    due = (expires - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    assert renewals == [("shop", due)]  # eventTime is when it fell due, not when the clock jumped
    assert certificates.get_certificate("shop").properties.version != first.properties.version


# -- 3. a webhook, with Event Grid's validation handshake -------------------------------------------------

WEBHOOK = "https://alerts.example.com/api/keyvault-events"


def webhook(request):
    """A receiver as an Azure Function or App Service endpoint implements it."""
    (event,) = json.loads(request.body)
    if request.headers["aeg-event-type"] == "SubscriptionValidation":
        return 200, {}, json.dumps({"validationResponse": event["data"]["validationCode"]})
    received.append(event)
    return 200, {}, ""


received: list[dict] = []


def test_webhook_receives_events_after_validating(keyvault):
    received.clear()
    with responses.RequestsMock() as mock:  # the test's own mock answers the endpoint
        mock.add_callback(responses.POST, WEBHOOK, callback=webhook)
        subscription = keyvault.events.subscribe(endpoint=WEBHOOK, types=["VaultAccessPolicyChanged"])
        keyvault.vault().authorization.set_access_policy("ops-team-object-id", secrets=["get", "list"])

    assert [e["eventType"] for e in received] == ["Microsoft.KeyVault.VaultAccessPolicyChanged"]
    assert subscription.dead_letters == []
