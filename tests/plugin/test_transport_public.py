"""The public transport: ``transport=EmulatorTransport(emulator)`` gives one client the emulator, patching nothing.

Every test here uses an emulator that is never started, so no door is patched and no emulator is active
(the suite's guard, ``kv_guard = true``, would refuse any vault request that reached the network). The
transport answers through the same pipeline as ``emulate()``: the SDK's bodiless first request gets the
401 challenge (recorded: azure-sdk-for-python keyvault test recordings, e.g. test_secrets_client.yaml, 2020;
/work/shared/research/protocol.md), injected faults are retried by azure-core's retry policy, and the
journal shows both.
"""

from __future__ import annotations

import itertools

import pytest
import requests
from azure.core.exceptions import ServiceRequestError, ServiceResponseTimeoutError
from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

import kv_emulator
from kv_emulator import AsyncEmulatorTransport, Emulator, EmulatorTransport

_names = itertools.count()


@pytest.fixture
def emulator():
    """A fresh emulator, never started, on a vault host of its own.

    The SDK caches each host's challenge for the whole process; a host no other test used makes this
    client's first request the challenged one, whatever ran before.
    """
    emulator = Emulator(vault_name=f"transport-door-{next(_names)}", virtual_time=True)
    assert not emulator.started and kv_emulator.current() is None
    assert RequestsTransport.send.__qualname__ == "RequestsTransport.send"  # no door patched
    assert AioHttpTransport.send.__qualname__ == "AioHttpTransport.send"
    return emulator


@pytest.fixture
def no_requests(monkeypatch):
    """The transport answers in-process: ``requests`` is never asked."""

    def refuse(*args, **kwargs):
        raise AssertionError("requests.Session.request was called")

    monkeypatch.setattr(requests.Session, "request", refuse)


def test_sync_clients_for_secrets_keys_and_certificates(emulator, no_requests):
    transport = EmulatorTransport(emulator)
    secrets = SecretClient(emulator.vault_url, emulator.credential, transport=transport)
    keys = KeyClient(emulator.vault_url, emulator.credential, transport=transport)
    certificates = CertificateClient(emulator.vault_url, emulator.credential, transport=transport)

    secrets.set_secret("db-password", "hunter2")
    assert secrets.get_secret("db-password").value == "hunter2"
    assert keys.create_ec_key("signing", curve="P-256").key.crv == "P-256"
    certificate = certificates.begin_create_certificate("tls", CertificatePolicy.get_default()).result()
    assert certificate.name == "tls" and certificate.cer

    assert emulator.vault().secrets.get("db-password").payload.value == "hunter2"  # the emulator's own state
    operations = emulator.requests.operations()
    assert operations[:4] == ["SetSecret", "GetSecret", "CreateKey", "CreateCertificate"]
    assert operations[-1] == "GetCertificate"
    assert emulator.requests[0].challenged  # the first request of the process to this host: a 401 challenge


async def test_async_clients_for_secrets_keys_and_certificates(emulator):
    transport = AsyncEmulatorTransport(emulator)
    credential = emulator.async_credential
    async with (
        AsyncSecretClient(emulator.vault_url, credential, transport=transport) as secrets,
        AsyncKeyClient(emulator.vault_url, credential, transport=transport) as keys,
        AsyncCertificateClient(emulator.vault_url, credential, transport=transport) as certificates,
    ):
        await secrets.set_secret("db-password", "hunter2")
        assert (await secrets.get_secret("db-password")).value == "hunter2"
        assert (await keys.create_rsa_key("wrapping", size=2048)).key.kty == "RSA"
        certificate = await certificates.create_certificate("tls", CertificatePolicy.get_default())
        assert certificate.name == "tls"

    operations = emulator.requests.operations()
    assert operations[:3] == ["SetSecret", "GetSecret", "CreateKey"] and operations[-1] == "GetCertificate"
    assert emulator.requests[0].challenged


def test_an_injected_503_is_retried_by_the_sdk_and_journaled(emulator, no_real_sleep):
    emulator.vault().secrets.set("s", "v")
    emulator.faults.add(503, operation="GetSecret", times=2)
    client = SecretClient(emulator.vault_url, emulator.credential, transport=EmulatorTransport(emulator))

    assert client.get_secret("s").value == "v"
    [call] = emulator.requests.calls("GetSecret")
    assert call.statuses == [503, 503, 200] and call.retries == 2
    assert call.attempts[-2].injected  # the fault, not the vault, answered the attempts before the last
    # azure-core backs off 0 s before the first retry, then exponentially: the transport's sleep notes it for
    # the journal and, in virtual time, spends it on the emulator's clock.
    assert call.delays[0] == 0 and call.delays[1] > 0


def test_an_injected_timeout_raises_what_requests_transport_raises(emulator):
    emulator.faults.add("timeout", operation="GetSecret", times=None)
    client = SecretClient(emulator.vault_url, emulator.credential, transport=EmulatorTransport(emulator), retry_total=1)
    with pytest.raises(ServiceResponseTimeoutError):
        client.get_secret("s")
    assert emulator.requests.calls("GetSecret")[0].retries == 1


async def test_an_injected_connection_failure_is_retried_async(emulator):
    emulator.vault().secrets.set("s", "v")
    emulator.faults.connection_error(operation="GetSecret", times=1)
    transport = AsyncEmulatorTransport(emulator)
    async with AsyncSecretClient(emulator.vault_url, emulator.async_credential, transport=transport) as client:
        assert (await client.get_secret("s")).value == "v"
    [call] = emulator.requests.calls("GetSecret")
    assert call.retries == 1 and call.attempts[-2].injected


def test_a_url_the_emulator_does_not_answer_never_leaves_the_process(emulator, no_requests):
    from azure.core.rest import HttpRequest

    with EmulatorTransport(emulator) as transport, pytest.raises(ServiceRequestError, match="not a URL"):
        transport.send(HttpRequest("GET", "https://example.com/"))
    assert len(emulator.requests) == 0


def test_the_transport_works_beside_a_started_emulator(emulator):
    """A client with the transport talks to its own emulator even while another one intercepts."""
    emulator.vault().secrets.set("s", "mine")
    with kv_emulator.emulate(vault_name=emulator.settings.vault_name) as other:
        other.vault().secrets.set("s", "the other's")
        client = SecretClient(emulator.vault_url, emulator.credential, transport=EmulatorTransport(emulator))
        assert client.get_secret("s").value == "mine"
        assert other.requests.operations() == []


def test_a_credential_given_the_transport_gets_its_token_from_the_emulated_entra_id(emulator, no_requests):
    """MSAL inside ``ClientSecretCredential`` sends its requests through the transport it is given."""
    from azure.identity import ClientSecretCredential

    transport = EmulatorTransport(emulator)
    credential = ClientSecretCredential(emulator.settings.tenant_id, "app-id", "app-secret", transport=transport)
    client = SecretClient(emulator.vault_url, credential, transport=transport)
    client.set_secret("s", "v")
    assert emulator.requests.operations() == ["SetSecret"]
    assert emulator.requests.last.caller["appid"] == "app-id"  # the token the emulated Entra ID issued


def test_the_patched_door_returns_what_the_transport_returns(emulator):
    """``emulate()`` answers ``RequestsTransport`` through the same code: the same response classes."""
    from azure.core.pipeline.transport import HttpRequest as LegacyRequest
    from azure.core.rest import HttpRequest

    url = f"{emulator.vault_url}/secrets/s?api-version=2026-04-01"
    direct = EmulatorTransport(emulator)
    with kv_emulator.emulate(vault_name=emulator.settings.vault_name), RequestsTransport() as patched:
        for request in (HttpRequest("GET", url), LegacyRequest("GET", url)):
            assert type(patched.send(request)) is type(direct.send(request))
