"""A vault owns its time: one catch_up over a schedule planned on writes, and list pages from a marker."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone

import pytest
from azure.keyvault.keys import KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy, KeyRotationPolicyAction
from azure.keyvault.secrets import SecretClient
from tests_support import wait_until

from kv_emulator.objects.certificate_policy import CertificatePolicy
from kv_emulator.objects.keypool import RsaKeyPool
from kv_emulator.objects.rotation import KeyLifetimeAction, RotationPolicy
from kv_emulator.objects.schedule import Schedule

START = datetime(2030, 1, 1, tzinfo=timezone.utc)
DAY = 86_400


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


# -- the schedule ---------------------------------------------------------------------------------------


def test_schedule_runs_phases_in_their_fixed_order_whatever_the_due_times():
    schedule = Schedule(threading.RLock())
    ran: list[tuple[str, str]] = []
    for phase in ("notify", "renew", "rotate", "purge"):
        schedule.register(phase, "x", lambda key, now, phase=phase: ran.append((phase, key)))
    schedule.plan("notify", "x", "a", 10)  # the earliest, but notifications come last
    schedule.plan("purge", "x", "b", 30)
    schedule.plan("rotate", "x", "c", 20)
    schedule.plan("renew", "x", "d", 40)
    schedule.plan("renew", "x", "late", 100)
    schedule.run(50)
    assert ran == [("purge", "b"), ("rotate", "c"), ("renew", "d"), ("notify", "a")]
    assert schedule.next_due == 100


def test_planning_again_replaces_and_none_cancels():
    schedule = Schedule(threading.RLock())
    ran: list[int] = []
    schedule.register("purge", "x", lambda key, now: ran.append(now))
    schedule.plan("purge", "x", "k", 10)
    schedule.plan("purge", "x", "k", 20)  # the first time no longer counts
    schedule.run(15)
    assert ran == []
    schedule.plan("purge", "x", "k", None)
    schedule.run(25)
    assert ran == []
    assert schedule.next_due == math.inf


def test_a_waiting_job_is_tried_on_every_run_until_it_plans_itself_away():
    schedule = Schedule(threading.RLock())
    tries: list[int] = []

    def handler(key: str, now: int) -> None:
        tries.append(now)
        if now < 3:
            schedule.wait("renew", "x", key)

    schedule.register("renew", "x", handler)
    schedule.plan("renew", "x", "k", 1)
    for now in (1, 2, 3, 4):
        schedule.run(now)
    assert tries == [1, 2, 3]
    assert schedule.next_due == math.inf


def test_a_job_that_calls_back_into_catch_up_is_a_bug_and_says_so():
    schedule = Schedule(threading.RLock())
    schedule.register("purge", "x", lambda key, now: schedule.run(now))
    schedule.plan("purge", "x", "k", 1)
    with pytest.raises(RuntimeError, match="called back into catch_up"):
        schedule.run(1)


# -- the vault plans its work on writes -----------------------------------------------------------------


def test_a_vault_with_nothing_due_plans_nothing(keyvault):
    vault = keyvault.vault()
    for i in range(200):
        vault.secrets.set(f"s{i}", "v")
        vault.keys.create(f"k{i}", "EC")
    assert vault.next_due == math.inf  # catch_up is one comparison: no object is looked at


def test_writes_plan_purges_and_rotations_at_their_due_times(keyvault):
    start = keyvault.clock.freeze(START)
    vault = keyvault.vault()
    vault.secrets.set("s", "v")
    deleted = vault.secrets.delete("s")
    assert vault.next_due == deleted.scheduled_purge_date == _ts(start) + 90 * DAY
    vault.keys.create("k", "EC")
    vault.keys.set_rotation_policy("k", RotationPolicy([KeyLifetimeAction("timeAfterCreate", "P30D", "Rotate")]))
    assert vault.next_due == _ts(start + timedelta(days=30))


def test_catch_up_alone_brings_the_vault_up_to_a_time(keyvault):
    start = keyvault.clock.freeze(START)
    vault = keyvault.vault()
    first = vault.keys.create("k", "EC")
    vault.keys.set_rotation_policy("k", RotationPolicy([KeyLifetimeAction("timeAfterCreate", "P30D", "Rotate")]))
    vault.secrets.set("s", "v")
    vault.secrets.delete("s")
    vault.catch_up(_ts(start + timedelta(days=95)))  # what the pipeline does before each request
    with vault.lock:  # read what catch_up left, without the stores' own catch-up (the clock is still at start)
        versions = list(vault.keys.peek("k").versions.values())
        assert vault.secrets.peek_deleted("s") is None
    assert [v.attributes.created for v in versions] == [
        first.attributes.created,
        _ts(start + timedelta(days=30)),
        _ts(start + timedelta(days=60)),
        _ts(start + timedelta(days=90)),
    ]
    assert vault.next_due == _ts(start + timedelta(days=120))


def test_direct_access_reads_catch_up_too(keyvault):
    keyvault.clock.freeze(START)
    vault = keyvault.vault()
    vault.secrets.set("s", "v")
    vault.secrets.delete("s")
    keyvault.clock.advance(days=91)
    assert vault.secrets.list_deleted() == []


def test_a_purged_key_forgets_its_rotation_policy(keyvault):
    keyvault.clock.freeze(START)
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_ec_key("k")
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            expires_in="P90D",
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")],
        ),
    )
    client.begin_delete_key("k").wait()
    keyvault.clock.advance(days=91)  # the deleted key's purge date passes
    client.create_ec_key("k")
    policy = client.get_key_rotation_policy("k")
    assert policy.expires_in is None
    assert [a.action for a in policy.lifetime_actions] == [KeyRotationPolicyAction.notify]


def test_a_renewed_certificate_comes_with_its_key_and_secret_at_the_time_it_was_due(keyvault):
    start = keyvault.clock.freeze(START)
    vault = keyvault.vault()
    vault.certificates.create("c", CertificatePolicy(issuer_name="Self", subject="CN=c"))
    first = vault.certificates.get("c")
    keyvault.clock.advance(days=300)  # past 80 % of twelve months
    renewed = vault.certificates.get("c")
    assert renewed.version != first.version
    due = first.attributes.not_before + (first.attributes.expires - first.attributes.not_before) * 80 // 100
    assert renewed.attributes.created == due
    assert vault.keys.get("c").version == vault.secrets.get("c").version == renewed.version
    assert _ts(start) < due


# -- list pages ------------------------------------------------------------------------------------------


def test_list_pages_continue_from_their_marker_in_name_order(keyvault):
    secrets = keyvault.vault().secrets
    for name in ("b", "D", "a", "c", "e"):
        secrets.set(name, "v")
    page, following = secrets.list_page(None, 2)
    assert [obj.name for obj in page] == ["a", "b"]
    assert following == "c"
    secrets.delete("c")  # the marker's object goes: the next page starts at the one after it
    page, following = secrets.list_page(following, 2)
    assert [obj.name for obj in page] == ["D", "e"]
    assert following is None


def test_the_sdk_lists_every_secret_once_across_pages(keyvault):
    secrets = keyvault.vault().secrets
    names = [f"secret-{i:04d}" for i in range(130)]
    for name in reversed(names):
        secrets.set(name, "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert [s.name for s in client.list_properties_of_secrets(max_page_size=7)] == names


# -- the key pool is the emulator's -----------------------------------------------------------------------


def test_the_emulator_hands_its_key_pool_to_its_vaults(keyvault):
    assert keyvault.key_pool is RsaKeyPool.shared()
    assert keyvault.vault().keys.key_pool is keyvault.key_pool
    assert keyvault.vault("https://other.managedhsm.azure.net").keys.key_pool is keyvault.key_pool


def test_a_pool_found_empty_keeps_more_of_that_size_ready():
    pool = RsaKeyPool(depth=1, max_depth=4)
    pool.shutdown()  # no worker: every take finds the pool empty and generates inline
    assert pool.depth_for(2048) == 0  # not asked for yet: none is made
    pool.take(2048)
    assert pool.depth_for(2048) == 1
    pool.take(2048)
    pool.take(2048)
    pool.take(2048)
    assert pool.depth_for(2048) == 4  # doubled each time it was found empty, up to max_depth


def test_a_renewal_that_cannot_run_yet_waits_and_runs_once_it_can(keyvault):
    keyvault.clock.freeze(START)
    vault = keyvault.vault()
    store = vault.certificates
    store.issuers.set("Test", "Test")
    store.create("c", CertificatePolicy(issuer_name="Test", subject="CN=c"))
    first = store.get("c")
    store.issuers.delete("Test")  # nothing can renew it now
    keyvault.clock.advance(days=300)
    assert store.get("c").version == first.version
    assert vault.next_due == 0  # the due renewal waits: it is tried on every catch-up
    store.issuers.set("Test", "Test")
    renewed = store.get("c")
    assert renewed.version != first.version
    assert vault.next_due > keyvault.clock.time()  # planned for the new version's trigger


@pytest.mark.slow
def test_a_request_while_the_worker_makes_its_size_takes_whichever_key_is_first_and_keeps_the_other():
    pool = RsaKeyPool(depth=1, max_depth=1)
    try:
        first = pool.take(3072)  # generated here; the worker starts on one
        second = pool.take(3072)  # none ready yet: made here too, racing the worker's
        # the slower of the two is kept for the next request
        wait_until(lambda: pool._ready[(3072, 65537)], 60, "the other key reaching the pool")
        third = pool.take(3072)
        keys = (first, second, third)
        assert len({key.public_key().public_numbers().n for key in keys}) == 3  # each key handed out once
        assert all(key.key_size == 3072 for key in keys)
    finally:
        pool.shutdown()


def test_a_certificate_expiry_moved_by_an_update_moves_its_key_notification(keyvault):
    start = keyvault.clock.freeze(START)
    vault = keyvault.vault()
    vault.certificates.create("c", CertificatePolicy(issuer_name="Self", subject="CN=c"))
    version = vault.certificates.get("c").version
    vault.certificates.update_properties("c", expires=_ts(start + timedelta(days=60)))  # mirrored to its key
    keyvault.clock.advance(days=31)
    due = _ts(start + timedelta(days=30))  # the default key policy: 30 days before the new expiry
    assert vault.keys.notifications == [{"name": "c", "version": version, "time": due}]
