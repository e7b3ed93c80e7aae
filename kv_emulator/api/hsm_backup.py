"""Managed HSM full backup and restore (backuprestore.json, 7.2-2025-07-01): JSON in, a job, JSON out.

Every start answers 202 with the job (``InProgress``), ``Azure-AsyncOperation`` naming its pending URL and
``Retry-After``, as the spec's examples and the SDKs' recordings show; the pending URL answers 200 with the job
as it is now. The job's shape is the recorded one (azure-sdk-for-js keyvault-admin recordings, 2021-22):
``status``, ``statusDetails``, ``error``, ``startTime``, ``endTime`` (null until it ends), ``jobId`` and, for a
backup, ``azureStorageBlobContainerUri`` (null until it has written the folder).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadParameter, KeyVaultError
from ..objects.hsm_backup import HsmJob, container_url
from ..objects.vault import Vault
from .bodies import MISSING, read_bool, read_str
from .context import Reply, RequestContext
from .operation import Operation, admin_record

__all__ = ["OPERATIONS", "polled_without_version"]

#: Seconds the first answer tells the client to wait (the spec's examples, 7.5: ``Retry-After: 5``).
RETRY_AFTER = "5"


_POLLED = re.compile(r"/(?:(?:backup|restore)/[^/]+|securitydomain/(?:download|upload))/pending/?", re.IGNORECASE)


def polled_without_version(vault: Vault, path: str) -> bool:
    """Whether a request is a Managed HSM's pending URL, which the service answers without an api-version: the
    SDKs' pollers GET the ``Azure-AsyncOperation`` URL exactly as given, and the service gives none (recorded
    headers, azure-sdk-for-js keyvault-admin, 2021-22; azure-core's LROBasePolling adds no query)."""
    return vault.managed_hsm and _POLLED.fullmatch(path) is not None


class JobNotFound(KeyVaultError):
    """A pending URL with a job id this HSM never started. Unverified status, code and text."""

    status = 404
    code = "NotFound"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"No backup or restore job with id '{job_id}' was found.")


def _job(job: HsmJob) -> dict[str, Any]:
    failed = job.status == "Failed"
    body: dict[str, Any] = {
        "status": job.status,
        "statusDetails": job.in_progress_details if job.status == "InProgress" else job.status_details,
        # A failed job's error object has only nulls; its reason is in statusDetails (recorded, 2021).
        "error": {"code": None, "message": None, "innererror": None} if failed else None,
        "startTime": job.start,
        "endTime": job.end,
        "jobId": job.job_id,
    }
    if job.family == "backup":
        body["azureStorageBlobContainerUri"] = job.folder_url if job.status == "Succeeded" else None
    return body


def _started(ctx: RequestContext, job: HsmJob) -> Reply:
    pending = f"{ctx.base_url}/{job.family}/{job.job_id}/pending"
    return Reply(_job(job), 202, headers=[("Azure-AsyncOperation", pending), ("Retry-After", RETRY_AFTER)])


def _storage(parameters: Any, name: str) -> tuple[str | None, str | None, bool]:
    """(container URL, SAS token, use managed identity) of a ``SASTokenParameter`` object."""
    if not isinstance(parameters, dict):
        raise BadParameter(f"Property {name} is required\r\n")  # unverified text
    uri = read_str(parameters, "storageResourceUri", required=True)
    token = read_str(parameters, "token")
    managed = read_bool(parameters, "useManagedIdentity")
    return container_url(uri), None if token is MISSING else token, managed is True


def _folder(body: dict[str, Any], field: str) -> str:
    folder = read_str(body, field, required=True)
    if not folder.strip("/"):
        raise BadParameter(f"Property {field} has invalid value\r\n")
    return str(folder)


# -- backup --------------------------------------------------------------------------------------


def full_backup(ctx: RequestContext) -> Reply:
    container, token, managed = _storage(ctx.json(), "azureStorageBlobContainerUri")
    return _started(ctx, ctx.vault.hsm_jobs.start_backup(container, token, managed, pre=False))


def pre_full_backup(ctx: RequestContext) -> Reply:
    container, token, managed = _storage(ctx.json(), "preBackupOperationParameters")
    return _started(ctx, ctx.vault.hsm_jobs.start_backup(container, token, managed, pre=True))


def full_backup_status(ctx: RequestContext, job_id: str) -> Reply:
    return _status(ctx, "backup", job_id)


# -- restore -------------------------------------------------------------------------------------


def full_restore(ctx: RequestContext) -> Reply:
    body = ctx.json()
    container, token, managed = _storage(body.get("sasTokenParameters"), "sasTokenParameters")
    folder = _folder(body, "folderToRestore")
    return _started(ctx, ctx.vault.hsm_jobs.start_restore(container, folder, token, managed))


def pre_full_restore(ctx: RequestContext) -> Reply:
    body = ctx.json()
    container, token, managed = _storage(body.get("sasTokenParameters"), "sasTokenParameters")
    folder = _folder(body, "folderToRestore")
    return _started(ctx, ctx.vault.hsm_jobs.start_restore(container, folder, token, managed, pre=True))


def selective_key_restore(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    container, token, managed = _storage(body.get("sasTokenParameters"), "sasTokenParameters")
    folder = _folder(body, "folder")
    return _started(ctx, ctx.vault.hsm_jobs.start_restore(container, folder, token, managed, key_name=name))


def restore_status(ctx: RequestContext, job_id: str) -> Reply:
    return _status(ctx, "restore", job_id)


def _status(ctx: RequestContext, family: str, job_id: str) -> Reply:
    job = ctx.vault.hsm_jobs.get(family, job_id)
    if job is None:
        raise JobNotFound(job_id)
    return Reply(_job(job))


OPERATIONS: tuple[Operation, ...] = (
    # backuprestore.json came with 7.2 (the specs' folders); the pre-backup and pre-restore checks with 7.6
    # (recalled from azure-keyvault-administration 4.6.0; unverified), and the data actions guarding them and the
    # selective key restore are unverified.
    admin_record("POST", "/prebackup", "PreFullBackup", pre_full_backup, hsm_action="backup/start/action", since="7.6"),
    admin_record("POST", "/backup", "FullBackup", full_backup, hsm_action="backup/start/action", since="7.2"),
    admin_record(
        "GET",
        "/backup/{job-id}/pending",
        "FullBackupStatus",
        full_backup_status,
        hsm_action="backup/status/action",
        since="7.2",
    ),
    admin_record(
        "PUT",
        "/prerestore",
        "PreFullRestoreOperation",
        pre_full_restore,
        hsm_action="restore/start/action",
        since="7.6",
    ),
    admin_record(
        "PUT", "/restore", "FullRestoreOperation", full_restore, hsm_action="restore/start/action", since="7.2"
    ),
    admin_record(
        "GET",
        "/restore/{job-id}/pending",
        "RestoreStatus",
        restore_status,
        hsm_action="restore/status/action",
        since="7.2",
    ),
    admin_record(
        "PUT",
        "/keys/{key-name}/restore",
        "SelectiveKeyRestoreOperation",
        selective_key_restore,
        hsm_action="restore/start/action",
        since="7.2",
    ),
)
