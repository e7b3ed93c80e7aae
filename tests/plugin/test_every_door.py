"""Every door behaves the same: one fault script through each door gives the same outcome and journal.

The doors: the sync SDK (answered at azure-core's ``RequestsTransport``), raw ``requests`` (answered through
``responses``, as MSAL's token requests are), the async SDK (answered at azure-core's ``AioHttpTransport``)
the werkzeug test client on the WSGI app, and the HTTPS server through its proxy (real sockets: a dropped
connection, a silence the client times out on). Each sends single attempts (no SDK retries), so the outcome of
every scripted step is visible: an HTTP status, the door's own connection error, its own timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from werkzeug.test import Client

from kv_emulator import Emulator
from kv_emulator.http.transport import InjectedConnectionError, InjectedTimeout
from kv_emulator.server import Server, ServerOptions

SCRIPT = [503, "connection_error", "timeout", "ok"]
EXPECTED = ["503", "connection", "timeout", "ok"]


def _sdk_outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, HttpResponseError) and exc.status_code:
        return str(exc.status_code)
    if isinstance(exc, ServiceRequestError):
        return "connection"
    if isinstance(exc, ServiceResponseError):
        return "timeout"
    raise AssertionError(f"unexpected {exc!r}")


def _sync_sdk(emulator: Emulator, request: pytest.FixtureRequest) -> Callable[[], str]:
    client = SecretClient(emulator.vault_url, emulator.credential, retry_total=0)

    def attempt() -> str:
        try:
            assert client.get_secret("s").value == "v"
        except Exception as exc:
            return _sdk_outcome(exc)
        return "ok"

    return attempt


def _async_sdk(emulator: Emulator, request: pytest.FixtureRequest) -> Callable[[], str]:
    def attempt() -> str:
        async def once() -> str:
            async with AsyncSecretClient(emulator.vault_url, emulator.async_credential, retry_total=0) as client:
                try:
                    assert (await client.get_secret("s")).value == "v"
                except Exception as exc:
                    return _sdk_outcome(exc)
                return "ok"

        return asyncio.run(once())

    return attempt


def _requests_attempt(emulator: Emulator, **options: Any) -> Callable[[], str]:
    """One GET through plain ``requests`` (``options``: proxies, verify, timeout), told as the doors tell it."""

    def attempt() -> str:
        try:
            response = requests.get(
                f"{emulator.vault_url}/secrets/s?api-version=2026-04-01",
                headers={"Authorization": "Bearer token"},
                **options,
            )
        except requests.exceptions.ReadTimeout:
            return "timeout"
        except requests.exceptions.ConnectionError:
            return "connection"
        assert response.status_code != 200 or response.json()["value"] == "v"
        return "ok" if response.status_code == 200 else str(response.status_code)

    return attempt


def _raw_requests(emulator: Emulator, request: pytest.FixtureRequest) -> Callable[[], str]:
    return _requests_attempt(emulator, timeout=5)


def _test_client(emulator: Emulator, request: pytest.FixtureRequest) -> Callable[[], str]:
    client = Client(emulator.app)

    def attempt() -> str:
        try:
            response = client.get(
                "/secrets/s?api-version=2026-04-01",
                base_url=emulator.vault_url,
                headers={"Authorization": "Bearer token"},
            )
        except InjectedConnectionError:
            return "connection"
        except InjectedTimeout:
            return "timeout"
        assert response.status_code != 200 or response.json["value"] == "v"
        return "ok" if response.status_code == 200 else str(response.status_code)

    return attempt


def _server(emulator: Emulator, request: pytest.FixtureRequest) -> Callable[[], str]:
    emulator.stop()  # the in-process doors would answer first: this door is the socket server alone
    data_dir = request.getfixturevalue("tmp_path")
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=data_dir, fault_timeout=3.0)
    server = Server(emulator, options).start()
    request.addfinalizer(server.stop)

    return _requests_attempt(
        emulator,
        proxies={"https": server.proxy_url},
        verify=str(server.ca_path),
        timeout=(5, 1.0),  # read timeout shorter than the server's silence
    )


DOORS = {
    "azure-core-requests-transport": _sync_sdk,
    "requests-via-responses": _raw_requests,
    "azure-core-aiohttp-transport": _async_sdk,
    "test-client": _test_client,
    "https-server-proxy": _server,
}


# The server door starts a real server on loopback sockets: slow (tests/README.md), the other doors are in-process.
@pytest.fixture(
    params=[pytest.param(d, marks=pytest.mark.slow) if d == "https-server-proxy" else d for d in sorted(DOORS)]
)
def door(request, keyvault):
    keyvault.vault().secrets.set("s", "v")
    return DOORS[request.param](keyvault, request)


def test_the_same_fault_script_has_the_same_outcome_through_every_door(door, keyvault):
    keyvault.faults.script("GetSecret", SCRIPT)
    outcomes = [door() for _ in SCRIPT]
    assert outcomes == EXPECTED
    attempts = [e for e in keyvault.requests.filter("GetSecret") if not e.challenged]
    assert [e.status for e in attempts] == [503, 0, 0, 200]
    assert [e.injected for e in attempts] == ["fault 503", "fault connection_error", "fault timeout", None]


@pytest.mark.slow
def test_real_latency_is_waited_out_by_every_door(door, keyvault):
    keyvault.faults.latency(0.25, operation="GetSecret", times=1)
    started = time.perf_counter()
    assert door() == "ok"
    assert time.perf_counter() - started >= 0.25
    assert [e.injected for e in keyvault.requests.filter("GetSecret") if not e.challenged] == ["fault latency"]


@pytest.mark.keyvault(virtual_time=True)
def test_virtual_latency_costs_every_door_no_wall_time(door, keyvault, no_real_sleep):
    keyvault.faults.latency(30.0, operation="GetSecret", times=1)
    before = keyvault.clock.time()
    assert door() == "ok"
    assert keyvault.clock.time() - before >= 30
