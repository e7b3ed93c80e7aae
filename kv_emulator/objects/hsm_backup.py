"""A Managed HSM's full backup, full restore and selective key restore: long-running jobs on the HSM's clock,
and the blob storage they write to and read from.

The service answers ``POST /backup`` at once with ``InProgress`` and a job id, does the work in the background
and reports ``Succeeded`` (or ``Failed``) when polled later. Here a job takes :data:`JOB_SECONDS` of the
emulator's clock: it is a job on the HSM's schedule (phase ``issue``, owner ``hsm-job``), so any request after
that moment finds it done, and an in-process client that sleeps past that moment after hearing ``InProgress``
finds it done without the real wait (:mod:`.awaiting`, as for certificate issuance).

A backup takes its snapshot of the keys when it starts and writes its folder
(``<container>/mhsm-<name>-<yyyyMMddHHmmssff>``) when it ends; a restore reads the folder and replaces the
keys when it ends. The storage is emulated: :class:`BackupStorage` keeps each folder, keyed by its URL, for the
whole emulator (so a backup of one HSM restores into another that shares its security domain).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from ..clock import Clock
from . import awaiting
from .keys import KeyStore
from .schedule import Schedule

__all__ = ["JOB_SECONDS", "BackupFolder", "BackupStorage", "HsmJob", "HsmJobs", "container_url"]

#: Emulator seconds a backup or restore takes (the service's take seconds to minutes).
JOB_SECONDS = 2

# What a failed job reports: the status details the service sends (recorded: azure-sdk-for-js keyvault-admin
# recordings, 2021: a backup with an invalid SAS token is "ResourceNotFound", a restore of a folder that holds
# no backup "Invalid backup provided"; the service's error object then has only nulls).
STORAGE_UNREACHABLE = "ResourceNotFound"
INVALID_BACKUP = "Invalid backup provided"
# unverified: the text for a selective restore of a key the backup does not hold.
KEY_NOT_IN_BACKUP = "The key '{name}' was not found in the backup"

# The status details of a job in progress (the spec's examples, 7.5).
_IN_PROGRESS = {
    "backup": "Full backup is in progress",
    "prebackup": "Full backup is in progress",  # unverified
    "restore": "Full restore is in progress",
    "prerestore": "Full restore is in progress",  # unverified
    "selective": "Selective Key restore is in progress",
}


def container_url(uri: str) -> str | None:
    """The blob container a ``storageResourceUri`` names (``https://<account>.blob.<suffix>/<container>``),
    normalized; None when it is not a container URL."""
    try:
        parsed = urllib.parse.urlsplit(uri.strip())
    except ValueError:
        return None
    host = (parsed.hostname or "").lower()
    container = parsed.path.strip("/").split("/", 1)[0]
    if parsed.scheme.lower() != "https" or ".blob." not in host or not container:
        return None
    port = f":{parsed.port}" if parsed.port else ""
    return f"https://{host}{port}/{container}"


def sas_problem(token: str | None, now: float, permission: str) -> str | None:
    """Why a container SAS token would not let the HSM ``permission`` (``w`` or ``r``) the container: it must
    be a SAS (a ``sig``), not expired (``se``, on the emulator's clock) and grant the permission (``sp``).
    The emulator cannot check the signature itself."""
    if not token:
        return "no SAS token"
    fields = dict(urllib.parse.parse_qsl(token.lstrip("?"), keep_blank_values=True))
    if not fields.get("sig"):
        return "not a SAS token"
    expiry = fields.get("se")
    if expiry:
        try:
            ends = datetime.datetime.fromisoformat(expiry.replace("Z", "+00:00"))
        except ValueError:
            return "an unreadable expiry"
        if ends.tzinfo is None:
            ends = ends.replace(tzinfo=datetime.timezone.utc)
        if ends.timestamp() <= now:
            return "an expired SAS token"
    granted = fields.get("sp")
    if granted is not None and permission not in granted:
        return f"a SAS token without the '{permission}' permission"
    return None


@dataclasses.dataclass
class BackupFolder:
    """What one full backup wrote: the HSM's keys as backup documents, and the security domain they need."""

    url: str
    hsm: str
    security_domain: str
    created: int
    keys: list[dict[str, Any]]

    def to_state(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> BackupFolder:
        return cls(
            url=str(data["url"]),
            hsm=str(data["hsm"]),
            security_domain=str(data["security_domain"]),
            created=int(data["created"]),
            keys=list(data["keys"]),
        )


class BackupStorage:
    """The emulated blob storage of Managed HSM backups, by folder URL; one per emulator, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[str, BackupFolder] = {}

    def put(self, folder: BackupFolder) -> None:
        with self._lock:
            self._folders[folder.url.lower()] = folder

    def get(self, url: str) -> BackupFolder | None:
        with self._lock:
            return self._folders.get(url.rstrip("/").lower())

    def folders(self) -> list[BackupFolder]:
        with self._lock:
            return list(self._folders.values())

    def clear(self) -> None:
        with self._lock:
            self._folders.clear()

    def to_state(self) -> dict[str, Any]:
        """Plain JSON-able data: every folder a backup wrote."""
        return {"folders": [folder.to_state() for folder in self.folders()]}

    def from_state(self, data: dict[str, Any]) -> None:
        """Replace the folders with those of :meth:`to_state`'s data."""
        folders = [BackupFolder.from_state(item) for item in data.get("folders", [])]
        with self._lock:
            self._folders = {folder.url.lower(): folder for folder in folders}


@dataclasses.dataclass
class HsmJob:
    """One backup or restore job as the pending URL reports it."""

    job_id: str
    kind: str  # backup, prebackup, restore, prerestore, selective
    start: int
    due: int
    status: str = "InProgress"
    end: int | None = None
    status_details: str | None = None
    folder_url: str | None = None
    work: Callable[[], str | None] | None = dataclasses.field(default=None, repr=False)
    """Done when the job ends: None on success, else the failed job's status details."""

    @property
    def family(self) -> str:
        """Which pending URL reports the job: ``backup`` or ``restore``."""
        return "backup" if self.kind in ("backup", "prebackup") else "restore"

    @property
    def in_progress_details(self) -> str:
        return _IN_PROGRESS[self.kind]


class HsmJobs:
    """The backup and restore jobs of one Managed HSM, guarded by its lock."""

    OWNER = "hsm-job"

    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        lock: threading.RLock,
        schedule: Schedule,
        keys: KeyStore,
        storage: BackupStorage,
        security_domain: Callable[[], str],
    ) -> None:
        """``security_domain()`` is the id of the HSM's security domain now (a restore needs the backup's)."""
        self._name = name
        self._clock = clock
        self._lock = lock
        self._schedule = schedule
        self._keys = keys
        self.storage = storage
        self._security_domain = security_domain
        self._jobs: dict[str, HsmJob] = {}
        schedule.register("issue", self.OWNER, self._due)

    def _now(self) -> int:
        return int(self._clock.time())

    # -- starting ----------------------------------------------------------------------------------

    def start_backup(self, container: str | None, token: str | None, managed_identity: bool, *, pre: bool) -> HsmJob:
        """A full backup (or only its checks) of the HSM's keys into a new folder of ``container``."""
        with self._lock:
            self._schedule.run(self._now())
            now = self._now()
            problem = self._storage_problem(container, token, managed_identity, "w", now)
            moment = self._clock.time()
            stamp = datetime.datetime.fromtimestamp(int(moment), datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
            folder_url = f"{container}/mhsm-{self._name}-{stamp}{int(moment % 1 * 100):02d}"  # ...HHmmssff
            snapshot = self._keys.documents()
            domain = self._security_domain()

            def work() -> str | None:
                if problem is not None:
                    return STORAGE_UNREACHABLE
                if not pre:
                    self.storage.put(BackupFolder(folder_url, self._name, domain, now, snapshot))
                return None

            return self._new_job("prebackup" if pre else "backup", now, work, folder_url=None if pre else folder_url)

    def start_restore(
        self,
        container: str | None,
        folder: str,
        token: str | None,
        managed_identity: bool,
        *,
        key_name: str | None = None,
        pre: bool = False,
    ) -> HsmJob:
        """A full restore (or only its checks) from ``container/folder``, or of one key (``key_name``)."""
        with self._lock:
            self._schedule.run(self._now())
            now = self._now()
            problem = self._storage_problem(container, token, managed_identity, "r", now)
            url = f"{container}/{folder.strip('/')}"

            def work() -> str | None:
                if problem is not None:
                    return STORAGE_UNREACHABLE
                backup = self.storage.get(url)
                if backup is None or backup.security_domain != self._security_domain():
                    return INVALID_BACKUP
                if key_name is not None:
                    documents = [d for d in backup.keys if str(d["name"]).lower() == key_name.lower()]
                    if not documents:
                        return KEY_NOT_IN_BACKUP.format(name=key_name)
                    if not pre:
                        self._keys.load_documents(documents, only=key_name)
                elif not pre:
                    self._keys.load_documents(backup.keys)
                return None

            kind = "selective" if key_name is not None else "prerestore" if pre else "restore"
            return self._new_job(kind, now, work)

    def _storage_problem(
        self, container: str | None, token: str | None, managed_identity: bool, permission: str, now: int
    ) -> str | None:
        if container is None:
            return "not a blob container URL"
        return None if managed_identity else sas_problem(token, now, permission)

    def _new_job(self, kind: str, now: int, work: Callable[[], str | None], *, folder_url: str | None = None) -> HsmJob:
        """A new job that ends :data:`JOB_SECONDS` after ``now``: planned, and noted for a client that waits."""
        job = HsmJob(uuid.uuid4().hex, kind, now, now + JOB_SECONDS, folder_url=folder_url, work=work)
        self._jobs[job.job_id] = job
        self._schedule.plan("issue", self.OWNER, job.job_id, job.due)
        self._schedule.changed()
        awaiting.expect(job.due, functools.partial(self._finish_early, job.job_id))
        return job

    # -- ending ------------------------------------------------------------------------------------

    def get(self, family: str, job_id: str) -> HsmJob | None:
        """The job a pending URL names (``backup`` or ``restore``), brought up to the clock; None if unknown."""
        with self._lock:
            self._schedule.run(self._now())
            job = self._jobs.get(job_id)
            if job is None or job.family != family:
                return None
            if job.status == "InProgress":
                awaiting.expect(job.due, functools.partial(self._finish_early, job.job_id))
            return job

    def _due(self, key: str, now: int) -> None:
        """Scheduled: the job's time has come."""
        job = self._jobs.get(key)
        if job is not None and job.status == "InProgress":
            self._end(job, min(job.due, now))

    def _finish_early(self, job_id: str) -> None:
        """The client slept past the job's end: end it now rather than make the sleep real."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.status != "InProgress":
                return
            self._schedule.plan("issue", self.OWNER, job_id, None)
            self._end(job, min(job.due, self._now()))
            self._schedule.changed()

    def _end(self, job: HsmJob, at: int) -> None:
        failure = job.work() if job.work is not None else None
        job.work = None
        job.end = max(at, job.start + 1)
        job.status = "Failed" if failure is not None else "Succeeded"
        job.status_details = failure
        if failure is not None:
            job.folder_url = None
