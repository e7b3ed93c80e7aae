"""Keys through the unmodified ``KeyClient``: create, read, update, list, delete, back up and rotate.

Run with ``python -m pytest examples/test_keys.py``. The crypto operations are in
``examples/test_crypto_interop.py``, secure key release in ``examples/test_key_release.py`` and Managed HSM
hosts (the only place with symmetric keys) in ``examples/test_managed_hsm.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.keyvault.keys import (
    KeyClient,
    KeyCurveName,
    KeyRotationLifetimeAction,
    KeyRotationPolicy,
    KeyRotationPolicyAction,
    KeyType,
)
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from cryptography.hazmat.primitives.asymmetric import ec

from kv_emulator import KeyVaultError
from kv_emulator.objects.key_material import KeyMaterial


@pytest.fixture
def client(keyvault) -> KeyClient:
    return KeyClient(keyvault.vault_url, keyvault.credential)


def test_create_a_key(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    key = client.create_rsa_key("signing-key")  # RSA 2048, e=65537, all six RSA operations
    assert key.key_type == KeyType.rsa
    assert len(key.key.n) * 8 == 2048 and key.key.e == b"\x01\x00\x01"
    assert key.key.d is None  # the private half never leaves the vault
    assert keyvault.requests.operations() == ["CreateKey"]


def test_key_types_and_their_defaults(client):
    rsa = client.create_rsa_key("rsa")
    assert rsa.key_operations == ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]

    big = client.create_rsa_key("rsa-4096", size=4096, public_exponent=65537)  # 2048, 3072 or 4096
    assert len(big.key.n) == 512

    ec_key = client.create_ec_key("ec")  # P-256 unless curve= says P-384, P-521 or P-256K
    assert ec_key.key.crv == KeyCurveName.p_256
    assert ec_key.key_operations == ["sign", "verify"]

    # hardware_protected=True makes the -HSM variant. Vaults are premium by default, so this works.
    hsm = client.create_ec_key("ec-hsm", curve=KeyCurveName.p_256_k, hardware_protected=True)
    assert hsm.key_type == KeyType.ec_hsm
    assert hsm.properties.hsm_platform == "2"  # "0" for software keys (api-version 2025-07-01 and later)
    assert ec_key.properties.hsm_platform == "0"

    # Fewer operations, tags, a validity window: all at creation.
    limited = client.create_ec_key(
        "limited",
        key_operations=["verify"],
        tags={"team": "payments"},
        expires_on=datetime(2040, 1, 1, tzinfo=timezone.utc),
    )
    assert limited.key_operations == ["verify"]
    assert limited.properties.tags == {"team": "payments"}


@pytest.mark.keyvault(sku="standard")
def test_a_standard_vault_has_no_hsm_keys(client):
    with pytest.raises(HttpResponseError) as refused:
        client.create_rsa_key("k", hardware_protected=True)
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "Forbidden"
    assert refused.value.error.message == "Hardware key operation not allowed on standard vault"
    assert client.create_rsa_key("k").key_type == KeyType.rsa  # software keys are fine


def test_versions_update_and_list(client):
    first = client.create_ec_key("k")
    second = client.create_ec_key("k", curve="P-384")  # creating again adds a version

    assert client.get_key("k").id == second.id  # the latest
    assert client.get_key("k", first.properties.version).key.crv == KeyCurveName.p_256
    assert len(list(client.list_properties_of_key_versions("k"))) == 2

    # update_key_properties changes attributes, tags and key_ops; never the key material.
    updated = client.update_key_properties("k", first.properties.version, enabled=False, tags={"old": "yes"})
    assert updated.properties.enabled is False
    assert updated.key.x == first.key.x

    client.create_rsa_key("another")
    assert [p.name for p in client.list_properties_of_keys()] == ["another", "k"]


def test_delete_recover_purge(client):
    client.create_ec_key("k")
    deleted = client.begin_delete_key("k").result()  # instant: the poller's first check finds it done
    assert deleted.recovery_id is not None and deleted.recovery_id.endswith("/deletedkeys/k")
    with pytest.raises(ResourceNotFoundError):
        client.get_key("k")
    with pytest.raises(ResourceExistsError):  # the name is taken while the key is deleted
        client.create_ec_key("k")

    client.begin_recover_deleted_key("k").wait()
    assert client.get_key("k").name == "k"

    client.begin_delete_key("k").wait()
    client.purge_deleted_key("k")
    assert list(client.list_deleted_keys()) == []


def test_backup_and_restore(client):
    original = client.create_rsa_key("k")
    blob = client.backup_key("k")  # every version, sealed with a key of this emulator
    client.begin_delete_key("k").wait()
    client.purge_deleted_key("k")

    restored = client.restore_key_backup(blob)
    assert restored.id == original.id  # same version id, same key material
    assert restored.key.n == original.key.n


def test_rotate_a_key(client):
    old = client.create_rsa_key("k", size=3072)
    new = client.rotate_key("k")  # a new version: fresh material of the same type and size
    assert new.properties.version != old.properties.version
    assert len(new.key.n) == len(old.key.n) and new.key.n != old.key.n
    assert client.get_key("k").id == new.id


def test_automatic_rotation_follows_the_emulator_clock(keyvault, client):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    original = client.create_rsa_key("k")
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            expires_in="P90D",  # each new version expires 90 days after it is made
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P30D")],
        ),
    )

    keyvault.clock.advance(days=29)
    assert client.get_key("k").id == original.id  # not yet

    keyvault.clock.advance(days=2)  # the 30-day trigger has passed: the vault rotated the key
    rotated = client.get_key("k")
    assert rotated.id != original.id
    assert rotated.properties.created_on == start + timedelta(days=30)  # made when the trigger fired
    assert rotated.properties.expires_on == start + timedelta(days=120)


def test_notify_actions_are_recorded(keyvault, client):
    start = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    key = client.create_ec_key("k", expires_on=start + timedelta(days=60))
    client.update_key_rotation_policy(
        "k",
        KeyRotationPolicy(
            lifetime_actions=[KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
        ),
    )
    keyvault.clock.advance(days=29)
    assert keyvault.vault().keys.notifications == []

    keyvault.clock.advance(days=2)  # 30 days before expiry has passed
    # Where the real service would publish an Event Grid event, the emulator keeps a list (up to date with the
    # clock whenever it is read).
    due = int((start + timedelta(days=30)).timestamp())
    assert keyvault.vault().keys.notifications == [{"name": "k", "version": key.properties.version, "time": due}]


def test_seed_and_inspect_without_http(keyvault, client):
    store = keyvault.vault().keys  # the direct-access API: no HTTP, no journal entries

    seeded = store.create("seeded", "EC", curve="P-384", tags={"seeded": "yes"})
    assert client.get_key("seeded").properties.version == seeded.version

    # A key the test knows: a private JWK (a dict) or a KeyMaterial wrapping a `cryptography` key.
    private = ec.generate_private_key(ec.SECP256R1())
    store.import_key("known", KeyMaterial("EC", private))
    assert client.get_key("known").key.x == private.public_key().public_numbers().x.to_bytes(32, "big")

    stored = store.get("known")  # .name, .version, .attributes, .tags, .payload.material, .payload.key_ops
    assert stored.payload.key_ops == ("sign", "verify")
    assert store.usable("known", None, "sign").version == stored.version  # enabled, in its window, allowed
    with pytest.raises(KeyVaultError) as refused:  # the same 403 the wire would answer
        store.usable("known", None, "encrypt")
    assert refused.value.status == 403


@pytest.mark.asyncio
async def test_the_async_key_client(keyvault):
    async with AsyncKeyClient(keyvault.vault_url, keyvault.async_credential) as client:
        key = await client.create_ec_key("k", curve="P-521")
        assert key.key.crv == KeyCurveName.p_521
        assert [p.name async for p in client.list_properties_of_keys()] == ["k"]

        deleted = await client.delete_key("k")  # the async client awaits its poller itself
        assert deleted.name == "k"
        await client.recover_deleted_key("k")
        rotated = await client.rotate_key("k")
        assert rotated.properties.version != key.properties.version

    assert keyvault.requests.operations()[-2:] == ["GetKey", "RotateKey"]  # GetKey: the recover poller's check
