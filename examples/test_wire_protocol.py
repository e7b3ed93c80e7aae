"""The wire protocol, raw: what the SDK sees, through werkzeug's test client and no SDK at all.

Run with ``python -m pytest examples/test_wire_protocol.py``. ``Emulator.app`` is the one WSGI app behind
every door, so it can be called directly; the emulator does not even need to be started for that.
"""

from __future__ import annotations

import pytest
from werkzeug.test import Client

import kv_emulator

VAULT = "https://wire-demo.vault.azure.net"
TOKEN = {"Authorization": "Bearer anything"}


@pytest.fixture
def wire() -> Client:
    return Client(kv_emulator.Emulator().app)


def test_the_challenge_comes_before_anything_else(wire):
    # No token: 401 with the challenge, whatever the path, method, body or api-version.
    response = wire.post("/no/such/route", base_url=VAULT, data=b"not json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer authorization="https://login.microsoftonline.com/{kv_emulator.DEFAULT_TENANT_ID}", '
        'resource="https://vault.azure.net"'
    )
    assert response.json == {
        "error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token."}
    }


def test_response_headers(wire):
    response = wire.put(
        "/secrets/a?api-version=7.6",
        base_url=VAULT,
        headers={**TOKEN, "x-ms-client-request-id": "my-request-1"},
        json={"value": "v"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["x-ms-client-request-id"] == "my-request-1"  # echoed
    assert response.headers["x-ms-request-id"]  # a fresh GUID per request
    for name in ("x-ms-keyvault-region", "x-ms-keyvault-service-version", "x-ms-keyvault-network-info"):
        assert name in response.headers
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.json["id"].startswith(f"{VAULT}/secrets/a/")  # ids echo the host the client used


def test_api_versions(wire):
    def status(version: str) -> int:
        return wire.get(f"/secrets?api-version={version}", base_url=VAULT, headers=TOKEN).status_code

    assert status("7.4") == 200  # every published version
    assert status("7.6-preview.2") == 200  # previews the SDKs shipped
    assert status("2099-01-01") == 200  # a newer date version is served as the newest we know

    response = wire.get("/secrets?api-version=7.9", base_url=VAULT, headers=TOKEN)
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "BadParameter",
        "message": "The specified version (7.9) is not recognized. "
        "Consider using the latest supported version (2026-04-01).",
    }
    assert wire.get("/secrets", base_url=VAULT, headers=TOKEN).status_code == 400  # api-version is required


def test_strict_api_version_refuses_unknown_newer_versions():
    wire = Client(kv_emulator.Emulator(strict_api_version=True).app)
    response = wire.get("/secrets?api-version=2099-01-01", base_url=VAULT, headers=TOKEN)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "BadParameter"


def test_paths_and_routes(wire):
    wire.put("/secrets/a?api-version=7.6", base_url=VAULT, headers=TOKEN, json={"value": "v"})
    # Fixed path words are case-insensitive; an empty or missing version segment means the latest.
    for path in ("/Secrets/a/", "/SECRETS/a", "/secrets/a/"):
        assert wire.get(f"{path}?api-version=7.6", base_url=VAULT, headers=TOKEN).json["value"] == "v"

    unknown = wire.get("/nothing-here?api-version=7.6", base_url=VAULT, headers=TOKEN)
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "NotFound")

    wrong_method = wire.post("/secrets?api-version=7.6", base_url=VAULT, headers=TOKEN)
    assert (wrong_method.status_code, wrong_method.json["error"]["code"]) == (405, "MethodNotAllowed")


def test_paging(wire):
    for i in range(5):
        wire.put(f"/secrets/s{i}?api-version=7.6", base_url=VAULT, headers=TOKEN, json={"value": "v"})

    first = wire.get("/secrets?api-version=7.6&maxresults=2", base_url=VAULT, headers=TOKEN).json
    assert [item["id"] for item in first["value"]] == [f"{VAULT}/secrets/s0", f"{VAULT}/secrets/s1"]
    assert first["nextLink"].startswith(f"{VAULT}/secrets?api-version=7.6&$skiptoken=")
    assert first["nextLink"].endswith("&maxresults=2")

    second = wire.get(first["nextLink"].removeprefix(VAULT), base_url=VAULT, headers=TOKEN).json
    assert [item["id"].rsplit("/", 1)[1] for item in second["value"]] == ["s2", "s3"]
