"""Only vault hosts are intercepted; everything else, including users' own responses mocks, keeps working."""

from __future__ import annotations

import threading

import pytest
import requests
import responses
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from requests.adapters import HTTPAdapter
from tests_support import error_of
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import kv_emulator


@pytest.fixture(scope="module")
def local_server():
    """A real HTTP server on loopback: a test that also talks to one must keep working."""

    @Request.application
    def app(request):
        return Response(f"hello from {request.path}", content_type="text/plain")

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_other_hosts_go_out_untouched_sync(keyvault, local_server):
    assert requests.get(f"{local_server}/ping", timeout=5).text == "hello from /ping"
    assert len(keyvault.requests) == 0


async def test_other_hosts_go_out_untouched_async(keyvault, local_server):
    async with AioHttpTransport() as transport:
        response = await transport.send(HttpRequest("GET", f"{local_server}/async"))
        await response.read()
        assert response.text() == "hello from /async"
    assert len(keyvault.requests) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://myvault.vault.microsoftazure.de/secrets",  # Azure Germany: retired, not emulated
        "https://vault.azure.net/secrets",
        "https://example.com/?x=a.vault.azure.net",
        "http://myvault.vault.azure.net/secrets",
        "https://myvault.vault.azure.net.evil.com/",
        "https://myvault.vault.azure.net:8443/",
    ],
)
def test_non_vault_urls_are_not_claimed(keyvault, url):
    assert not keyvault.handles(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://myvault.vault.azure.net/secrets",
        "https://MyVault.Vault.Azure.Net:443/x",
        "https://a1-b.vault.azure.net",
    ],
)
def test_vault_urls_are_claimed(keyvault, url):
    assert keyvault.handles(url)


@responses.activate
def test_users_responses_mock_started_after_the_emulator(keyvault):
    responses.get("https://api.example.com/config", json={"feature": True})
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("s", "v")
    assert requests.get("https://api.example.com/config", timeout=5).json() == {"feature": True}
    assert client.get_secret("s").value == "v"
    assert len(responses.calls) == 1  # the user's mock saw only its own URL


def test_users_responses_mock_started_before_the_emulator():
    with responses.RequestsMock() as user_mock:
        user_mock.get("https://api.example.com/config", json={"feature": True})
        with kv_emulator.emulate() as kv:
            client = SecretClient(kv.vault_url, kv.credential)
            client.set_secret("s", "v")
            assert requests.get("https://api.example.com/config", timeout=5).json() == {"feature": True}
            assert client.get_secret("s").value == "v"


def test_stop_restores_the_transports():
    before_sync, before_async = HTTPAdapter.send, AioHttpTransport.send
    on_request = responses.RequestsMock._on_request
    with kv_emulator.emulate():
        assert HTTPAdapter.send is not before_sync
        assert AioHttpTransport.send is not before_async
    assert HTTPAdapter.send is before_sync
    assert AioHttpTransport.send is before_async
    assert responses.RequestsMock._on_request is on_request


def test_nested_emulators_inner_wins_then_outer_resumes():
    with kv_emulator.emulate() as outer:
        outer.vault().secrets.set("where", "outer")
        client = SecretClient(outer.vault_url, outer.credential)
        with kv_emulator.emulate() as inner:
            inner.vault().secrets.set("where", "inner")
            assert client.get_secret("where").value == "inner"
        assert client.get_secret("where").value == "outer"


async def test_async_client_needs_no_transport_argument(keyvault):
    keyvault.vault().secrets.set("s", "v")
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        assert (await client.get_secret("s")).value == "v"
    assert keyvault.requests.operations() == ["GetSecret"]


def test_each_vault_host_is_its_own_vault(keyvault):
    a = SecretClient("https://vault-a.vault.azure.net", keyvault.credential)
    b = SecretClient("https://vault-b.vault.azure.net", keyvault.credential)
    a.set_secret("s", "in a")
    b.set_secret("s", "in b")
    assert a.get_secret("s").value == "in a"
    assert keyvault.vault("https://vault-b.vault.azure.net").secrets.get("s").payload.value == "in b"
    assert sorted(v.name for v in keyvault.vaults) == ["vault-a", "vault-b"]


@pytest.mark.keyvault(strict_hosts=True, vaults=["declared"])
def test_strict_hosts_refuses_undeclared_vaults(keyvault, wire_for):
    undeclared = wire_for(keyvault.app, base_url="https://undeclared.vault.azure.net").get("/secrets")
    assert undeclared.status_code == 404
    assert error_of(undeclared)["code"] == "VaultNotFound"
    assert "strict_hosts" in error_of(undeclared)["message"]
    assert wire_for(keyvault.app, base_url="https://declared.vault.azure.net").get("/secrets").status_code == 200
    assert wire_for(keyvault.app, base_url=keyvault.vault_url).get("/secrets").status_code == 200
    keyvault.vault("seeded")  # declaring through direct access
    assert wire_for(keyvault.app, base_url="https://seeded.vault.azure.net").get("/secrets").status_code == 200


def test_reset_forgets_state_but_keeps_settings():
    with kv_emulator.emulate(soft_delete_retention_in_days=7) as kv:
        kv.vault().secrets.set("s", "v")
        kv.clock.freeze()
        SecretClient(kv.vault_url, kv.credential).list_properties_of_secrets().next()
        kv.reset()
        assert list(kv.vault().secrets) == [] and len(kv.requests) == 0 and not kv.clock.frozen
        assert kv.settings.soft_delete_retention_in_days == 7


def test_each_emulator_starts_with_a_fresh_sdk_challenge_cache():
    """The SDK caches challenges process-wide; every emulator's journal starts the same way regardless."""
    for _ in range(2):
        with kv_emulator.emulate() as kv:
            SecretClient(kv.vault_url, kv.credential).set_secret("s", "v")
            assert [entry.status for entry in kv.requests] == [401, 200]
