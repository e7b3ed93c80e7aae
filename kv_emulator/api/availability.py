"""Which operation and which request field exists from which api-version: the one table the pipeline routes
by and docs/coverage.md shows.

An operation newer than the requested api-version is answered as the service answers a path it does not
know at that version: the request is routed again among the operations that version has (so
``GET /keys/k/rotationpolicy`` at 7.2 is ``GetKey`` of a version called "rotationpolicy", a 404
KeyNotFound, and ``POST /rng`` is a 404). A newer field is ignored, like any unknown property or parameter.
"""

from __future__ import annotations

from .versions import PUBLISHED, ApiVersion

__all__ = ["FIELD_SINCE", "FIRST", "OPERATION_SINCE", "field_exists", "operation_exists"]

FIRST = PUBLISHED[0]

_KINDS = ("Secret", "Key", "Certificate")
_DELETED = [f"{verb}{kind}" for kind in _KINDS for verb in ("GetDeleted", "PurgeDeleted", "RecoverDeleted")]
_DELETED += [f"GetDeleted{kind}s" for kind in _KINDS]
_ADMIN_72 = (
    *(f"RoleDefinitions_{verb}" for verb in ("List", "Get", "CreateOrUpdate", "Delete")),
    *(f"RoleAssignments_{verb}" for verb in ("ListForScope", "Get", "Create", "Delete")),
    *("FullBackup", "FullBackupStatus", "FullRestoreOperation", "RestoreStatus", "SelectiveKeyRestoreOperation"),
    *(f"HSMSecurityDomain_{verb}" for verb in ("Download", "DownloadPending", "TransferKey")),
    *("HSMSecurityDomain_Upload", "HSMSecurityDomain_UploadPending"),
)

#: operationId -> the first api-version that has it; an operation not listed exists from 2015-06-01.
OPERATION_SINCE: dict[str, str] = {
    # Soft delete came with 2016-10-01 (recalled from the service's changelog; unverified here).
    **dict.fromkeys(_DELETED, "2016-10-01"),
    # Certificate backup and restore came with 7.0 (recalled; unverified here).
    "BackupCertificate": "7.0",
    "RestoreCertificate": "7.0",
    # Key rotation, secure key release and random bytes came with 7.3 (the 7.2 keys.json has none of them).
    "RotateKey": "7.3",
    "GetKeyRotationPolicy": "7.3",
    "UpdateKeyRotationPolicy": "7.3",
    "release": "7.3",
    "GetRandomBytes": "7.3",
    # Key attestation came with 7.6 (recalled; unverified here).
    "GetKeyAttestation": "7.6",
    # Secure wrap and unwrap are in the 2026-04-01 keys.json and not in 2025-07-01's (checked).
    "securewrapkey": "2026-04-01",
    "secureunwrapkey": "2026-04-01",
    # Managed HSM administration (routed on HSM hosts only): role-based access, full backup and restore and
    # the security domain came with 7.2, settings with 7.4 (the specs' folders: rbac.json, backuprestore.json,
    # securitydomain.json from 7.2, settings.json from 7.4); pre-backup and pre-restore checks with 7.6
    # (recalled from azure-keyvault-administration 4.6.0; unverified here).
    **dict.fromkeys(_ADMIN_72, "7.2"),
    **dict.fromkeys(("GetSettings", "GetSetting", "UpdateSetting"), "7.4"),
    "PreFullBackup": "7.6",
    "PreFullRestoreOperation": "7.6",
}

#: (operationId or body model, field) -> the first api-version that reads it; older versions ignore it.
FIELD_SINCE: dict[tuple[str, str], str] = {
    ("GetSecret", "outContentType"): "2025-07-01",  # protocol.md; the first version is unverified
    ("CertificatePolicy", "platformManaged"): "2026-04-01",  # not in the 2025-07-01 certificates.json (checked)
}


def operation_exists(operation: str, version: ApiVersion) -> bool:
    return version.at_least(OPERATION_SINCE.get(operation, FIRST))


def field_exists(owner: str, field: str, version: ApiVersion) -> bool:
    return version.at_least(FIELD_SINCE.get((owner, field), FIRST))
