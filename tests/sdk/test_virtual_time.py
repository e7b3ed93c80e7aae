"""Virtual time: the SDK's back-off sleeps advance the emulator's clock instead of the wall clock."""

from __future__ import annotations

import asyncio

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient


@pytest.mark.keyvault(virtual_time=True)
def test_three_retries_sleep_on_the_emulator_clock(keyvault, no_real_sleep):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    keyvault.faults.add(503, operation="GetSecret", times=None)
    clock_before = keyvault.clock.time()
    with pytest.raises(HttpResponseError):
        client.get_secret("s")  # 4.8 s of back-off in real time
    assert keyvault.clock.time() - clock_before == pytest.approx(4.8, abs=0.2)
    assert keyvault.requests.calls("GetSecret")[-1].delays == [0.0, 1.6, 3.2]


@pytest.mark.keyvault(virtual_time=True)
async def test_async_back_off_is_virtual_too(keyvault, no_real_sleep):
    keyvault.vault().secrets.set("s", "v")
    keyvault.faults.script("GetSecret", [503, 503, "ok"])
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        assert (await client.get_secret("s")).value == "v"
    assert keyvault.requests.calls("GetSecret")[-1].delays == [0.0, 1.6]


def test_virtual_time_can_be_switched_on_in_a_test(keyvault, no_real_sleep):
    assert keyvault.clock.virtual is False
    keyvault.clock.virtual = True
    keyvault.vault().secrets.set("s", "v")
    keyvault.faults.script("GetSecret", [429, 429, "ok"])
    before = keyvault.clock.time()
    SecretClient(keyvault.vault_url, keyvault.credential).get_secret("s")
    assert keyvault.clock.time() - before >= 1.6  # the second retry's back-off, spent on the emulator's clock


def test_real_sleeps_are_recorded_too(keyvault):
    """Without virtual time the SDK really sleeps, and the journal still shows how long."""
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential, retry_backoff_factor=0.05)
    keyvault.faults.script("GetSecret", [503, 503, "ok"])
    client.get_secret("s")
    assert keyvault.requests.calls("GetSecret")[-1].delays == [0.0, pytest.approx(0.1)]


def test_sleep_patches_are_removed_on_stop():
    from azure.core.pipeline.transport import AsyncHttpTransport, HttpTransport

    import kv_emulator

    before = (HttpTransport.sleep, AsyncHttpTransport.sleep)
    with kv_emulator.emulate(virtual_time=True):
        assert HttpTransport.sleep is not before[0]
    assert (HttpTransport.sleep, AsyncHttpTransport.sleep) == before
    asyncio.run(asyncio.sleep(0))  # the event loop's own sleep was never touched
