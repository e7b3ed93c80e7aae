"""Backups refuse objects with more than 500 versions, as the service does (issue 12); through the SDK (sync,
async) and raw HTTP."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.certificates import CertificateClient
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from azure.keyvault.secrets import SecretClient
from certs_support import ec_policy
from keys_support import assert_error

from kv_emulator.objects import backup

TEXT = "The {kind} {name} has 501 versions; backup supports at most 500 versions."


def test_a_secret_with_501_versions_is_refused_and_500_backs_up(keyvault, wire):
    secrets = keyvault.vault().secrets
    for i in range(500):
        secrets.set("s", str(i))
    assert wire.post("/secrets/s/backup").status_code == 200
    secrets.set("s", "one more")
    assert_error(wire.post("/secrets/s/backup"), 400, "BadParameter", TEXT.format(kind="secret", name="s"))
    with pytest.raises(HttpResponseError) as refused:
        SecretClient(keyvault.vault_url, keyvault.credential).backup_secret("s")
    assert refused.value.status_code == 400


async def test_async_sdk_a_key_with_501_versions_is_refused(keyvault):
    keys = keyvault.vault().keys
    for _ in range(501):
        keys.create("k", "EC")
    async with AsyncKeyClient(keyvault.vault_url, keyvault.async_credential) as client:
        with pytest.raises(HttpResponseError) as refused:
            await client.backup_key("k")
    assert refused.value.status_code == 400 and refused.value.message.endswith(TEXT.format(kind="key", name="k"))


def test_a_certificate_over_the_limit_is_refused(keyvault, wire, monkeypatch):
    monkeypatch.setattr(backup, "MAX_BACKUP_VERSIONS", 2)  # certificate versions are slow to make by the 500
    client = CertificateClient(keyvault.vault_url, keyvault.credential)
    for _ in range(2):
        client.begin_create_certificate("c", ec_policy()).result()
    assert len(client.backup_certificate("c")) > 0
    client.begin_create_certificate("c", ec_policy()).result()
    refused = wire.post("/certificates/c/backup")
    assert_error(refused, 400, "BadParameter", "The certificate c has 3 versions; backup supports at most 2 versions.")
