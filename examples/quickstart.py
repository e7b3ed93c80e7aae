"""Quickstart: the unmodified Azure SDK for Python talking to an in-process Key Vault.

Run it with ``python examples/quickstart.py``. Nothing leaves the process: no Azure account, no network,
no sleeping pollers. Every step prints one line and asserts what it prints.
"""

from __future__ import annotations

import asyncio

from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

import kv_emulator


def show(step: str, detail: object) -> None:
    print(f"{step:<10} {detail}")


def sync_tour(kv: kv_emulator.Emulator) -> None:
    client = SecretClient(kv.vault_url, kv.credential)

    # Set and get: a new version each time a value is set.
    first = client.set_secret("db-password", "hunter2", content_type="text/plain", tags={"team": "payments"})
    assert first.value == "hunter2"
    assert first.id == f"{kv.vault_url}/secrets/db-password/{first.properties.version}"
    show("set", f"{first.name} = {first.value!r} (version {first.properties.version[:8]}...)")

    second = client.set_secret("db-password", "correct horse battery staple")
    assert second.properties.version != first.properties.version
    latest = client.get_secret("db-password")
    assert latest.value == "correct horse battery staple"
    show("get", f"{latest.name} = {latest.value!r}")

    older = client.get_secret("db-password", first.properties.version)
    assert older.value == "hunter2"
    show("get old", f"{older.name} version {first.properties.version[:8]}... = {older.value!r}")

    # List: names (values are never listed) and the versions of one secret.
    client.set_secret("api-key", "abc123")
    names = [p.name for p in client.list_properties_of_secrets()]
    assert names == ["api-key", "db-password"]
    show("list", ", ".join(names))
    versions = list(client.list_properties_of_secret_versions("db-password"))
    assert len(versions) == 2
    show("versions", f"db-password has {len(versions)} versions")

    # Update properties (never the value): tags, content type, enabled, expiry.
    updated = client.update_secret_properties("db-password", content_type="text/plain", tags={"rotated": "yes"})
    assert updated.tags == {"rotated": "yes"}
    assert updated.version == second.properties.version
    show("update", f"db-password tags = {updated.tags}")

    # Delete: a soft delete; the poller finishes at once because deletion is instant in the emulator.
    deleted = client.begin_delete_secret("db-password").result()
    assert deleted.recovery_id == f"{kv.vault_url}/deletedsecrets/db-password"
    assert deleted.properties.recovery_level == "Recoverable+Purgeable"
    show("delete", f"db-password deleted, purge scheduled {deleted.scheduled_purge_date:%Y-%m-%d}")
    try:
        client.get_secret("db-password")
        raise AssertionError("a deleted secret cannot be read")
    except ResourceNotFoundError as error:
        assert error.error is not None and error.error.code == "SecretNotFound"
        show("get", f"db-password -> {error.status_code} {error.error.code}")
    deleted_names = [d.name for d in client.list_deleted_secrets()]
    assert deleted_names == ["db-password"]
    show("deleted", ", ".join(deleted_names))

    # Recover: back with every version.
    recovered = client.begin_recover_deleted_secret("db-password").result()
    assert recovered.name == "db-password"
    assert client.get_secret("db-password").value == "correct horse battery staple"
    show("recover", "db-password is back")

    # Backup, delete and purge, restore: all versions come back with their ids.
    blob = client.backup_secret("api-key")
    client.begin_delete_secret("api-key").wait()
    client.purge_deleted_secret("api-key")
    assert "api-key" not in [p.name for p in client.list_properties_of_secrets()]
    restored = client.restore_secret_backup(blob)
    assert restored.name == "api-key"
    assert client.get_secret("api-key").value == "abc123"
    show("restore", f"api-key restored from a {len(blob)}-byte backup")


async def async_tour(kv: kv_emulator.Emulator) -> None:
    # The async client (aiohttp transport) reaches the same emulator.
    async with AsyncSecretClient(kv.vault_url, kv.async_credential) as client:
        secret = await client.set_secret("async-secret", "from asyncio")
        assert (await client.get_secret("async-secret")).value == "from asyncio"
        show("async", f"{secret.name} = {secret.value!r}")
        poller = await client.delete_secret("async-secret")
        assert poller.name == "async-secret"
        await client.recover_deleted_secret("async-secret")
        names = [p.name async for p in client.list_properties_of_secrets()]
        assert names == ["api-key", "async-secret", "db-password"]
        show("async", "list: " + ", ".join(names))


def main() -> None:
    with kv_emulator.emulate() as kv:
        show("vault", kv.vault_url)
        sync_tour(kv)
        asyncio.run(async_tour(kv))

        # The journal: every request the emulator answered, by spec operation name.
        operations = kv.requests.operations()
        assert operations[0] == "SetSecret"
        assert "BackupSecret" in operations and "RestoreSecret" in operations
        assert not kv.requests.internal_errors()
        show("journal", f"{len(operations)} operations, first {operations[0]}, last {operations[-1]}")
    print("quickstart: ok")


if __name__ == "__main__":
    main()
