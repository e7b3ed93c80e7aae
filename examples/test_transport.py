"""One client, no patching: ``transport=kv_emulator.EmulatorTransport(emulator)``.

Run with ``python -m pytest examples/test_transport.py`` (the async test needs pytest-asyncio). The emulator
here is never started, so nothing in the process is patched: only the clients given the transport reach it,
and every other client goes wherever it would have gone.
"""

from __future__ import annotations

import pytest
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

from kv_emulator import AsyncEmulatorTransport, Emulator, EmulatorTransport


def test_one_client_with_the_emulator_transport():
    emulator = Emulator()  # not started: nothing in the process is patched
    transport = EmulatorTransport(emulator)
    client = SecretClient(emulator.vault_url, emulator.credential, transport=transport)

    client.set_secret("db-password", "hunter2")
    assert client.get_secret("db-password").value == "hunter2"
    assert emulator.requests.operations() == ["SetSecret", "GetSecret"]  # the same journal as emulate()


def test_faults_and_the_journal_work_the_same():
    emulator = Emulator(virtual_time=True)  # the retry policy's back-off is spent on the emulator's clock
    emulator.vault().secrets.set("s", "v")
    emulator.faults.add(503, operation="GetSecret", times=2)
    client = SecretClient(emulator.vault_url, emulator.credential, transport=EmulatorTransport(emulator))

    assert client.get_secret("s").value == "v"  # the SDK retried twice
    assert emulator.requests.calls("GetSecret")[0].statuses == [503, 503, 200]


@pytest.mark.asyncio
async def test_the_async_transport():
    emulator = Emulator()
    transport = AsyncEmulatorTransport(emulator)
    async with AsyncSecretClient(emulator.vault_url, emulator.async_credential, transport=transport) as client:
        await client.set_secret("db-password", "hunter2")
        assert (await client.get_secret("db-password")).value == "hunter2"


def test_with_the_keyvault_fixture(keyvault):
    """The fixture's emulator works as well: the transport answers from it directly."""
    client = SecretClient(keyvault.vault_url, keyvault.credential, transport=EmulatorTransport(keyvault))
    client.set_secret("s", "v")
    assert keyvault.vault().secrets.get("s").payload.value == "v"
