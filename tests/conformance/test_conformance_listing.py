"""Issue 12, item 1: the versions of a name with no live object are an empty page (200), not a 404; the
deleted-object lists of an empty vault are empty pages too. Through the SDK (sync, async) and raw HTTP, at
every published api-version and on a Managed HSM for keys."""

from __future__ import annotations

import pytest
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.certificates.aio import CertificateClient as AsyncCertificateClient
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient

from kv_emulator.http.api_versions import PUBLISHED

HSM_URL = "https://kv-emulator-hsm.managedhsm.azure.net"
EMPTY = {"value": [], "nextLink": None}


@pytest.mark.parametrize("api_version", PUBLISHED)
@pytest.mark.parametrize("kind", ["secrets", "keys", "certificates"])
def test_versions_of_an_unknown_name_are_an_empty_page(wire, kind, api_version):
    response = wire.get(f"/{kind}/never-made/versions", api_version=api_version)
    assert (response.status_code, response.get_json()) == (200, EMPTY)


def test_versions_of_an_unknown_key_on_a_managed_hsm(keyvault, wire_for):
    response = wire_for(keyvault.app, base_url=HSM_URL).get("/keys/never-made/versions")
    assert (response.status_code, response.get_json()) == (200, EMPTY)


@pytest.mark.parametrize("kind", ["deletedsecrets", "deletedkeys", "deletedcertificates"])
def test_deleted_lists_of_an_empty_vault_are_empty_pages(wire, kind):
    response = wire.get(f"/{kind}")
    assert (response.status_code, response.get_json()) == (200, EMPTY)


def test_versions_of_a_deleted_secret_are_an_empty_page(wire):
    assert wire.put("/secrets/gone", body={"value": "v"}).status_code == 200
    assert wire.delete("/secrets/gone").status_code == 200
    response = wire.get("/secrets/gone/versions")
    assert (response.status_code, response.get_json()) == (200, EMPTY)  # unverified: the live list is empty


def test_sdk_lists_no_versions_of_unknown_names(keyvault):
    credential = keyvault.credential
    assert list(SecretClient(keyvault.vault_url, credential).list_properties_of_secret_versions("nope")) == []
    assert list(KeyClient(keyvault.vault_url, credential).list_properties_of_key_versions("nope")) == []
    assert list(KeyClient(HSM_URL, credential).list_properties_of_key_versions("nope")) == []
    certificates = CertificateClient(keyvault.vault_url, credential)
    assert list(certificates.list_properties_of_certificate_versions("nope")) == []
    assert list(certificates.list_deleted_certificates()) == []


def test_sdk_lists_versions_again_once_the_name_exists(keyvault):
    certificates = CertificateClient(keyvault.vault_url, keyvault.credential)
    certificates.begin_create_certificate("c", CertificatePolicy.get_default()).result()
    assert len(list(certificates.list_properties_of_certificate_versions("c"))) == 1
    assert list(certificates.list_properties_of_certificate_versions("C-other")) == []


async def test_async_sdk_lists_no_versions_of_unknown_names(keyvault):
    credential = keyvault.async_credential
    async with AsyncSecretClient(keyvault.vault_url, credential) as secrets:
        assert [p async for p in secrets.list_properties_of_secret_versions("nope")] == []
        assert [d async for d in secrets.list_deleted_secrets()] == []
    async with AsyncKeyClient(keyvault.vault_url, credential) as keys:
        assert [p async for p in keys.list_properties_of_key_versions("nope")] == []
        assert [d async for d in keys.list_deleted_keys()] == []
    async with AsyncCertificateClient(keyvault.vault_url, credential) as certificates:
        assert [p async for p in certificates.list_properties_of_certificate_versions("nope")] == []
