"""The async SecretClient (aiohttp transport, unmodified) against the emulator: every operation."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError


@pytest.fixture
def client(async_secrets):
    """The async SecretClient under test (tests/sdk/conftest.py)."""
    return async_secrets


async def test_challenge_then_set_and_get(client, keyvault):
    secret = await client.set_secret("s", "v", content_type="text/plain", tags={"a": "b"})
    assert [e.status for e in keyvault.requests] == [401, 200]
    fetched = await client.get_secret("s")
    assert (fetched.value, fetched.properties.content_type, fetched.properties.tags) == ("v", "text/plain", {"a": "b"})
    assert fetched.id == secret.id
    older = await client.set_secret("s", "v2")
    assert (await client.get_secret("s", secret.properties.version)).value == "v"
    assert (await client.get_secret("s")).properties.version == older.properties.version


async def test_update_and_list(client):
    for i in range(4):
        await client.set_secret(f"s{i}", "v")
    await client.set_secret("s0", "v2")
    updated = await client.update_secret_properties("s0", tags={"t": "x"}, enabled=False)
    assert updated.tags == {"t": "x"} and updated.enabled is False
    names = [p.name async for p in client.list_properties_of_secrets(max_page_size=3)]
    assert names == ["s0", "s1", "s2", "s3"]
    versions = [p.version async for p in client.list_properties_of_secret_versions("s0", max_page_size=1)]
    assert len(versions) == 2


async def test_errors_map_to_sdk_exceptions(client):
    with pytest.raises(ResourceNotFoundError) as missing:
        await client.get_secret("missing")
    assert missing.value.error.code == "SecretNotFound"
    await client.set_secret("off", "v", enabled=False)
    with pytest.raises(HttpResponseError) as disabled:
        await client.get_secret("off")
    assert disabled.value.status_code == 403 and disabled.value.error.innererror == {"code": "SecretDisabled"}


async def test_delete_recover_purge_without_sleeping(client, keyvault, no_real_sleep):
    await client.set_secret("s", "v")
    deleted = await client.delete_secret("s")
    assert deleted.recovery_id.endswith("/deletedsecrets/s")
    assert [d.name async for d in client.list_deleted_secrets()] == ["s"]
    assert (await client.get_deleted_secret("s")).name == "s"
    with pytest.raises(ResourceExistsError):
        await client.set_secret("s", "again")
    recovered = await client.recover_deleted_secret("s")
    assert recovered.name == "s"
    assert (await client.get_secret("s")).value == "v"
    await client.delete_secret("s")
    await client.purge_deleted_secret("s")
    with pytest.raises(ResourceNotFoundError):
        await client.get_deleted_secret("s")
    assert "PurgeDeletedSecret" in keyvault.requests.operations()


async def test_backup_restore(client):
    await client.set_secret("s", "v")
    blob = await client.backup_secret("s")
    await client.delete_secret("s")
    await client.purge_deleted_secret("s")
    restored = await client.restore_secret_backup(blob)
    assert restored.name == "s"
    assert (await client.get_secret("s")).value == "v"
    with pytest.raises(HttpResponseError) as refused:
        await client.restore_secret_backup(b"not a backup")
    assert refused.value.error.code == "Malformed backup blob"
