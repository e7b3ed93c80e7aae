"""Event Grid notifications: every Key Vault event type, caused the way the service causes it, parsed by the
unmodified ``azure-eventgrid`` and ``cloudevents`` libraries. Webhook delivery is in test_events_webhooks.py."""

from __future__ import annotations

import concurrent.futures
import datetime
import gc
import json
import weakref

import pytest
from azure.eventgrid import SystemEventNames
from azure.keyvault.certificates import (
    CertificatePolicyAction,
    LifetimeAction,
    WellKnownIssuerNames,
)
from azure.keyvault.keys import KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from cloudevents.core.bindings.http import HTTPMessage, from_http
from cloudevents.core.formats.json import JSONFormat
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from events_support import DAY, SECRET_NEW, ec_policy, parse, types_of
from tests_support import self_signed

import kv_emulator
from kv_emulator.events import EVENT_TYPES, format_time
from kv_emulator.objects.key_material import KeyMaterial

# -- shapes -------------------------------------------------------------------------------------------------


def test_every_event_type_is_one_azure_eventgrid_knows():
    known = {getattr(SystemEventNames, n) for n in dir(SystemEventNames) if n.startswith("KeyVault")}
    assert set(EVENT_TYPES) == known and len(EVENT_TYPES) == 10


def test_secret_new_version_created_as_on_the_wire(keyvault, secrets):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=datetime.timezone.utc))
    subscription = keyvault.events.subscribe()
    nbf = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    made = secrets.set_secret("db-password", "hunter2", not_before=nbf, expires_on=nbf + 365 * DAY)

    (event,) = subscription.received
    assert list(event) == [
        "id", "topic", "subject", "eventType", "data", "dataVersion", "metadataVersion", "eventTime"
    ]  # fmt: skip
    assert event["topic"] == (
        "/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/kv-emulator"
        "/providers/Microsoft.KeyVault/vaults/kv-emulator"
    )
    assert event["subject"] == "db-password" and event["eventType"] == SECRET_NEW
    assert event["eventTime"] == "2030-01-01T12:00:00.2500000Z"
    assert (event["dataVersion"], event["metadataVersion"]) == ("1", "1")
    assert event["data"] == {
        "Id": made.id,
        "VaultName": "kv-emulator",
        "ObjectType": "Secret",
        "ObjectName": "db-password",
        "Version": made.properties.version,
        "NBF": int(nbf.timestamp()),
        "EXP": int((nbf + 365 * DAY).timestamp()),
    }
    parsed = parse(event)
    assert parsed.event_type == SECRET_NEW and parsed.data["Version"] == made.properties.version
    assert parsed.event_time == datetime.datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=datetime.timezone.utc)


def test_absent_dates_are_null_as_the_service_sends_them(keyvault, secrets):
    subscription = keyvault.events.subscribe()
    secrets.set_secret("plain", "x")
    (event,) = subscription.received
    assert event["data"]["NBF"] is None and event["data"]["EXP"] is None


def test_cloudevents_schema_parses_with_the_cloudevents_package(keyvault, secrets):
    subscription = keyvault.events.subscribe(schema="cloudevents")
    made = secrets.set_secret("api-key", "v1")
    (event,) = subscription.received
    assert set(event) == {"id", "source", "specversion", "type", "subject", "time", "data"}
    message = HTTPMessage({"content-type": "application/cloudevents+json"}, json.dumps(event).encode())
    parsed = from_http(message, JSONFormat())
    assert parsed.get_type() == SECRET_NEW and parsed.get_specversion() == "1.0"
    assert parsed.get_source() == keyvault.vault().authorization.resource_id
    assert parsed.get_subject() == "api-key" and parsed.get_data()["Id"] == made.id


def test_raw_http_through_the_wsgi_app_publishes_too(keyvault, wire):
    handled = []
    keyvault.events.subscribe(handled.append)
    answer = wire.put("/secrets/raw", body={"value": "x"})
    assert answer.status_code == 200
    assert [e["data"]["Id"] for e in handled] == [answer.json["id"]]
    assert wire.put("/secrets/bad_name", body={"value": "x"}).status_code == 400  # nothing made, nothing sent
    assert len(handled) == 1


# -- what causes NewVersionCreated ---------------------------------------------------------------------------


def test_every_way_of_making_a_secret_or_key_version_announces_it(keyvault, secrets, keys):
    subscription = keyvault.events.subscribe()
    secrets.set_secret("s", "1")
    secrets.set_secret("s", "2")
    keys.create_ec_key("k", curve="P-256")
    keys.rotate_key("k")
    keyvault.vault().keys.import_key("imported", KeyMaterial("EC", ec.generate_private_key(ec.SECP256R1())))
    keyvault.vault().secrets.set("direct", "seeded without HTTP")
    received = subscription.received
    assert types_of(received) == [SECRET_NEW] * 2 + [SystemEventNames.KeyVaultKeyNewVersionCreatedEventName] * 3 + [
        SECRET_NEW
    ]
    assert [e["subject"] for e in received] == ["s", "s", "k", "k", "imported", "direct"]
    assert len({e["data"]["Version"] for e in received}) == 6
    for event in received:
        parse(event)


def test_updates_restores_and_recoveries_make_no_new_version_so_no_event(keyvault, secrets):
    secrets.set_secret("kept", "1")
    backup = secrets.backup_secret("kept")
    subscription = keyvault.events.subscribe()
    secrets.update_secret_properties("kept", enabled=False)
    secrets.begin_delete_secret("kept").wait()
    secrets.begin_recover_deleted_secret("kept").wait()
    secrets.begin_delete_secret("kept").wait()
    secrets.purge_deleted_secret("kept")
    secrets.restore_secret_backup(backup)
    assert subscription.received == []


def test_rotation_by_policy_is_announced_when_it_fell_due(keyvault, keys):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    keys.create_ec_key("rotating", curve="P-256")
    keys.update_key_rotation_policy(
        "rotating",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")]
        ),
    )
    seen_at = []
    subscription = keyvault.events.subscribe(
        lambda event: seen_at.append(keyvault.clock.now()), types=["KeyNewVersionCreated"]
    )
    keyvault.clock.advance(days=65)  # no request: the clock's move alone delivers
    times = [e["eventTime"] for e in subscription.received]
    assert times == ["2030-01-31T00:00:00.0000000Z", "2030-03-02T00:00:00.0000000Z"]
    assert seen_at == [
        datetime.datetime(2030, 1, 31, tzinfo=datetime.timezone.utc),
        datetime.datetime(2030, 3, 2, tzinfo=datetime.timezone.utc),
    ]  # the jump halted at each rotation (the vault's schedule says when)


def test_a_certificate_announces_itself_its_key_and_its_secret_once_issued(keyvault, certificates):
    subscription = keyvault.events.subscribe()
    cert = certificates.begin_create_certificate("web", ec_policy()).result()
    received = subscription.received
    assert sorted(types_of(received)) == sorted(
        [
            SystemEventNames.KeyVaultKeyNewVersionCreatedEventName,
            SystemEventNames.KeyVaultSecretNewVersionCreatedEventName,
            SystemEventNames.KeyVaultCertificateNewVersionCreatedEventName,
        ]
    )
    assert {e["data"]["Version"] for e in received} == {cert.properties.version}
    (announced,) = [e for e in received if e["data"]["ObjectType"] == "Certificate"]
    assert announced["data"]["Id"] == cert.id
    assert announced["data"]["EXP"] == int(cert.properties.expires_on.timestamp())


def test_a_merge_announces_the_version_when_it_completes_not_when_pending(keyvault, certificates):
    subscription = keyvault.events.subscribe(types=["CertificateNewVersionCreated"])
    operation = certificates.begin_create_certificate("ext", ec_policy(WellKnownIssuerNames.unknown)).result()
    assert subscription.received == []  # pending: nothing issued yet
    csr = x509.load_der_x509_csr(bytes(operation.csr))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_name)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 90 * DAY)
        .sign(ca_key, hashes.SHA256())
    )
    merged = certificates.merge_certificate("ext", [leaf.public_bytes(serialization.Encoding.DER)])
    (event,) = subscription.received
    assert event["data"]["Version"] == merged.properties.version


def test_an_imported_certificate_is_announced(keyvault, certificates):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed(key, "imported.example")
    pfx = pkcs12.serialize_key_and_certificates(b"c", key, cert, None, serialization.NoEncryption())
    subscription = keyvault.events.subscribe(types=["CertificateNewVersionCreated", "CertificateNearExpiry"])
    imported = certificates.import_certificate("imported", pfx)
    assert [(e["eventType"].split(".")[-1], e["data"]["Version"]) for e in subscription.received] == [
        ("CertificateNewVersionCreated", imported.properties.version),
        ("CertificateNearExpiry", imported.properties.version),  # 30 days left at import: near expiry at once
    ]


def test_auto_renewal_is_announced_at_the_moment_it_fell_due(keyvault, certificates):
    keyvault.clock.freeze(datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    policy = ec_policy(
        validity_in_months=1,
        lifetime_actions=[LifetimeAction(CertificatePolicyAction.auto_renew, days_before_expiry=10)],
    )
    certificates.begin_create_certificate("short", policy).result()
    subscription = keyvault.events.subscribe(types=["CertificateNewVersionCreated"])
    keyvault.clock.advance(days=25)
    (renewed,) = subscription.received
    assert renewed["eventTime"] == "2030-01-22T00:00:00.0000000Z"  # 10 days before 1 February


def test_only_changes_made_after_subscribing_are_delivered(keyvault, secrets):
    secrets.set_secret("early", "1", expires_on=datetime.datetime.now(datetime.timezone.utc) + 40 * DAY)
    subscription = keyvault.events.subscribe()
    secrets.set_secret("late", "1")
    keyvault.clock.advance(days=45)  # "early" expires, but it was made before the subscription
    assert [e["subject"] for e in subscription.received] == ["late"]
    assert [e["subject"] for e in keyvault.events.published] == ["early", "late", "early", "early"]


async def test_async_clients_cause_the_same_events(keyvault):
    subscription = keyvault.events.subscribe()
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.set_secret("from-async", "1")
    assert [e["subject"] for e in subscription.received] == ["from-async"]


# -- access policies ------------------------------------------------------------------------------------


def test_access_policy_changes_and_the_rbac_switch_are_announced(keyvault):
    authorization = keyvault.vault().authorization
    authorization.rbac = False  # the emulator's checks switched on (access policies): not a service event
    subscription = keyvault.events.subscribe(types=["VaultAccessPolicyChanged"])
    authorization.set_access_policy("00000000-0000-0000-0000-000000000001", secrets=["get"])
    authorization.remove_access_policy("00000000-0000-0000-0000-000000000001")
    authorization.remove_access_policy("00000000-0000-0000-0000-000000000001")  # nothing left: no change
    authorization.rbac = True  # access policies -> Azure RBAC
    authorization.rbac = True  # the same model: no change
    received = subscription.received
    assert len(received) == 3
    event = parse(received[0])
    assert event.event_type == SystemEventNames.KeyVaultVaultAccessPolicyChangedEventName
    assert event.subject == "kv-emulator" and event.data["VaultName"] == "kv-emulator"


def test_a_control_plane_style_batch_of_policy_changes_is_one_event_and_none_without_a_change(keyvault):
    authorization = keyvault.vault().authorization
    authorization.set_access_policy("00000000-0000-0000-0000-0000000000a1", secrets=["get"])
    subscription = keyvault.events.subscribe(types=["VaultAccessPolicyChanged"])
    authorization.set_access_policy("00000000-0000-0000-0000-0000000000a1", secrets=["get"])  # the same: no change
    with authorization.batch():  # what a PUT of the vault does: every policy replaced
        authorization.remove_access_policy("00000000-0000-0000-0000-0000000000a1")
        authorization.set_access_policy("00000000-0000-0000-0000-0000000000a1", secrets=["get"])
    assert subscription.received == []
    with authorization.batch():
        authorization.remove_access_policy("00000000-0000-0000-0000-0000000000a1")
        authorization.set_access_policy("00000000-0000-0000-0000-0000000000a1", secrets=["get", "list"])
        authorization.rbac = False
    assert len(subscription.received) == 1


def test_the_topic_is_the_vaults_resource_id_as_the_control_plane_sets_it(keyvault, secrets):
    vault = keyvault.vault()
    vault.authorization.resource_id = (
        "/subscriptions/1234/resourceGroups/prod/providers/Microsoft.KeyVault/vaults/kv-emulator"
    )
    subscription = keyvault.events.subscribe()
    secrets.set_secret("s", "1")
    assert subscription.received[0]["topic"] == vault.authorization.resource_id


# -- filters and bad input -------------------------------------------------------------------------------


def test_filters_select_by_type_subject_and_vault(keyvault, secrets, keys):
    by_prefix = keyvault.events.subscribe(subject_begins_with="DB-")  # case-insensitive, as Event Grid's default
    by_suffix = keyvault.events.subscribe(subject_ends_with="-key")
    keys_only = keyvault.events.subscribe(types="KeyNewVersionCreated")
    elsewhere = keyvault.events.subscribe(vault="https://other.vault.azure.net")
    secrets.set_secret("db-password", "1")
    secrets.set_secret("api-key", "1")
    keys.create_ec_key("signing-key", curve="P-256")
    SecretClient("https://other.vault.azure.net", keyvault.credential).set_secret("there", "1")
    assert [e["subject"] for e in by_prefix.received] == ["db-password"]
    assert [e["subject"] for e in by_suffix.received] == ["api-key", "signing-key"]
    assert [e["subject"] for e in keys_only.received] == ["signing-key"]
    assert [e["subject"] for e in elsewhere.received] == ["there"]
    assert elsewhere.received[0]["topic"].endswith("/vaults/other")


async def _async_handler(event):
    pass


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"types": ["SecretCreated"]}, "unknown Key Vault event type"),
        ({"types": []}, "can never match"),
        ({"schema": "cloudevents-0.1"}, "unknown schema"),
        ({"subject_begins_with": "/secrets/"}, "can never match"),
        ({"subject_ends_with": "db_password"}, "can never match"),
        ({"endpoint": "ftp://example.com/hook"}, "http(s) URL"),
        ({"endpoint": "not a url"}, "http(s) URL"),
        ({"handler": "not callable"}, "callable"),
        ({"handler": _async_handler}, "called synchronously"),
        ({"vault": "not a vault!"}, "not a vault name"),
        ({"name": "a b"}, "3-64 letters"),
        ({"vault": "https://hsm1.managedhsm.azure.net"}, "Managed HSMs publish no"),
    ],
)
def test_subscribe_refuses_what_can_never_work(keyvault, arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        keyvault.events.subscribe(**arguments)
    assert keyvault.events.subscriptions == []


def test_a_failing_handler_does_not_break_the_request(keyvault, secrets):
    def broken(event):
        raise RuntimeError("handler bug")

    subscription = keyvault.events.subscribe(broken)
    assert secrets.set_secret("s", "1").value == "1"
    assert secrets.get_secret("s").value == "1"
    (error,) = subscription.errors
    assert isinstance(error.error, RuntimeError) and "handler bug" in error.traceback
    assert error.event["subject"] == "s" and len(subscription.received) == 1
    assert keyvault.requests.internal_errors() == []


@pytest.mark.slow
def test_handler_errors_appear_in_pytests_failure_report(pytester):
    pytester.makepyfile(
        """
        from azure.keyvault.secrets import SecretClient

        def test_rotation(keyvault):
            def handler(event):
                raise ValueError("cannot rotate " + event["subject"])
            keyvault.events.subscribe(handler)
            SecretClient(keyvault.vault_url, keyvault.credential).set_secret("db", "1")
            assert False, "the test fails for its own reason"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*kv-emulator event handler errors*",
            "subscription kv-emulator-1, Microsoft.KeyVault.SecretNewVersionCreated for 'db':",
            "*ValueError: cannot rotate db*",
        ]
    )


def test_a_handler_may_call_the_vault_itself(keyvault, secrets):
    seen = []

    def rotate_dependents(event):
        seen.append(secrets.get_secret(event["subject"]).value)
        if event["subject"] == "primary":
            secrets.set_secret("replica", "copied")

    keyvault.events.subscribe(rotate_dependents, types=["SecretNewVersionCreated"])
    secrets.set_secret("primary", "v1")
    assert seen == ["v1", "copied"]


def test_clear_and_reset_forget_subscriptions_and_events(keyvault, secrets):
    subscription = keyvault.events.subscribe()
    secrets.set_secret("s", "1")
    keyvault.events.clear()
    assert keyvault.events.published == [] and keyvault.events.subscriptions == []
    secrets.set_secret("s", "2")
    assert len(subscription.received) == 1
    keyvault.events.subscribe()
    keyvault.reset()
    assert keyvault.events.subscriptions == []


def test_the_management_view_of_a_subscription_is_plain_json(keyvault, secrets):
    subscription = keyvault.events.subscribe(types="SecretNewVersionCreated", subject_begins_with="db-", name="ops")
    secrets.set_secret("db-1", "x")
    described = json.loads(json.dumps(subscription.to_dict()))
    assert described == {
        "name": "ops",
        "endpoint": None,
        "types": [SECRET_NEW],
        "subject_begins_with": "db-",
        "subject_ends_with": None,
        "schema": "eventgrid",
        "vault": None,
        "received": 1,
        "dead_letters": 0,
        "errors": 0,
    }
    assert keyvault.events.subscription("OPS") is subscription
    with pytest.raises(ValueError, match="exists already"):
        keyvault.events.subscribe(name="ops")
    keyvault.events.unsubscribe(subscription)
    secrets.set_secret("db-2", "x")
    assert len(subscription.received) == 1 and keyvault.events.subscriptions == []


def test_managed_hsms_publish_no_key_vault_events(keyvault):
    subscription = keyvault.events.subscribe()
    keyvault.vault("https://hsm1.managedhsm.azure.net").keys.create("k", "EC-HSM", curve="P-256")
    assert subscription.received == [] and keyvault.events.published == []


def test_concurrent_requests_each_event_delivered_once(keyvault, secrets):
    subscription = keyvault.events.subscribe()
    secrets.set_secret("warm-up", "x")
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda i: secrets.set_secret(f"s{i % 5}", str(i)), range(40)))
    versions = [e["data"]["Version"] for e in subscription.received]
    assert len(versions) == 41 and len(set(versions)) == 41


def test_event_times_have_seven_fractional_digits():
    assert format_time(1893456000) == "2030-01-01T00:00:00.0000000Z"
    assert format_time(1893456000.1234567) == "2030-01-01T00:00:00.1234567Z"
    assert format_time(1893456000.99999999) == "2030-01-01T00:00:01.0000000Z"


def test_events_keep_no_reference_cycle_an_emulator_is_freed_by_reference_counting():
    gc.collect()
    gc.disable()
    try:
        with kv_emulator.emulate() as emulator:
            received: list[dict] = []
            subscription = emulator.events.subscribe(received.append)
            client = SecretClient(emulator.vault_url, emulator.credential)
            client.set_secret("a", "b", expires_on=emulator.clock.now() + 2 * DAY)
            emulator.clock.advance(days=3)
            emulator.vault().authorization.set_access_policy("00000000-0000-0000-0000-0000000000b1", keys=["get"])
            refs = [weakref.ref(o) for o in (emulator, emulator.events, emulator.vault(), emulator.vault().secrets)]
        del emulator, client
        assert [ref() for ref in refs] == [None] * len(refs)
        assert len(received) == 4 and subscription.received == received  # the subscription outlives it
    finally:
        gc.enable()
