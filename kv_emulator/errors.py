"""The Key Vault error kinds: one class per (status, code, inner code, message template).

Models, handlers and the pipeline raise these; only the pipeline's render step (``kv_emulator.http.app``)
turns them into a response, with the headers an error carries (the challenge of a 401, a 429's
``Retry-After``). Texts marked ``verified = True`` were seen in real service traffic (``research/protocol.md``
§3); the others are our best clear wording and are listed in ``docs/errors.md``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BackupBlobInvalid",
    "BadParameter",
    "ContactsNotFound",
    "DeletedObjectDisabled",
    "DeletedObjectNotFound",
    "Forbidden",
    "HsmAccessDenied",
    "HsmRbacNotFound",
    "HsmSettingNotFound",
    "InternalError",
    "InvalidToken",
    "IssuerNotFound",
    "KeyForbidden",
    "KeyVaultError",
    "ManagedByKeyVault",
    "MergeForbidden",
    "MethodNotAllowed",
    "MissingToken",
    "NameInUse",
    "ObjectAlreadyExists",
    "ObjectDisabled",
    "ObjectIsDeletedButRecoverable",
    "ObjectNotDeleted",
    "ObjectNotFound",
    "OperationNotImplemented",
    "PendingCertificateNotFound",
    "PendingOperationConflict",
    "PurgeNotAllowed",
    "RouteNotFound",
    "TargetNotAttested",
    "Throttled",
    "UnknownApiVersion",
    "VaultNotDeclared",
]

_HELP_LINK = "https://go.microsoft.com/fwlink/?linkid=2125182"

# The kind of object as the service names it in codes ("SecretNotFound") and in messages ("secret").
_NOUNS = {"secret": "Secret", "key": "Key", "certificate": "Certificate"}


class KeyVaultError(Exception):
    """An error the service answers with ``{"error": {"code", "message", "innererror"?}}``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BadParameter"
    inner_code: ClassVar[str | None] = None
    verified: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: list[tuple[str, str]] = []
        """Headers the answer carries beyond the service's usual ones."""
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may narrow the class code

    def body(self) -> dict[str, object] | None:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.inner_code:
            error["innererror"] = {"code": self.inner_code}
        return {"error": error}


class BadParameter(KeyVaultError):
    """A malformed request: bad name, body, type or size.

    Texts seen from the real service (issue logs): ``The request URI contains an invalid name: {name}``,
    ``Property has invalid value\r\n`` (too many tags), ``Secret is beyond the maximum permitted length
    of 25600 characters.`` (inner ``SecretTooLarge``). Others are ours and listed in ``docs/errors.md``.
    """

    def __init__(self, message: str, *, inner_code: str | None = None) -> None:
        super().__init__(message)
        if inner_code:
            self.inner_code = inner_code  # type: ignore[misc]


class UnknownApiVersion(KeyVaultError):
    """An api-version the service does not know: real answers quoted in azure-sdk-for-net#14789 and
    azure-sdk-for-python#28595 (research/protocol.md); not in the SDK recordings."""

    verified = True

    def __init__(self, version: str, latest: str) -> None:
        super().__init__(
            f"The specified version ({version}) is not recognized. "
            f"Consider using the latest supported version ({latest})."
        )


class ObjectNotFound(KeyVaultError):
    """``SecretNotFound`` / ``KeyNotFound`` / ``CertificateNotFound`` with the service's long message (recorded for
    all three: cpp SDK 2021-22, Go SDK 2023 api 7.4, Java SDK 2026-06 for certificates)."""

    status = 404
    verified = True

    def __init__(self, kind: str, name: str, version: str | None = None) -> None:
        noun = _NOUNS[kind]
        # A certificate version is named "<name>/versions/<version>" (recorded traffic, issue 19).
        ident = (f"{name}/versions/{version}" if kind == "certificate" else f"{name}/{version}") if version else name
        super().__init__(
            f"A {kind} with (name/id) {ident} was not found in this key vault. If you recently deleted "
            f"this {kind} you may be able to recover it using the correct recovery command. For help "
            f"resolving this issue, please see {_HELP_LINK}",
            code=f"{noun}NotFound",
        )


class DeletedObjectNotFound(KeyVaultError):
    """``Deleted Secret not found: {name}`` (``Key``, ``Certificate``): recorded for all three, 2017-2023."""

    status = 404
    verified = True

    def __init__(self, kind: str, name: str) -> None:
        noun = _NOUNS[kind]
        super().__init__(f"Deleted {noun} not found: {name}", code=f"{noun}NotFound")


class ObjectIsDeletedButRecoverable(KeyVaultError):
    """Recorded for secrets (js SDK 2019-20), keys (cpp SDK ``CreateDeletedKey``, 2021-12, api 7.3) and
    certificates (js SDK 2019-11)."""

    status = 409
    code = "Conflict"
    inner_code = "ObjectIsDeletedButRecoverable"
    verified = True

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(
            f"{_NOUNS[kind]} {name} is currently in a deleted but recoverable state, and its name cannot be "
            f"reused; in this state, the {kind} can only be recovered or purged."
        )


class ObjectNotDeleted(KeyVaultError):
    """Recovering an object that is live, not deleted: 400 with code ``MethodNotAllowed`` (recorded for secrets,
    2020 and 2023, issue 19; the key and certificate variants follow the secret's and are unverified)."""

    status = 400
    code = "MethodNotAllowed"
    inner_code = "RequestNotAllowedOnNonDeletedObject"
    verified = True

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{_NOUNS[kind]} exists already: {name}")


class ObjectAlreadyExists(KeyVaultError):
    """Restoring a backup whose name is in use: the service names the backed-up version by its full id.

    Recorded 2021-02 .. 2023-03 (Go SDK ``azsecrets``/``azkeys``/``azcertificates`` ``TestBackupRestore.json``,
    api 7.2-7.4; js SDK 2021); 2019-2020 the text was "Conflict while restoring secret {id} - secret already
    exists or concurrent access". The handler adds the vault's URL with :meth:`at`.
    """

    status = 409
    code = "Conflict"
    verified = True

    def __init__(self, kind: str, name: str, version: str, base_url: str = "") -> None:
        self.kind, self.name, self.version = kind, name, version
        super().__init__(
            f"There was a conflict restoring the {kind} '{base_url}/{kind}s/{name}/{version}'. This can happen if "
            f"either: a second {kind} with the same name was created after the first {kind} was deleted; thus "
            f"trying to restore a {kind} whose name is already in use. To fix this, rename the second {kind} to "
            "something else so that the restore works. The second probable cause of this exception is when "
            f"multiple operations are performed in parallel against the {kind}. To avoid this error, perform "
            f"operations against a {kind} in a sequential manner."
        )

    def at(self, base_url: str) -> ObjectAlreadyExists:
        """The same refusal, naming the version by its id under ``base_url`` (known to handlers only)."""
        return ObjectAlreadyExists(self.kind, self.name, self.version, base_url)


class ObjectDisabled(KeyVaultError):
    """``Operation get is not allowed on a disabled secret.`` (verified for secrets: js SDK recordings 2019-2021,
    azure-sdk-for-node 2018, azure-keyvault-java 2019, azure-sdk-for-js#25759 in 2023 with api 7.4)."""

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, kind: str, operation: str) -> None:
        super().__init__(f"Operation {operation} is not allowed on a disabled {kind}.")
        self.inner_code = f"{_NOUNS[kind]}Disabled"  # type: ignore[misc]


class DeletedObjectDisabled(KeyVaultError):
    """Getting a deleted secret whose latest version is disabled: 403 ``Operation get is not permitted on this
    object.`` with inner code ``AccessDenied`` (recorded 2020, the whole body: Python SDK
    ``test_secrets_async.test_secret_crud_operations.yaml``, api 7.1; js SDK
    ``recording_cant_get_a_disabled_secret``)."""

    status = 403
    code = "Forbidden"
    inner_code = "AccessDenied"
    verified = True

    def __init__(self, kind: str, operation: str) -> None:
        super().__init__(f"Operation {operation} is not permitted on this object.")


class PurgeNotAllowed(KeyVaultError):
    """Purge in a vault with purge protection (seen in Terraform logs of the real service)."""

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, vault: str) -> None:
        super().__init__(
            'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault '
            "service will automatically purge it after the retention period has passed.\r\n"
            f"Vault: {vault}"
        )


class BackupBlobInvalid(KeyVaultError):
    """Restore of a blob the service cannot read; two texts, both 400 ``Malformed backup blob``.

    A blob without a version the service knows that decodes to something blob-shaped (all zeros, another kind's
    blob): ``Backup blob contains invalid or corrupt version.`` (Azure/azure-sdk-assets js keys
    ``recording_fails_to_restore_a_key_with_a_malformed_backup.json``, 2026-05, api 2025-07-01; js SDK 2019-2021).
    Short garbage, or a blob whose content was changed or cut (``corrupt=True``): ``Backup blob is corrupt.`` (Go
    SDK 2021-22, Java SDK 2023).
    """

    code = "Malformed backup blob"
    verified = True

    def __init__(self, *, corrupt: bool = False) -> None:
        super().__init__("Backup blob is corrupt." if corrupt else "Backup blob contains invalid or corrupt version.")


class ManagedByKeyVault(KeyVaultError):
    """A direct change to the key or secret behind a certificate: their lifetime is the certificate's.

    Verified for ``set`` on a secret (a Terraform log of the real service: 403, inner ``SecretManagedByKeyVault``)
    and for ``delete`` on the key and the secret (js SDK recordings 2019-2021: ``Operation "delete" is not allowed
    …``, inner ``KeyManagedByKeyVault`` / ``SecretManagedByKeyVault``); other operations unverified.
    """

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, kind: str, operation: str) -> None:
        super().__init__(f'Operation "{operation}" is not allowed as this object\'s lifetime is managed by Key Vault.')
        self.inner_code = f"{_NOUNS[kind]}ManagedByKeyVault"  # type: ignore[misc]


class NameInUse(KeyVaultError):
    """A certificate whose name a plain key or secret already has (its own key and secret need it). Unverified."""

    status = 409
    code = "Conflict"

    def __init__(self, name: str, kind: str) -> None:
        super().__init__(
            f"A {kind} with the name {name} already exists in this vault; a certificate's key and secret share its "
            "name, so the certificate cannot use it."
        )


class PendingCertificateNotFound(KeyVaultError):
    """No certificate operation for this name: ``Pending Certificate not found: {name}``, capital C, as recorded in
    2026-06 (Azure/azure-sdk-assets Java ``CertificateClientTest.getCertificateOperationNotFound`` and
    ``mergeCertificateNotFound``, api 2026-03-01-preview); 2018-2022 recordings (Python, Go, js) had a lower-case c."""

    status = 404
    code = "PendingCertificateNotFound"
    verified = True

    def __init__(self, name: str) -> None:
        super().__init__(f"Pending Certificate not found: {name}")


class PendingOperationConflict(KeyVaultError):
    """Create or import while an operation is in progress: 409 with code ``Conflict`` as recorded (js SDK
    ``recording_can_retrieve_all_versions_of_a_certificate``, 2019-08 .. 2019-11, api 7.0); the service's docs
    ("Monitor and manage certificate creation") show the code ``Forbidden``, which is not what it sends."""

    status = 409
    code = "Conflict"
    verified = True

    def __init__(self) -> None:
        super().__init__(
            "A new key vault certificate can not be created or imported while a pending key vault certificate's "
            "status is inProgress."
        )


class MergeForbidden(KeyVaultError):
    """Merge into an operation an issuer is still working on: the text of the service's docs ("Monitor and manage
    certificate creation"), typo included; not seen in recorded traffic."""

    status = 403
    code = "Forbidden"

    def __init__(self, issuer: str) -> None:
        super().__init__(f"Merge is forbidden on pending object created with issuer : {issuer} while it is in progess.")


class IssuerNotFound(KeyVaultError):
    """A certificate issuer that does not exist: "Issuer not found" to a GET (recorded: Python SDK 2018-2020, Go SDK
    ``TestClient_IssuerCRUD`` 2022-05, api 7.3); an update names it, "Issuer notexist not found" (recorded traffic,
    issue 19; its status and code are unverified)."""

    status = 404
    code = "CertificateIssuerNotFound"
    verified = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(f"Issuer {name} not found" if name else "Issuer not found")


class ContactsNotFound(KeyVaultError):
    """No certificate contacts are set (recorded: Python SDK 2018-2020, azure-keyvault-java 2019, Go SDK
    ``TestClient_ContactsCRUD`` 2022-05, api 7.3)."""

    status = 404
    code = "ContactsNotFound"
    verified = True

    def __init__(self) -> None:
        super().__init__("Contacts not found")


class RouteNotFound(KeyVaultError):
    """No Key Vault operation has this path. Text unverified."""

    status = 404
    code = "NotFound"

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"No Key Vault operation matches {method} {path}.")


class MethodNotAllowed(KeyVaultError):
    """The path exists, but not for this HTTP method, or it leaves an object's name empty (``PUT /secrets/``).

    Recorded from the service for ``PUT /secrets/`` (Java SDK ``setSecretEmptyName``, 2023-10, api 7.4) and
    ``POST /certificates//create`` (``createCertificateEmptyName``, 2026-06), no innererror; for another method on a
    known path the same text is presumed.
    """

    status = 405
    code = "MethodNotAllowed"
    verified = True

    def __init__(self, method: str) -> None:
        super().__init__(f"HTTP {method} not allowed")


class OperationNotImplemented(KeyVaultError):
    """A spec operation that kv-emulator does not implement yet: loud, never silent."""

    status = 501
    code = "NotImplemented"

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"kv-emulator does not implement the Key Vault operation '{operation}' yet. "
            "See docs/coverage.md for what is implemented."
        )


class VaultNotDeclared(KeyVaultError):
    """A host that is no vault of this emulator (emulator-specific: the real world fails at DNS)."""

    status = 404
    code = "VaultNotFound"

    def __init__(self, host: str, *, strict: bool) -> None:
        if strict:
            message = (
                f"kv-emulator: the vault host '{host}' was not declared and strict_hosts is on. Declare it "
                "with vaults=[...] or Emulator.vault(name) before using it."
            )
        else:
            message = f"kv-emulator: '{host}' is not a Key Vault host; vaults are https://<name>.vault.azure.net."
        super().__init__(message)


class InternalError(KeyVaultError):
    """An unexpected exception inside the emulator: a Key Vault-shaped 500, recorded in the journal."""

    status = 500
    code = "InternalServerError"

    def __init__(self, operation: str, exc: BaseException) -> None:
        super().__init__(
            f"kv-emulator failed while handling '{operation}': {type(exc).__name__}: {exc}. "
            "This is a bug in kv-emulator; the request journal holds the traceback."
        )


class MissingToken(KeyVaultError):
    """The challenge: a request without a bearer token. The pipeline passes the ``WWW-Authenticate`` value.

    Recorded 2026-04 (Azure/azure-sdk-assets, Python keys recordings, vault and Managed HSM).
    """

    status = 401
    code = "Unauthorized"
    verified = True

    def __init__(self, challenge: str, *, empty_body: bool = False) -> None:
        super().__init__("AKV10000: Request is missing a Bearer, PoP, or MTLS_POP token.")
        self.empty_body = empty_body
        self.headers = [("WWW-Authenticate", challenge)]

    def body(self) -> dict[str, object] | None:
        return None if self.empty_body else super().body()  # a Managed HSM's 401 has an empty body


class InvalidToken(KeyVaultError):
    """strict_auth: a token the vault does not accept. 401 with the challenge, so the SDK can start over.

    The ``AKV100xx`` texts follow the service's pattern; only the audience one is close to a recorded text.
    """

    status = 401
    code = "Unauthorized"

    def __init__(self, message: str, challenge: str) -> None:
        super().__init__(message)
        self.headers = [("WWW-Authenticate", challenge)]


class Throttled(KeyVaultError):
    """The service's 429 (recorded, AzureSignTool#219): no Retry-After unless one is configured."""

    status = 429
    code = "Throttled"
    verified = True

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        super().__init__(
            "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"
        )
        self.headers = headers


class Forbidden(KeyVaultError):
    """Access denied by RBAC (``ForbiddenByRbac``) or access policies (``AccessDenied``), or by the network rules.

    Texts from real vaults (Microsoft blog posts and issue logs); the access-policy text is also recorded (Python SDK
    ``test_crypto_client.test_encrypt_and_decrypt.yaml``, 2020-07, inner ``ForbiddenByPolicy``). Of the network
    rules' texts, the firewall's follows public logs and the public-access one is ours (docs/errors.md).
    """

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, message: str, inner_code: str) -> None:
        super().__init__(message)
        self.inner_code = inner_code  # type: ignore[misc]


class HsmAccessDenied(KeyVaultError):
    """A Managed HSM's refusal by local RBAC: ``(AccessDenied) Not authorized to access
    Microsoft.KeyVault/managedHsm/roleAssignments/read/action on / (Activity ID: <guid>)`` (seen in an issue log:
    Azure/azure-cli#32719, 2026; the Activity ID is the request id). The same form for key actions is unverified."""

    status = 403
    code = "AccessDenied"
    verified = True

    def __init__(self, action: str, scope: str, activity_id: str) -> None:
        super().__init__(f"Not authorized to access {action} on {scope} (Activity ID: {activity_id})")


class HsmRbacNotFound(KeyVaultError):
    """404 for a Managed HSM role assignment (``RoleAssignmentNotFound``, "Requested role assignment not found
    (Activity ID: ...)", recorded: azure-sdk-for-js keyvault-admin, 2022) or definition (its text unverified)."""

    status = 404

    def __init__(self, code: str, text: str, activity_id: str) -> None:
        super().__init__(f"{text} (Activity ID: {activity_id})", code=code)


class HsmSettingNotFound(KeyVaultError):
    """A Managed HSM setting name it does not have (unverified status, code and text)."""

    status = 404
    code = "SettingNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f"The setting '{name}' was not found.")


class KeyForbidden(KeyVaultError):
    """403 ``Forbidden`` for an operation the key does not allow."""

    status = 403
    code = "Forbidden"

    def __init__(self, message: str, inner_code: str | None = None) -> None:
        super().__init__(message)
        self.inner_code = inner_code  # type: ignore[misc]


class TargetNotAttested(KeyVaultError):
    """The attestation token is not one the vault can verify, or does not satisfy the release policy.

    ``Target environment attestation statement cannot be verified.`` with inner ``AccessDenied`` is recorded (Go SDK
    ``azkeys`` ``TestReleaseKey_NON-HSM.json``, 2021-12, api 7.3-preview); the policy-not-satisfied text is ours.
    """

    status = 403
    code = "Forbidden"
    inner_code = "AccessDenied"
