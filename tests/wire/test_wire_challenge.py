"""The 401 challenge comes first, with the service's exact header and body."""

from __future__ import annotations

import json

import pytest
from azure.keyvault.secrets import SecretClient

import kv_emulator
from kv_emulator.config import DEFAULT_TENANT_ID

CHALLENGE_BODY = {
    "error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token."}
}


def _header(tenant: str) -> str:
    return f'Bearer authorization="https://login.microsoftonline.com/{tenant}", resource="https://vault.azure.net"'


def test_request_without_token_gets_exact_challenge(wire):
    response = wire.get("/secrets/anything/", token=False)
    assert response.status_code == 401
    assert json.loads(response.data) == CHALLENGE_BODY
    assert response.headers["WWW-Authenticate"] == _header(DEFAULT_TENANT_ID)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/no/such/route", {}),
        ("PUT", "/secrets/bad_name!", {"raw": b"{not json"}),
        ("GET", "/secrets", {"api_version": "1999-99-99"}),
        ("GET", "/secrets", {"api_version": None}),
        ("POST", "/keys/k/create", {}),
    ],
)
def test_challenge_comes_before_routing_version_and_body(wire, method, path, kwargs):
    response = wire.request(method, path, token=False, **kwargs)
    assert response.status_code == 401
    assert json.loads(response.data) == CHALLENGE_BODY


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz"])
def test_missing_or_empty_bearer_token_is_challenged(wire, authorization):
    response = wire.get("/secrets", token=False, headers={"Authorization": authorization})
    assert response.status_code == 401


def test_a_never_challenged_request_with_a_token_is_served(wire):
    response = wire.get("/secrets")
    assert response.status_code == 200
    assert response.get_json() == {"value": [], "nextLink": None}


def test_tenant_comes_from_azure_tenant_id(monkeypatch, wire_for):
    monkeypatch.setenv("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555")
    emulator = kv_emulator.Emulator()
    response = wire_for(emulator.app).get("/secrets", token=False)
    assert response.headers["WWW-Authenticate"] == _header("11111111-2222-3333-4444-555555555555")


def test_tenant_is_configurable(wire_for):
    emulator = kv_emulator.Emulator(tenant_id="contoso-tenant")
    response = wire_for(emulator.app).get("/secrets", token=False)
    assert response.headers["WWW-Authenticate"] == _header("contoso-tenant")


def test_sdk_follows_the_challenge_and_asks_for_the_vault_scope(keyvault):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert client.get_secret("s").value == "v"
    first, second = keyvault.requests
    assert first.challenged and first.operation is None
    assert second.operation == "GetSecret" and second.status == 200
    assert first.client_request_id == second.client_request_id
    scopes, options = keyvault.credential.requests[-1]
    assert scopes == ("https://vault.azure.net/.default",)
    assert options["tenant_id"] == keyvault.settings.tenant_id


def test_challenged_put_keeps_its_body(keyvault):
    """The SDK's first PUT is bodiless; after the challenge the real body must arrive and be stored."""
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("s", "the-value", content_type="text/plain")
    assert [e.status for e in keyvault.requests] == [401, 200]
    assert keyvault.vault().secrets.get("s").payload.value == "the-value"
