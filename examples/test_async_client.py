"""The async SecretClient (aiohttp transport) with ``keyvault.async_credential``.

Run with ``python -m pytest examples/test_async_client.py`` (needs pytest-asyncio). The emulator answers
the async client in-process too: no ``transport=`` argument, no network.
"""

from __future__ import annotations

import asyncio

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.keyvault.secrets.aio import SecretClient


@pytest.mark.asyncio
async def test_async_round_trip(keyvault):
    keyvault.vault().secrets.set("seeded", "from the test")

    async with SecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        assert (await client.get_secret("seeded")).value == "from the test"

        await client.set_secret("written", "by the code under test")
        names = [p.name async for p in client.list_properties_of_secrets()]
        assert names == ["seeded", "written"]

        deleted = await client.delete_secret("written")  # the async client awaits its poller itself
        assert deleted.recovery_id == f"{keyvault.vault_url}/deletedsecrets/written"
        with pytest.raises(ResourceNotFoundError):
            await client.get_secret("written")
        await client.recover_deleted_secret("written")

    assert keyvault.vault().secrets.get("written").payload.value == "by the code under test"
    # The recover poller's first status check finds the secret back at once: no 2-second sleeps.
    assert keyvault.requests.operations()[-2:] == ["RecoverDeletedSecret", "GetSecret"]


@pytest.mark.asyncio
async def test_concurrent_requests(keyvault):
    async with SecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        await asyncio.gather(*(client.set_secret(f"s{i}", str(i)) for i in range(10)))
        values = await asyncio.gather(*(client.get_secret(f"s{i}") for i in range(10)))

    assert [v.value for v in values] == [str(i) for i in range(10)]
    assert len(keyvault.requests.filter("SetSecret", status=200)) == 10
