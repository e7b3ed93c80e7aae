"""After any sequence of operations, an emulator loaded from a dump answers every read as the original does
(issue 20 item 2). Random sequences (hypothesis) of secret, key and certificate operations and clock moves go
through the unmodified SDK clients; then both emulators are read the same way (lists, versions, deleted
objects, values, key material, rotation policies, certificates and their policies) and compared. The
emulator's own guarantee: no Azure counterpart."""

from __future__ import annotations

import datetime
import json
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.keys import KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.secrets import SecretClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kv_emulator

OPTIONS = {"certificate_issuance_time": 0, "soft_delete_retention_in_days": 7}
START = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
NAMES = st.sampled_from(["alpha", "beta", "gamma"])

OPERATIONS = st.one_of(
    st.tuples(st.just("set_secret"), NAMES, st.text("abcxyz", min_size=1, max_size=8)),
    st.tuples(st.just("disable_secret"), NAMES),
    st.tuples(st.just("delete_secret"), NAMES),
    st.tuples(st.just("recover_secret"), NAMES),
    st.tuples(st.just("purge_secret"), NAMES),
    st.tuples(st.just("create_key"), NAMES, st.sampled_from(["RSA", "EC"])),
    st.tuples(st.just("rotate_key"), NAMES),
    st.tuples(st.just("rotation_policy"), NAMES),
    st.tuples(st.just("delete_key"), NAMES),
    st.tuples(st.just("create_certificate"), NAMES),
    st.tuples(st.just("delete_certificate"), NAMES),
    st.tuples(st.just("pending_certificate"), NAMES),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=40)),
)


def _apply(kv: kv_emulator.Emulator, operation: tuple[Any, ...]) -> None:
    secrets = SecretClient(kv.vault_url, kv.credential)
    keys = KeyClient(kv.vault_url, kv.credential)
    certificates = CertificateClient(kv.vault_url, kv.credential)
    kind, *args = operation
    try:
        if kind == "set_secret":
            secrets.set_secret(f"s-{args[0]}", args[1], tags={"n": args[1]})
        elif kind == "disable_secret":
            secrets.update_secret_properties(f"s-{args[0]}", enabled=False)
        elif kind == "delete_secret":
            secrets.begin_delete_secret(f"s-{args[0]}").wait()
        elif kind == "recover_secret":
            secrets.begin_recover_deleted_secret(f"s-{args[0]}").wait()
        elif kind == "purge_secret":
            secrets.purge_deleted_secret(f"s-{args[0]}")
        elif kind == "create_key":
            keys.create_key(f"k-{args[0]}", args[1])
        elif kind == "rotate_key":
            keys.rotate_key(f"k-{args[0]}")
        elif kind == "rotation_policy":
            action = KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P10D")
            policy = KeyRotationPolicy(lifetime_actions=[action], expires_in="P60D")
            keys.update_key_rotation_policy(f"k-{args[0]}", policy)
        elif kind == "delete_key":
            keys.begin_delete_key(f"k-{args[0]}").wait()
        elif kind == "create_certificate":
            cert_policy = CertificatePolicy(issuer_name="Self", subject=f"CN={args[0]}.example")
            certificates.begin_create_certificate(f"c-{args[0]}", cert_policy).wait()
        elif kind == "pending_certificate":  # issuer Unknown: the operation waits for a merge
            cert_policy = CertificatePolicy(issuer_name="Unknown", subject=f"CN={args[0]}.pending")
            certificates.begin_create_certificate(f"p-{args[0]}", cert_policy)
        elif kind == "delete_certificate":
            certificates.begin_delete_certificate(f"c-{args[0]}").wait()
        elif kind == "advance":
            kv.clock.advance(days=args[0])
    except HttpResponseError:
        pass  # a refusal (not found, conflict, disabled) is part of the sequence too


def _props(p: Any) -> tuple[Any, ...]:
    return (p.name, p.version, p.enabled, p.created_on, p.updated_on, p.expires_on, p.not_before, p.tags)


def _reads(kv: kv_emulator.Emulator) -> dict[str, Any]:
    """Everything a client can read, as plain values."""
    secrets = SecretClient(kv.vault_url, kv.credential)
    keys = KeyClient(kv.vault_url, kv.credential)
    certificates = CertificateClient(kv.vault_url, kv.credential)
    out: dict[str, Any] = {}
    for p in secrets.list_properties_of_secrets():
        versions = [_props(v) for v in secrets.list_properties_of_secret_versions(p.name)]
        value = secrets.get_secret(p.name).value if p.enabled else None
        out[f"secret {p.name}"] = (_props(p), sorted(versions, key=str), value)
    for d in secrets.list_deleted_secrets():
        out[f"deleted secret {d.name}"] = (d.deleted_date, d.scheduled_purge_date, d.recovery_id)
    for p in keys.list_properties_of_keys():
        versions = [_props(v) for v in keys.list_properties_of_key_versions(p.name)]
        key = keys.get_key(p.name)
        policy = keys.get_key_rotation_policy(p.name)
        rotation = (policy.expires_in, [(a.action, a.time_after_create) for a in policy.lifetime_actions])
        out[f"key {p.name}"] = (_props(p), sorted(versions, key=str), key.key.n or key.key.x, rotation)
    for d in keys.list_deleted_keys():
        out[f"deleted key {d.name}"] = (d.deleted_date, d.scheduled_purge_date)
    for p in certificates.list_properties_of_certificates():
        certificate = certificates.get_certificate(p.name)
        versions = [_props(v) for v in certificates.list_properties_of_certificate_versions(p.name)]
        policy = certificate.policy
        out[f"certificate {p.name}"] = (_props(p), sorted(versions, key=str), certificate.cer, policy.subject)
        try:
            operation = certificates.get_certificate_operation(p.name)
            out[f"operation {p.name}"] = (operation.status, operation.csr, operation.request_id, operation.issuer_name)
        except HttpResponseError as error:
            out[f"operation {p.name}"] = error.status_code
    for d in certificates.list_deleted_certificates():
        out[f"deleted certificate {d.name}"] = (d.deleted_on, d.scheduled_purge_date)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPERATIONS, min_size=1, max_size=12))
def test_a_loaded_dump_answers_every_read_as_the_original(operations: list[tuple[Any, ...]]) -> None:
    original = kv_emulator.Emulator(**OPTIONS)
    original.clock.freeze(START)
    with original:
        for operation in operations:
            _apply(original, operation)
        expected = _reads(original)
        document = json.loads(json.dumps(original.export_state()))
    loaded = kv_emulator.Emulator(**OPTIONS).import_state(document)
    with loaded:
        assert _reads(loaded) == expected
        assert loaded.export_state() == document
