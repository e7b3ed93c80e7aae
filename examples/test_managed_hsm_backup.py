"""A Managed HSM's full backup and restore, and its security domain (docs/managed-hsm-backup.md).

Run with ``python -m pytest examples/test_managed_hsm_backup.py``. The backup and restore are long-running
operations on the emulator's clock: the unmodified ``KeyVaultBackupClient`` polls them as it polls the service,
without the real waits. The backup is kept by the emulator, keyed by its folder URL.
"""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.administration import KeyVaultBackupClient
from azure.keyvault.keys import KeyClient

HSM_URL = "https://contoso-hsm.managedhsm.azure.net"
CONTAINER = "https://mystorage.blob.core.windows.net/hsm-backups"  # any blob container URL
SAS_TOKEN = "sv=2022-11-02&sp=rwl&se=2099-01-01T00:00:00Z&sig=anything"  # checked for sig, se and sp only


def test_back_up_and_restore_a_managed_hsm(keyvault):
    keys = KeyClient(HSM_URL, keyvault.credential)
    original = keys.create_rsa_key("data-key")
    backups = KeyVaultBackupClient(HSM_URL, keyvault.credential)

    result = backups.begin_backup(CONTAINER, sas_token=SAS_TOKEN).result()
    assert result.folder_url.startswith(f"{CONTAINER}/mhsm-contoso-hsm-")  # <container>/mhsm-<name>-<time>
    assert keyvault.hsm_backups.get(result.folder_url) is not None  # what the backup wrote

    keys.begin_delete_key("data-key").wait()
    keys.purge_deleted_key("data-key")  # gone for good...
    backups.begin_restore(result.folder_url, sas_token=SAS_TOKEN).wait()
    assert keys.get_key("data-key").id == original.id  # ...and back, version and all

    backups.begin_restore(result.folder_url, sas_token=SAS_TOKEN, key_name="data-key").wait()  # one key only


def test_a_restore_from_a_folder_never_written_fails_as_on_the_service(keyvault):
    backups = KeyVaultBackupClient(HSM_URL, keyvault.credential)
    with pytest.raises(HttpResponseError) as failed:
        backups.begin_restore(f"{CONTAINER}/mhsm-contoso-hsm-2026010100000000", sas_token=SAS_TOKEN).wait()
    job = json.loads(failed.value.response.text())
    assert (job["status"], job["statusDetails"]) == ("Failed", "Invalid backup provided")


def test_a_new_managed_hsm_waits_for_its_security_domain(keyvault):
    keyvault.managed_hsm("brand-new-hsm", activated=False)  # as if just created: not activated
    with pytest.raises(HttpResponseError) as refused:
        KeyClient("https://brand-new-hsm.managedhsm.azure.net", keyvault.credential).create_rsa_key("k")
    assert refused.value.status_code == 403  # until its security domain is downloaded
