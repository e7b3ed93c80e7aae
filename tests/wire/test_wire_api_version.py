"""api-version: every published version is served; unknown ones get the service's exact 400."""

from __future__ import annotations

import pytest
from azure.keyvault.secrets import ApiVersion, SecretClient
from tests_support import error_of

from kv_emulator.http.api_versions import PUBLISHED


@pytest.mark.parametrize("version", PUBLISHED)
def test_every_published_version_is_served(wire, version):
    assert wire.get("/secrets", api_version=version).status_code == 200


@pytest.mark.parametrize("version", ["7.6-preview.2", "7.5-preview.1", "2025-06-01-preview"])
def test_preview_versions_the_sdks_shipped_are_served(wire, version):
    assert wire.get("/secrets", api_version=version).status_code == 200


@pytest.mark.parametrize("version", ["7.7", "1.0", "banana", "2024-01-01", "2026-04-01x", "7"])
def test_unknown_version_gets_the_service_400(wire, version):
    response = wire.get("/secrets", api_version=version)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BadParameter",
        "message": f"The specified version ({version}) is not recognized. "
        "Consider using the latest supported version (2026-04-01).",
    }


def test_missing_version_is_a_clear_400(wire):
    response = wire.get("/secrets", api_version=None)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BadParameter"
    assert "api-version" in error["message"] and "2026-04-01" in error["message"]


def test_newer_date_version_is_served_as_the_newest(wire):
    wire.put("/secrets/s", body={"value": "v"})
    response = wire.get("/secrets/s/", api_version="2027-01-01")
    assert response.status_code == 200
    assert response.get_json()["attributes"]["recoverableDays"] == 90


@pytest.mark.keyvault(strict_api_version=True)
def test_strict_mode_refuses_newer_versions(wire):
    response = wire.get("/secrets", api_version="2027-01-01")
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("The specified version (2027-01-01) is not recognized.")


def test_old_versions_omit_fields_they_did_not_have(wire):
    wire.put("/secrets/s", body={"value": "v"})
    old = wire.get("/secrets/s/", api_version="7.0").get_json()["attributes"]
    new = wire.get("/secrets/s/", api_version="7.1").get_json()["attributes"]
    assert "recoverableDays" not in old and old["recoveryLevel"] == "Recoverable+Purgeable"
    assert new["recoverableDays"] == 90


@pytest.mark.parametrize("version", [v.value for v in ApiVersion])
def test_sdk_works_at_every_version_it_offers(keyvault, version):
    client = SecretClient(keyvault.vault_url, keyvault.credential, api_version=version)
    client.set_secret("s", "v")
    assert client.get_secret("s").value == "v"
    assert keyvault.requests.last.api_version == version
