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
    verified = True

    def __init__(self, version: str, latest: str) -> None:
        super().__init__(
            f"The specified version ({version}) is not recognized. "
            f"Consider using the latest supported version ({latest})."
        )


class ObjectNotFound(KeyVaultError):
    """``SecretNotFound`` / ``KeyNotFound`` / ``CertificateNotFound`` with the service's long message."""

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
    status = 404
    verified = True

    def __init__(self, kind: str, name: str) -> None:
        noun = _NOUNS[kind]
        super().__init__(f"Deleted {noun} not found: {name}", code=f"{noun}NotFound")


class ObjectIsDeletedButRecoverable(KeyVaultError):
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
    """Restoring a backup over a live object of the same name. Text unverified."""

    status = 409
    code = "Conflict"

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(
            f"{_NOUNS[kind]} {name} already exists in this vault; a backup can only be restored when no "
            f"{kind} of that name exists."
        )


class ObjectDisabled(KeyVaultError):
    """``Operation get is not allowed on a disabled secret.`` (verified for secrets)."""

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, kind: str, operation: str) -> None:
        super().__init__(f"Operation {operation} is not allowed on a disabled {kind}.")
        self.inner_code = f"{_NOUNS[kind]}Disabled"  # type: ignore[misc]


class DeletedObjectDisabled(KeyVaultError):
    """Getting a deleted secret whose latest version is disabled: 403 ``Operation get is not permitted on this
    object.`` (recorded 2020-21, issue 19). The inner code ``SecretDisabled`` is unverified (the live form's)."""

    status = 403
    code = "Forbidden"
    verified = True

    def __init__(self, kind: str, operation: str) -> None:
        super().__init__(f"Operation {operation} is not permitted on this object.")
        self.inner_code = f"{_NOUNS[kind]}Disabled"  # type: ignore[misc]


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
    """Restore of a blob the service cannot read.

    A blob without a version it knows (garbage, all zeros, another kind's blob): ``Backup blob contains invalid or
    corrupt version.`` (recorded, js SDK 2022, an all-zero blob). A blob with a good version whose content was
    changed or cut (``corrupt=True``): ``Backup blob is corrupt.`` (recorded, issue 19; that it carries the same
    code is unverified).
    """

    code = "Malformed backup blob"
    verified = True

    def __init__(self, *, corrupt: bool = False) -> None:
        super().__init__("Backup blob is corrupt." if corrupt else "Backup blob contains invalid or corrupt version.")


class ManagedByKeyVault(KeyVaultError):
    """A direct change to the key or secret behind a certificate: their lifetime is the certificate's.

    Verified for ``set`` on a secret (a Terraform log of the real service: 403, inner ``SecretManagedByKeyVault``);
    the same text for other operations and for keys (``KeyManagedByKeyVault``) is unverified.
    """

    status = 403
    code = "Forbidden"

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
    """No certificate operation for this name (recorded, js SDK 2020: ``Pending certificate not found: {name}``)."""

    status = 404
    code = "PendingCertificateNotFound"
    verified = True

    def __init__(self, name: str) -> None:
        super().__init__(f"Pending certificate not found: {name}")


class PendingOperationConflict(KeyVaultError):
    """Create or import while an operation is in progress: 409 with code ``Forbidden``, as the service's docs
    show it ("Monitor and manage certificate creation"); not seen in recorded traffic."""

    status = 409
    code = "Forbidden"

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
    """A certificate issuer that does not exist: "Issuer not found" to a GET (recorded, js SDK 2021); an update
    names it, "Issuer notexist not found" (recorded traffic, issue 19; its status and code are unverified)."""

    status = 404
    code = "CertificateIssuerNotFound"
    verified = True

    def __init__(self, name: str | None = None) -> None:
        super().__init__(f"Issuer {name} not found" if name else "Issuer not found")


class ContactsNotFound(KeyVaultError):
    """No certificate contacts are set (the code is recorded by the SDKs' tests; the text is unverified)."""

    status = 404
    code = "ContactsNotFound"

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

    Recorded from the service for ``PUT /secrets/`` and ``POST /certificates//create`` (2022), no innererror.
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
    """The challenge: a request without a bearer token. The pipeline passes the ``WWW-Authenticate`` value."""

    status = 401
    code = "Unauthorized"
    verified = True  # recorded 2026-04 (Azure/azure-sdk-assets, Python keys recordings, vault and mhsm)

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
    """Access denied by RBAC (``ForbiddenByRbac``) or access policies (``AccessDenied``)."""

    status = 403
    code = "Forbidden"
    verified = True  # texts from real vaults (Microsoft blog posts and issue logs)

    def __init__(self, message: str, inner_code: str) -> None:
        super().__init__(message)
        self.inner_code = inner_code  # type: ignore[misc]


class HsmAccessDenied(KeyVaultError):
    """A Managed HSM's refusal by local RBAC: ``(AccessDenied) Not authorized to access
    Microsoft.KeyVault/managedHsm/roleAssignments/read/action on / (Activity ID: <guid>)`` (seen: Azure/azure-cli
    issue 32719, 2026; the Activity ID is the request id). The same form for key actions is unverified."""

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
    """The attestation token is not one the vault can verify, or does not satisfy the release policy."""

    status = 403
    code = "Forbidden"
