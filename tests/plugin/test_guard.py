"""The guard: requests to Azure identity and Key Vault hosts fail at once while no emulator is active."""

from __future__ import annotations

import socket
import time

import aiohttp
import pytest
import requests
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from tests_support import switch_on

import kv_emulator
from kv_emulator.guard import EmulatorNotActive, Guard, refusal

NOT_ACTIVE = "kv-emulator is not active for {}: use the keyvault fixture or --kv-intercept=session"


class _Credential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("t", 4102444800)


class _AsyncCredential:
    async def get_token(self, *scopes, **kwargs):
        return AccessToken("t", 4102444800)

    async def close(self):
        pass


@pytest.fixture
def no_network(monkeypatch):
    """Every name lookup is recorded (and refused): the guard must stop requests before any."""
    looked_up: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        raise OSError(f"the test refuses to resolve {host}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield looked_up
    assert looked_up == []


@pytest.fixture
def guard(no_network):
    with Guard() as installed:
        yield installed


@pytest.mark.parametrize(
    "url",
    [
        "https://orders-prod.vault.azure.net/secrets/x",
        "https://hsm.managedhsm.azure.net/keys",
        "https://orders.vault.azure.cn/secrets/x",
        "https://orders.vault.usgovcloudapi.net/secrets/x",
        "https://pay.managedhsm.usgovcloudapi.net/keys",
        "https://login.microsoftonline.com/common/discovery/instance",
        "https://login.chinacloudapi.cn/tenant/oauth2/v2.0/token",
        "https://login.microsoftonline.us/tenant/oauth2/v2.0/token",
        "http://169.254.169.254/metadata/identity/oauth2/token",
    ],
)
def test_requests_to_azure_hosts_fail_at_once_without_an_emulator(guard, url):
    with pytest.raises(EmulatorNotActive) as caught:
        requests.get(url, timeout=5)
    assert str(caught.value) == NOT_ACTIVE.format(url)


def test_the_sync_sdk_fails_at_once_without_retries(guard):
    client = SecretClient("https://orders-prod.vault.azure.net", _Credential())
    started = time.perf_counter()
    with pytest.raises(
        EmulatorNotActive, match=r"kv-emulator is not active for https://orders-prod\.vault\.azure\.net/"
    ):
        client.get_secret("db-password")
    assert time.perf_counter() - started < 1.0  # not retried with back-off


async def test_the_async_sdk_and_raw_aiohttp_fail_at_once(guard):
    async with AsyncSecretClient("https://orders-prod.vault.azure.net", _AsyncCredential()) as client:
        with pytest.raises(EmulatorNotActive, match="kv-emulator is not active for https://orders-prod"):
            await client.get_secret("db-password")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(EmulatorNotActive) as caught:
            await session.get("https://login.microsoftonline.com/tenant/oauth2/v2.0/token")
    assert str(caught.value) == NOT_ACTIVE.format("https://login.microsoftonline.com/tenant/oauth2/v2.0/token")


@pytest.mark.parametrize(
    "url",
    [
        "https://orders.vault.azure.com/secrets/x",  # .com for .net
        "https://vault.azure.net/secrets/x",  # no vault name
        "http://orders.vault.azure.net/secrets/x",  # http
        "https://orders.vault.azure.net:8443/secrets/x",  # an odd port
        "https://orders.vaults.azure.net/secrets/x",
        "https://orders.vault.microsoftazure.de/secrets/x",  # Azure Germany, retired
    ],
)
def test_near_misses_are_refused_even_while_an_emulator_runs(guard, url):
    with kv_emulator.emulate(), pytest.raises(EmulatorNotActive) as caught:
        requests.get(url, timeout=5)
    assert str(caught.value).startswith(f"kv-emulator is not active for {url}: not a Key Vault URL")


def test_while_an_emulator_runs_its_hosts_are_answered(guard):
    with kv_emulator.emulate() as kv:
        client = SecretClient("https://orders-prod.vault.azure.net", kv.credential)
        client.set_secret("db-password", "ok")
        assert client.get_secret("db-password").value == "ok"


def test_other_hosts_are_left_alone():
    assert refusal("https://example.com/") is None
    assert refusal("http://127.0.0.1:8080/") is None
    assert refusal("http://169.254.169.253/") is None


def test_uninstall_puts_the_stacks_back():
    from urllib3.connectionpool import HTTPConnectionPool

    before = (HTTPConnectionPool.urlopen, aiohttp.BaseConnector.connect)
    guard = Guard().install()
    assert (HTTPConnectionPool.urlopen, aiohttp.BaseConnector.connect) != before
    guard.uninstall()
    assert (HTTPConnectionPool.urlopen, aiohttp.BaseConnector.connect) == before


GUARDED_TEST = """
import pytest, requests
from kv_emulator.guard import EmulatorNotActive

def test_no_emulator_here():
    with pytest.raises(EmulatorNotActive, match="kv-emulator is not active for https://x.vault.azure.net/"):
        requests.get("https://x.vault.azure.net/", timeout=5)

def test_the_fixture_is_allowed(keyvault):
    from azure.keyvault.secrets import SecretClient
    SecretClient("https://x.vault.azure.net", keyvault.credential).set_secret("a", "b")
"""


@pytest.mark.parametrize("how", ["cli", "env", "ini"])
def test_each_switch_turns_the_guard_on(pytester, monkeypatch, how):
    pytester.makepyfile(GUARDED_TEST)
    args = switch_on(how, pytester, monkeypatch, flag="--kv-guard", env=("PYTEST_KV_GUARD", "1"), ini="kv_guard = true")
    with Guard():  # the outer run may have its own guard; the inner one must work on its own too
        pass
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=2)
    source = {"cli": "command line", "env": "PYTEST_KV_GUARD", "ini": "ini"}[how]
    result.stdout.fnmatch_lines([f"kv-emulator: intercept=off (from *), guard on (from {source})"])


def test_a_credential_without_an_emulator_is_refused_before_the_network(guard):
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential("5a1e7e57-0000-4000-8000-000000000000", "app", "secret")
    with pytest.raises(
        ClientAuthenticationError, match=r"kv-emulator is not active for https://login\.microsoftonline\.com/"
    ):
        credential.get_token("https://vault.azure.net/.default")


@pytest.mark.slow
def test_traffic_through_this_process_s_server_proxy_passes_the_guard(tmp_path):
    """A kv-emulator server of this process is not the network: the guard lets its proxy's traffic through
    while no in-process emulator is active, and still refuses a near miss it would tunnel onward."""
    from kv_emulator.server import Server, ServerOptions

    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path)
    with Guard(), Server(kv_emulator.Emulator(), options) as server:
        assert kv_emulator.current() is None
        via = {"https": server.proxy_url}
        url = "https://kv-emulator.vault.azure.net/secrets?api-version=2026-04-01"
        answer = requests.get(url, proxies=via, verify=str(server.ca_path), timeout=10)
        assert answer.status_code == 401  # the emulator's challenge, through its own proxy
        with pytest.raises(EmulatorNotActive, match="not a Key Vault URL"):
            requests.get("https://kv-emulator.vault.azure.com/secrets", proxies=via, timeout=10)
    with Guard(), pytest.raises(EmulatorNotActive):  # the server is gone: the same request is refused again
        requests.get(url, proxies=via, verify=str(server.ca_path), timeout=10)
