"""The fast door: sync SDK calls are answered at azure-core's transport, without the ``requests`` stack."""

from __future__ import annotations

from typing import ClassVar

import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.secrets import SecretClient


def test_sdk_calls_to_a_vault_never_reach_requests(keyvault, monkeypatch):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)

    def refuse(*args, **kwargs):
        raise AssertionError("requests.Session.request was called for a vault URL")

    monkeypatch.setattr(requests.Session, "request", refuse)
    assert client.get_secret("s").value == "v"
    assert [p.name for p in client.list_properties_of_secrets()] == ["s"]
    assert keyvault.requests.operations() == ["GetSecret", "GetSecrets"]


class SendOverridingTransport(RequestsTransport):
    """A user's transport with its own ``send``: the fast door cannot see inside it."""

    sent: ClassVar[list[str]] = []

    def send(self, request, **kwargs):
        self.sent.append(request.url)
        self.open()
        response = self.session.request(request.method, request.url, headers=request.headers, data=request.data)
        from azure.core.rest._requests_basic import RestRequestsTransportResponse

        wrapped = RestRequestsTransportResponse(request=request, internal_response=response)
        wrapped.read()
        return wrapped


def test_a_transport_that_overrides_send_is_served_by_the_requests_door(keyvault):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential, transport=SendOverridingTransport())
    assert client.get_secret("s").value == "v"
    assert SendOverridingTransport.sent and keyvault.requests.operations() == ["GetSecret"]


def test_streamed_and_legacy_requests_get_what_requests_transport_returns(keyvault):
    from azure.core.pipeline.transport import HttpRequest as LegacyRequest
    from azure.core.rest import HttpRequest

    keyvault.vault().secrets.set("s", "v")
    token = keyvault.credential.get_token("https://vault.azure.net/.default").token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{keyvault.vault_url}/secrets/s?api-version=2026-04-01"
    with RequestsTransport() as transport:
        streamed = transport.send(HttpRequest("GET", url, headers=headers), stream=True)
        assert streamed.status_code == 200 and b"".join(streamed.iter_bytes()).startswith(b'{"value":"v"')
        legacy = transport.send(LegacyRequest("GET", url, headers=headers))
        assert legacy.status_code == 200 and legacy.text().startswith('{"value":"v"')


def test_an_emulator_is_freed_by_reference_counting_and_leaves_no_patch(monkeypatch):
    """No reference cycle keeps an emulator (and its vaults) alive after ``emulate()``: with the cycle
    collector off, dropping the last reference frees it; and the transports are as they were."""
    import gc
    import weakref

    from azure.core.pipeline.transport import AioHttpTransport

    import kv_emulator

    sends = (RequestsTransport.send, AioHttpTransport.send)
    gc.collect()
    gc.disable()
    try:
        with kv_emulator.emulate() as emulator:
            client = SecretClient(emulator.vault_url, emulator.credential)
            client.set_secret("a", "b")
            assert client.get_secret("a").value == "b"
            refs = [weakref.ref(o) for o in (emulator, emulator.app, emulator.vault(), emulator.vault().secrets)]
        del emulator, client
        assert [ref() for ref in refs] == [None] * len(refs)
    finally:
        gc.enable()
    assert (RequestsTransport.send, AioHttpTransport.send) == sends
