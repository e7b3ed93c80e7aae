"""Every answer is Key Vault-shaped JSON: unknown routes, wrong methods, unimplemented operations, bugs."""

from __future__ import annotations

import re
import uuid

import pytest
from tests_support import error_of

from kv_emulator.api import HANDLERS


def test_unknown_route_is_a_key_vault_404_not_html(wire):
    response = wire.get("/nothing/here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert error_of(response) == {"code": "NotFound", "message": "No Key Vault operation matches GET /nothing/here."}


def test_wrong_method_is_a_key_vault_405(wire):
    """The service's 405 text (recorded for PUT /secrets/, 2022; see test_fidelity_routes.py)."""
    response = wire.post("/secrets")
    assert response.status_code == 405
    assert error_of(response) == {"code": "MethodNotAllowed", "message": "HTTP POST not allowed"}


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/keys/k/create", "CreateKey"),
        ("POST", "/keys/k//sign", "sign"),
        ("GET", "/certificates/contacts", "GetCertificateContacts"),
        ("POST", "/rng", "GetRandomBytes"),
    ],
)
def test_an_operation_without_a_handler_is_a_loud_501_naming_it(wire, monkeypatch, method, path, operation):
    """Every spec operation is implemented today; one that loses its handler must still fail loudly."""
    monkeypatch.delitem(HANDLERS, operation)
    response = wire.request(method, path, body={})
    assert response.status_code == 501
    error = error_of(response)
    assert error["code"] == "NotImplemented"
    assert f"'{operation}'" in error["message"]


def test_unexpected_exception_is_a_key_vault_500_recorded_in_the_journal(keyvault, wire, monkeypatch):
    def broken(ctx, name, version):
        raise RuntimeError("boom")

    monkeypatch.setitem(HANDLERS, "GetSecret", broken)
    response = wire.get("/secrets/s/")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "InternalServerError"
    assert "GetSecret" in error["message"] and "RuntimeError: boom" in error["message"]
    [failure] = keyvault.requests.internal_errors()
    assert failure.operation == "GetSecret" and "RuntimeError: boom" in failure.exception


def test_service_headers_on_success_and_error(wire):
    client_request_id = str(uuid.uuid4())
    for response in (
        wire.get("/secrets", headers={"x-ms-client-request-id": client_request_id}),
        wire.get("/secrets/missing/", headers={"x-ms-client-request-id": client_request_id}),
    ):
        headers = response.headers
        assert headers["x-ms-client-request-id"] == client_request_id
        assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-ms-request-id"])
        assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", headers["x-ms-keyvault-service-version"])
        assert headers["x-ms-keyvault-region"] == "westus"
        assert headers["Cache-Control"] == "no-cache"
        assert headers["Pragma"] == "no-cache"
        assert headers["Expires"] == "-1"
        assert headers["Content-Type"] == "application/json; charset=utf-8"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_request_ids_are_unique(wire):
    ids = {wire.get("/secrets").headers["x-ms-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.keyvault(location="japaneast")
def test_region_is_configurable(wire):
    assert wire.get("/secrets").headers["x-ms-keyvault-region"] == "japaneast"


def test_paths_are_case_insensitive_and_names_keep_their_casing(wire):
    assert wire.put("/SECRETS/MySecret", body={"value": "v"}).status_code == 200
    response = wire.get("/Secrets/mysecret/")
    assert response.status_code == 200
    assert "/secrets/MySecret/" in response.get_json()["id"]
    version = response.get_json()["id"].rsplit("/", 1)[1]
    assert wire.get(f"/secrets/MYSECRET/{version.upper()}").status_code == 200
    assert wire.get("/secrets/MySecret/VERSIONS").status_code == 200


def test_latest_version_with_and_without_trailing_slash(wire):
    wire.put("/secrets/s", body={"value": "v"})
    assert wire.get("/secrets/s").get_json()["value"] == "v"
    assert wire.get("/secrets/s/").get_json()["value"] == "v"


@pytest.mark.parametrize("base_url", ["https://kv-emulator.vault.azure.net:443", "https://other.vault.azure.net"])
def test_ids_and_links_echo_the_host_and_port_the_client_used(keyvault, wire_for, base_url):
    wire = wire_for(keyvault.app, base_url=base_url)
    wire.put("/secrets/a", body={"value": "v"})
    wire.put("/secrets/b", body={"value": "v"})
    assert wire.get("/secrets/a/").get_json()["id"].startswith(f"{base_url}/secrets/a/")
    page = wire.get("/secrets?maxresults=1").get_json()
    assert page["value"][0]["id"] == f"{base_url}/secrets/a"
    assert page["nextLink"].startswith(f"{base_url}/secrets?")
    deleted = wire.delete("/secrets/a").get_json()
    assert deleted["recoveryId"] == f"{base_url}/deletedsecrets/a"


def test_journal_records_each_request(keyvault, wire):
    wire.put("/secrets/s", body={"value": "v"}, headers={"x-ms-client-request-id": "abc"})
    wire.get("/secrets/missing/")
    put, get = keyvault.requests
    assert (put.operation, put.status, put.client_request_id, put.method) == ("SetSecret", 200, "abc", "PUT")
    assert (get.operation, get.status, get.error_code) == ("GetSecret", 404, "SecretNotFound")
    assert put.duration > 0 and put.vault == "kv-emulator.vault.azure.net"
    assert keyvault.requests.operations() == ["SetSecret", "GetSecret"]
    assert "PUT https://kv-emulator.vault.azure.net/secrets/s" in keyvault.requests.format()


@pytest.mark.parametrize("name", ["Backup", "Versions", "Restore", "Keys"])
def test_names_that_are_also_path_words_keep_their_casing(wire, name):
    response = wire.put(f"/secrets/{name}", body={"value": "v"})
    assert response.status_code == 200
    assert f"/secrets/{name}/" in response.get_json()["id"]
    assert wire.get(f"/secrets/{name.lower()}/").get_json()["value"] == "v"


def test_other_ports_are_served_and_echoed(keyvault, wire_for):
    wire = wire_for(keyvault.app, base_url="https://kv-emulator.vault.azure.net:8443")
    response = wire.put("/secrets/s", body={"value": "v"})
    assert response.get_json()["id"].startswith("https://kv-emulator.vault.azure.net:8443/secrets/s/")


def test_a_host_that_is_no_vault_is_named_as_such(keyvault, wire_for):
    response = wire_for(keyvault.app, base_url="https://localhost:8443").get("/secrets")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "VaultNotFound" and "is not a Key Vault host" in error["message"]
    assert "strict_hosts" not in error["message"]
