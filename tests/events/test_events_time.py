"""Event Grid notifications on the emulator's clock: near expiry and expired, in order, once each, stamped when
they fell due; a jump of the clock halts where something falls due."""

from __future__ import annotations

import datetime

from azure.eventgrid import SystemEventNames
from azure.keyvault.certificates import CertificatePolicyAction, LifetimeAction
from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from events_support import DAY, SECRET_NEW, ec_policy, parse, types_of

# -- near expiry and expired ------------------------------------------------------------------------------


def test_near_expiry_and_expired_fall_due_in_order_once_each(keyvault, secrets, certificates):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    subscription = keyvault.events.subscribe(
        types=[
            "SecretNearExpiry",
            "SecretExpired",
            "Microsoft.KeyVault.CertificateNearExpiry",
            "Microsoft.KeyVault.CertificateExpired",
        ]
    )
    secrets.set_secret("a", "1", expires_on=start + 40 * DAY)  # near expiry on day 10, expired day 40
    secrets.set_secret("b", "1", expires_on=start + 35 * DAY)  # day 5, day 35
    keyvault.clock.advance(days=31)
    assert [(e["eventType"].split(".")[-1], e["subject"], e["eventTime"][:10]) for e in subscription.received] == [
        ("SecretNearExpiry", "b", "2030-01-06"),
        ("SecretNearExpiry", "a", "2030-01-11"),
    ]
    keyvault.clock.advance(days=31)
    keyvault.clock.advance(days=31)
    assert [(e["eventType"].split(".")[-1], e["subject"]) for e in subscription.received] == [
        ("SecretNearExpiry", "b"),
        ("SecretNearExpiry", "a"),
        ("SecretExpired", "b"),
        ("SecretExpired", "a"),
    ]
    for event in subscription.received:
        assert parse(event).data["EXP"] is not None


def test_a_version_expiring_within_30_days_is_near_expiry_at_once(keyvault, secrets):
    keyvault.clock.freeze()
    subscription = keyvault.events.subscribe()
    secrets.set_secret("soon", "1", expires_on=keyvault.clock.now() + 10 * DAY)
    assert types_of(subscription.received) == [SECRET_NEW, SystemEventNames.KeyVaultSecretNearExpiryEventName]
    assert subscription.received[0]["eventTime"] == subscription.received[1]["eventTime"]


def test_certificates_and_keys_expire_too(keyvault, certificates, keys):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    subscription = keyvault.events.subscribe(types=["CertificateNearExpiry", "CertificateExpired", "KeyExpired"])
    emails_only = [LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=10)]  # no renewal
    certificates.begin_create_certificate("cert", ec_policy(validity_in_months=2, lifetime_actions=emails_only))
    keys.create_ec_key("plain-key", curve="P-256", expires_on=start + 20 * DAY)
    keyvault.clock.advance(days=70)
    assert [(e["eventType"].split(".")[-1], e["subject"], e["eventTime"][:10]) for e in subscription.received] == [
        ("KeyExpired", "plain-key", "2030-01-21"),
        ("CertificateNearExpiry", "cert", "2030-01-30"),  # 30 days before 1 March
        ("KeyExpired", "cert", "2030-03-01"),  # the certificate's own key expires with it
        ("CertificateExpired", "cert", "2030-03-01"),
    ]


def test_a_certificate_that_renews_itself_is_announced_instead_of_expiring(keyvault, certificates):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    certificates.begin_create_certificate("cert", ec_policy(validity_in_months=2)).result()  # renews at 80 %
    subscription = keyvault.events.subscribe(types=["CertificateNewVersionCreated", "CertificateExpired"])
    keyvault.clock.advance(days=70)
    assert types_of(subscription.received) == [SystemEventNames.KeyVaultCertificateNewVersionCreatedEventName]


def test_a_jump_stops_where_an_event_falls_due_so_the_handler_acts_at_that_moment(keyvault, certificates):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    emails_only = [LifetimeAction(CertificatePolicyAction.email_contacts, days_before_expiry=10)]
    policy = ec_policy(validity_in_months=3, lifetime_actions=emails_only)
    handled_at = []

    def renew(event):
        handled_at.append(keyvault.clock.now())
        certificates.begin_create_certificate("shop", policy).result()

    keyvault.events.subscribe(renew, types=["CertificateNearExpiry"])
    expired = keyvault.events.subscribe(types=["CertificateExpired"])
    first = certificates.begin_create_certificate("shop", policy).result()
    keyvault.clock.advance(days=100)  # one call; the clock halts at the near-expiry moment on the way

    due = first.properties.expires_on - 30 * DAY
    assert handled_at == [due]
    renewed = certificates.get_certificate("shop")
    assert renewed.properties.created_on == due  # the handler's renewal is stamped when it ran
    assert expired.received == []  # renewed before the first version expired: never the current one to expire


def test_key_near_expiry_follows_the_rotation_policys_notify_action(keyvault, keys):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    subscription = keyvault.events.subscribe(types=["KeyNearExpiry"])
    keys.create_ec_key("k", curve="P-256", expires_on=start + 100 * DAY)
    keys.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P60D")]
        ),
    )
    keyvault.clock.advance(days=39)
    assert subscription.received == []
    keyvault.clock.advance(days=2)
    (event,) = subscription.received
    assert event["eventTime"][:10] == "2030-02-10"  # 100 - 60 days after the start


def test_a_replaced_version_never_expires_as_the_current_one(keyvault, secrets):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    subscription = keyvault.events.subscribe(types=["SecretNearExpiry", "SecretExpired"])
    secrets.set_secret("s", "old", expires_on=start + 40 * DAY)
    keyvault.clock.advance(days=5)
    secrets.set_secret("s", "new")  # no expiry; the old one is not the current version anymore
    keyvault.clock.advance(days=60)
    assert subscription.received == []


def test_moving_the_expiry_moves_the_events(keyvault, secrets):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    keyvault.clock.freeze(start)
    subscription = keyvault.events.subscribe(types=["SecretExpired"])
    secrets.set_secret("s", "1", expires_on=start + 100 * DAY)
    secrets.update_secret_properties("s", expires_on=start + 2 * DAY)
    keyvault.clock.advance(days=3)
    (event,) = subscription.received
    assert event["eventTime"][:10] == "2030-01-03"


def test_events_are_delivered_even_if_the_clock_is_set_back(keyvault, secrets):
    keyvault.clock.freeze(datetime.datetime(2030, 6, 1, tzinfo=datetime.timezone.utc))
    subscription = keyvault.events.subscribe()
    keyvault.vault().secrets.set("direct", "x")  # queued until the next delivery moment: the clock's move
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    secrets.set_secret("after", "x")
    received = subscription.received
    assert [e["subject"] for e in received] == ["direct", "after"]
    assert [e["eventTime"][:10] for e in received] == ["2030-06-01", "2030-01-01"]  # each its own moment
