"""Managed HSM full backup, full restore and selective key restore: long-running jobs on the HSM's clock.

Evidence: the spec's examples (backuprestore.json 7.5: 202, ``Azure-AsyncOperation`` to
``/backup/{jobId}/pending``, ``Retry-After: 5``, ``InProgress`` and its details "Full backup is in progress");
the azure-sdk-for-js keyvault-admin recordings (2021-22: the job's shape with ``endTime`` and
``azureStorageBlobContainerUri`` null until done, a backup with an invalid SAS token ends ``Failed`` with
statusDetails "ResourceNotFound", a restore of a folder without a backup "Invalid backup provided", the error
object then all nulls); the azure-keyvault-administration 4.7 client's pollers and ``parse_folder_url``.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.administration import KeyVaultBackupClient
from azure.keyvault.administration._internal import parse_folder_url
from azure.keyvault.administration.aio import KeyVaultBackupClient as AsyncKeyVaultBackupClient
from azure.keyvault.keys import KeyClient
from tests_support import error_of

from kv_emulator.objects.hsm_backup import BackupStorage

HSM = "https://contoso-hsm.managedhsm.azure.net"
CONTAINER = "https://account.blob.core.windows.net/backups"
SAS = "sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2099-01-01T00:00:00Z&spr=https&sig=c2lnbmF0dXJl"
FOLDER = re.compile(re.escape(CONTAINER) + r"/mhsm-contoso-hsm-\d{16}")
JOB_FIELDS = {"status", "statusDetails", "error", "startTime", "endTime", "jobId"}


def _backup(hsm, token: str | None = SAS, **extra):
    body = {"storageResourceUri": CONTAINER, **({"token": token} if token is not None else {}), **extra}
    return hsm.post("/backup", body=body, api_version="7.5")


def _poll(hsm, response):
    """GET the Azure-AsyncOperation URL exactly as given (no api-version), as azure-core's poller does."""
    url = response.headers["Azure-AsyncOperation"]
    assert url.startswith(HSM + "/")
    return hsm.get(url[len(HSM) :], api_version=None)


# -- the wire ------------------------------------------------------------------------------------------


def test_a_backup_starts_in_progress_and_names_its_pending_url(hsm, keyvault):
    started = _backup(hsm)
    assert started.status_code == 202
    body = started.get_json()
    assert set(body) == JOB_FIELDS | {"azureStorageBlobContainerUri"}
    assert body["status"] == "InProgress" and body["statusDetails"] == "Full backup is in progress"
    assert body["error"] is None and body["endTime"] is None and body["azureStorageBlobContainerUri"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", body["jobId"])
    assert started.headers["Azure-AsyncOperation"] == f"{HSM}/backup/{body['jobId']}/pending"
    assert started.headers["Retry-After"] == "5"
    assert body["startTime"] == int(keyvault.clock.time())


def test_the_job_succeeds_on_the_emulators_clock_and_names_the_folder(hsm, keyvault):
    keyvault.vault(HSM).keys.create("k1", "RSA")
    started = _backup(hsm)
    assert _poll(hsm, started).get_json()["status"] == "InProgress"
    keyvault.clock.advance(seconds=2)
    done = _poll(hsm, started)
    assert done.status_code == 200
    body = done.get_json()
    assert body["status"] == "Succeeded" and body["statusDetails"] is None and body["error"] is None
    assert body["endTime"] >= body["startTime"] + 1
    folder_url = body["azureStorageBlobContainerUri"]
    assert FOLDER.fullmatch(folder_url), folder_url
    assert parse_folder_url(folder_url) == (CONTAINER, folder_url.rsplit("/", 1)[1])
    written = keyvault.hsm_backups.get(folder_url)
    assert written is not None and [document["name"] for document in written.keys] == ["k1"]


def test_an_unknown_job_is_a_404_and_a_backup_job_is_not_a_restore_job(hsm):
    job = _backup(hsm).get_json()["jobId"]
    missing = hsm.get("/backup/0123/pending", api_version=None)
    assert missing.status_code == 404 and error_of(missing)["code"] == "NotFound"  # unverified code
    assert hsm.get(f"/restore/{job}/pending", api_version=None).status_code == 404


def test_a_backup_without_its_storage_uri_is_a_400(hsm):
    response = hsm.post("/backup", body={"token": SAS}, api_version="7.5")
    assert response.status_code == 400 and error_of(response)["code"] == "BadParameter"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ("invalid_sas_token", "recorded: the js recordings' invalid token, 2021"),
        (None, "no token and no managed identity"),
        ("sp=rwl&se=2020-01-01T00:00:00Z&sig=abc", "expired on the emulator's clock"),
        ("sp=rl&se=2099-01-01T00:00:00Z&sig=abc", "no write permission"),
    ],
)
def test_a_backup_the_storage_refuses_fails_with_resource_not_found(hsm, keyvault, token, why):
    started = _backup(hsm, token)
    assert started.status_code == 202 and started.get_json()["status"] == "InProgress"
    keyvault.clock.advance(seconds=2)
    body = _poll(hsm, started).get_json()
    assert body["status"] == "Failed", why
    assert body["statusDetails"] == "ResourceNotFound"
    assert body["error"] == {"code": None, "message": None, "innererror": None}
    assert body["azureStorageBlobContainerUri"] is None
    assert keyvault.hsm_backups.folders() == []


def test_a_managed_identity_needs_no_token(hsm, keyvault):
    started = _backup(hsm, None, useManagedIdentity=True)
    keyvault.clock.advance(seconds=2)
    assert _poll(hsm, started).get_json()["status"] == "Succeeded"


def test_a_restore_of_a_folder_never_written_fails_as_invalid_backup(hsm, keyvault):
    body = {"sasTokenParameters": {"storageResourceUri": CONTAINER, "token": SAS}, "folderToRestore": "mhsm-x-1"}
    started = hsm.put("/restore", body=body, api_version="7.5")
    assert started.status_code == 202
    assert set(started.get_json()) == JOB_FIELDS  # a restore job has no container URI
    assert started.get_json()["statusDetails"] == "Full restore is in progress"
    keyvault.clock.advance(seconds=2)
    failed = _poll(hsm, started).get_json()
    assert (failed["status"], failed["statusDetails"]) == ("Failed", "Invalid backup provided")


def test_a_selective_restore_is_reported_by_the_restore_pending_url(hsm, keyvault):
    body = {"sasTokenParameters": {"storageResourceUri": CONTAINER, "token": SAS}, "folder": "mhsm-x-1"}
    started = hsm.put("/keys/k1/restore", body=body, api_version="7.5")
    assert started.status_code == 202
    assert started.get_json()["statusDetails"] == "Selective Key restore is in progress"
    assert started.headers["Azure-AsyncOperation"].startswith(f"{HSM}/restore/")


# -- the SDK (azure-keyvault-administration), sync and async -------------------------------------------


def test_backup_and_full_restore_through_the_sdk_cost_no_real_wait(keyvault, no_real_sleep):
    keys = KeyClient(HSM, keyvault.credential)
    kept = keys.create_rsa_key("kept")
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    result = client.begin_backup(CONTAINER, sas_token=SAS).result()
    assert FOLDER.fullmatch(result.folder_url)
    keys.create_ec_key("after-the-backup")
    keys.begin_delete_key("kept").wait()
    keys.purge_deleted_key("kept")
    client.begin_restore(result.folder_url, sas_token=SAS).wait()
    restored = keys.get_key("kept")
    assert restored.id == kept.id and restored.key.n == kept.key.n  # the same version and material
    assert [k.name for k in keys.list_properties_of_keys()] == ["kept"]  # a full restore replaces the keys


def test_a_poller_resumes_from_its_continuation_token(keyvault, no_real_sleep):
    """The client's token is the pending URL; resuming asks FullBackupStatus for the job id in it."""
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    poller = client.begin_backup(CONTAINER, sas_token=SAS)
    resumed = client.begin_backup(CONTAINER, sas_token=SAS, continuation_token=poller.continuation_token())
    assert resumed.result().folder_url == poller.result().folder_url


def test_a_selective_restore_restores_one_key_and_leaves_the_others(keyvault, no_real_sleep):
    keys = KeyClient(HSM, keyvault.credential)
    first = keys.create_rsa_key("one")
    keys.create_rsa_key("two")
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    folder = client.begin_backup(CONTAINER, sas_token=SAS).result().folder_url
    keys.update_key_properties("one", enabled=False)
    keys.create_rsa_key("three")
    client.begin_restore(folder, sas_token=SAS, key_name="one").wait()
    assert keys.get_key("one").properties.enabled is True and keys.get_key("one").id == first.id
    assert sorted(k.name for k in keys.list_properties_of_keys()) == ["one", "three", "two"]


def test_a_selective_restore_of_a_key_the_backup_lacks_fails(keyvault, no_real_sleep):
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    folder = client.begin_backup(CONTAINER, use_managed_identity=True).result().folder_url
    with pytest.raises(HttpResponseError) as failed:
        client.begin_restore(folder, use_managed_identity=True, key_name="absent").wait()
    body = json.loads(failed.value.response.text())
    assert body["status"] == "Failed" and body["statusDetails"] == "The key 'absent' was not found in the backup"


def test_the_sdk_raises_for_a_folder_never_written(keyvault, no_real_sleep):
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    with pytest.raises(HttpResponseError) as failed:
        client.begin_restore(f"{CONTAINER}/mhsm-contoso-hsm-2026010100000000", sas_token=SAS).wait()
    # The CLI shows the same: "Operation returned an invalid status 'OK'" (Azure/azure-cli#18049, 2021).
    assert "invalid status 'OK'" in str(failed.value)
    assert json.loads(failed.value.response.text())["statusDetails"] == "Invalid backup provided"


def test_pre_backup_and_pre_restore_check_without_writing(keyvault, no_real_sleep):
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    client.begin_pre_backup(CONTAINER, sas_token=SAS).wait()
    assert keyvault.hsm_backups.folders() == []  # a check writes nothing
    folder = client.begin_backup(CONTAINER, sas_token=SAS).result().folder_url
    KeyClient(HSM, keyvault.credential).create_rsa_key("new")
    client.begin_pre_restore(folder, sas_token=SAS).wait()
    assert "new" in keyvault.vault(HSM).keys  # a check restores nothing
    with pytest.raises(HttpResponseError):
        client.begin_pre_restore(f"{CONTAINER}/mhsm-none", sas_token=SAS).wait()


def test_backup_and_restore_through_the_async_sdk(keyvault, no_real_sleep):
    keyvault.vault(HSM).keys.create("async-key", "EC")

    async def run() -> str:
        async with AsyncKeyVaultBackupClient(HSM, keyvault.async_credential) as client:
            poller = await client.begin_backup(CONTAINER, sas_token=SAS)
            folder = (await poller.result()).folder_url
            keyvault.vault(HSM).keys.delete("async-key")
            keyvault.vault(HSM).keys.purge("async-key")
            await (await client.begin_restore(folder, sas_token=SAS)).wait()
            await (await client.begin_restore(folder, sas_token=SAS, key_name="async-key")).wait()
            return folder

    folder = asyncio.run(run())
    assert FOLDER.fullmatch(folder)
    assert "async-key" in keyvault.vault(HSM).keys


def test_a_backup_restores_only_into_an_hsm_with_its_security_domain(keyvault, no_real_sleep):
    folder = KeyVaultBackupClient(HSM, keyvault.credential).begin_backup(CONTAINER, sas_token=SAS).result().folder_url
    other = KeyVaultBackupClient("https://other-hsm.managedhsm.azure.net", keyvault.credential)
    with pytest.raises(HttpResponseError) as failed:
        other.begin_restore(folder, sas_token=SAS).wait()
    assert json.loads(failed.value.response.text())["statusDetails"] == "Invalid backup provided"


def test_a_new_hsm_refuses_backups_until_activated(keyvault, hsm):
    keyvault.managed_hsm(HSM, activated=False)
    refused = _backup(hsm)
    assert refused.status_code == 403 and error_of(refused)["code"] == "Forbidden"  # unverified


# -- state -----------------------------------------------------------------------------------------------


def test_the_storage_round_trips_through_plain_json(keyvault, no_real_sleep):
    KeyClient(HSM, keyvault.credential).create_rsa_key("k")
    folder = KeyVaultBackupClient(HSM, keyvault.credential).begin_backup(CONTAINER, sas_token=SAS).result().folder_url
    state = json.loads(json.dumps(keyvault.hsm_backups.to_state()))
    copy = BackupStorage()
    copy.from_state(state)
    assert copy.get(folder) == keyvault.hsm_backups.get(folder)
    keyvault.hsm_backups.clear()
    keyvault.hsm_backups.from_state(state)
    keyvault.vault(HSM).keys.delete("k")
    keyvault.vault(HSM).keys.purge("k")
    KeyVaultBackupClient(HSM, keyvault.credential).begin_restore(folder, sas_token=SAS).wait()
    assert "k" in keyvault.vault(HSM).keys


@pytest.mark.keyvault(virtual_time=True)
def test_in_virtual_time_the_pollers_sleep_moves_the_clock(keyvault, no_real_sleep):
    start = keyvault.clock.time()
    client = KeyVaultBackupClient(HSM, keyvault.credential)
    folder = client.begin_backup(CONTAINER, sas_token=SAS).result().folder_url
    assert keyvault.clock.time() - start >= 5  # the poller slept Retry-After (5 s) on the emulator's clock
    assert keyvault.hsm_backups.get(folder) is not None


def test_the_same_through_the_servers_proxy(tmp_path):
    """Every door: the HTTPS server's proxy answers the job and its pending URL as the pipeline does in-process."""
    import requests

    from kv_emulator import serve

    with serve(data_dir=str(tmp_path)) as server:
        through = {"proxies": {"https": server.proxy_url}, "verify": str(server.ca_path), "timeout": 10}
        token = {"Authorization": "Bearer any-token"}
        body = {"storageResourceUri": CONTAINER, "token": SAS}
        started = requests.post(f"{HSM}/backup", params={"api-version": "7.5"}, json=body, headers=token, **through)
        assert started.status_code == 202 and started.json()["status"] == "InProgress"
        server.emulator.clock.advance(seconds=2)
        # The pending URL without an api-version, as a poller sends it.
        done = requests.get(started.headers["Azure-AsyncOperation"], headers=token, **through).json()
        assert done["status"] == "Succeeded" and FOLDER.fullmatch(done["azureStorageBlobContainerUri"])
