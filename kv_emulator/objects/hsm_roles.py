"""A Managed HSM's built-in local RBAC roles (the data action each operation needs is in its record, kv_emulator/api).

Role ids, names and data actions as a real Managed HSM lists them (recorded: azure-sdk-for-js keyvault-admin
recording ``keyvaultaccesscontrolclient_tracing``, 2022, ``GET /providers/Microsoft.Authorization/roleDefinitions``;
ids also in learn.microsoft.com "Local RBAC built-in roles for Managed HSM", 2025). Entries marked unverified
are not in that recording.
"""

from __future__ import annotations

__all__ = ["BUILT_IN_HSM_ROLES", "MHSM"]

MHSM = "Microsoft.KeyVault/managedHsm"

_ROLE_ADMIN = tuple(
    f"{MHSM}/{action}"
    for action in (
        "roleAssignments/delete/action",
        "roleAssignments/read/action",
        "roleAssignments/write/action",
        "roleDefinitions/read/action",
        "roleDefinitions/write/action",
        "roleDefinitions/delete/action",
    )
)

#: id -> (roleName, dataActions, actions). Order as the service lists them.
BUILT_IN_HSM_ROLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8": (
        "Managed HSM Backup User",
        (f"{MHSM}/backup/start/action", f"{MHSM}/backup/status/action", f"{MHSM}/keys/backup/action"),
        (),
    ),
    "33413926-3206-4cdd-b39a-83574fe37a17": (
        "Managed HSM Crypto Service Encryption User",
        (f"{MHSM}/keys/read/action", f"{MHSM}/keys/wrap/action", f"{MHSM}/keys/unwrap/action"),
        (),
    ),
    "21dbd100-6940-42c2-9190-5d6cb909625c": (
        "Managed HSM Crypto Service Release User",
        (f"{MHSM}/keys/release/action",),
        (),
    ),
    "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3": (
        "Managed HSM Crypto Auditor",
        (
            f"{MHSM}/roleAssignments/read/action",
            f"{MHSM}/roleDefinitions/read/action",
            f"{MHSM}/keys/read/action",
            f"{MHSM}/keys/deletedKeys/read/action",
        ),
        (),
    ),
    "4bd23610-cdcf-4971-bdee-bdc562cc28e4": (
        "Managed HSM Policy Administrator",
        (
            f"{MHSM}/roleDefinitions/read/action",
            f"{MHSM}/roleDefinitions/write/action",
            f"{MHSM}/roleDefinitions/delete/action",
            f"{MHSM}/roleAssignments/read/action",
            f"{MHSM}/roleAssignments/write/action",
            f"{MHSM}/roleAssignments/delete/action",
        ),
        (),
    ),
    "770fd66c-6266-4643-9d4e-b616870898d5": (
        "Managed HSM ARM User",
        (),
        (f"{MHSM}/keys/createIfNotExists", f"{MHSM}/keys/read/action"),
    ),
    "21dbd100-6940-42c2-9190-5d6cb909625b": (
        "Managed HSM Crypto User",
        (
            f"{MHSM}/roleDefinitions/read/action",
            f"{MHSM}/roleAssignments/read/action",
            *(
                f"{MHSM}/keys/{action}"
                for action in (
                    "read/action",
                    "write/action",
                    "delete",
                    "create",
                    "rotate/action",
                    "import/action",
                    "release/action",
                    "backup/action",
                    "restore/action",
                    "encrypt/action",
                    "decrypt/action",
                    "wrap/action",
                    "unwrap/action",
                    "sign/action",
                    "verify/action",
                    "derive/action",
                )
            ),
            f"{MHSM}/rng/action",
        ),
        (),
    ),
    "515eb02d-2335-4d2d-92f2-b1cbdf9c3778": (
        "Managed HSM Crypto Officer",
        (
            *_ROLE_ADMIN,
            f"{MHSM}/keys/deletedKeys/read/action",
            f"{MHSM}/keys/deletedKeys/delete",
            f"{MHSM}/keys/deletedKeys/recover/action",
            f"{MHSM}/keys/export/action",
        ),
        (),
    ),
    "a290e904-7015-4bba-90c8-60543313cdb4": (
        "Managed HSM Administrator",
        (
            *_ROLE_ADMIN,
            f"{MHSM}/securitydomain/download/action",
            f"{MHSM}/securitydomain/download/read",
            f"{MHSM}/securitydomain/upload/action",
            f"{MHSM}/securitydomain/upload/read",
            f"{MHSM}/securitydomain/transferkey/read",
            f"{MHSM}/backup/start/action",
            f"{MHSM}/restore/start/action",
            f"{MHSM}/backup/status/action",
            f"{MHSM}/restore/status/action",
            # unverified: settings (7.4) came after the 2022 recording; the emulator lets administrators have them
            f"{MHSM}/settings/read/action",
            f"{MHSM}/settings/write/action",
        ),
        (),
    ),
    # unverified: the Restore role (id from learn.microsoft.com, 2025) is newer than the recording; its name and
    # data actions are the emulator's reading of that page.
    "6efe6056-5259-49d2-8b3d-d3d73544b20b": (
        "Managed HSM Restore User",
        (f"{MHSM}/restore/start/action", f"{MHSM}/restore/status/action", f"{MHSM}/keys/restore/action"),
        (),
    ),
}
