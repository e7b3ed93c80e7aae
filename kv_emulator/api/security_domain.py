"""A Managed HSM's security domain (securitydomain.json, 7.2-2025-07-01): download, transfer key, upload.

The download answers 202 with the security domain file at once (``{"value": "<the file as a JSON string>"}``)
and ``Azure-AsyncOperation`` naming ``/securitydomain/download/pending``, which reports the activation
(``InProgress``, then ``Success``: the SDK's poller treats "Success" as done). The upload answers 202 with its
status and ``/securitydomain/upload/pending``. Status bodies use ``status`` and ``status_details`` (the spec's
names; azure-keyvault-securitydomain 1.0.0b4's models).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import BadParameter
from ..objects.security_domain import HsmNotActivated
from ..objects.vault import Vault
from .context import Reply, RequestContext
from .operation import Operation, admin_record

__all__ = ["OPERATIONS", "check_activated"]

RETRY_AFTER = "5"  # unverified for these operations; the backup operations' examples say 5
MIN_CERTIFICATES, MAX_CERTIFICATES = 3, 10  # "minimum 3 and maximum 10" (the SDK's docstring, the service docs)


def check_activated(vault: Vault, operation: str) -> None:
    """Only the security domain operations answer on a Managed HSM that is not activated."""
    if vault.managed_hsm and operation not in _UNLOCKED and not vault.activated:
        raise HsmNotActivated(vault.name)


def _certificate(jwk: Any, index: int) -> x509.Certificate:
    """The certificate of one ``SecurityDomainJsonWebKey`` (its ``x5c`` leaf): an RSA key to wrap a share to."""
    # Unverified texts below: the service's wording for a bad certificate list is not recorded.
    if not isinstance(jwk, dict) or not isinstance(jwk.get("x5c"), list) or not jwk["x5c"]:
        raise BadParameter(f"Property certificates[{index}].x5c is required\r\n")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(str(jwk["x5c"][0]), validate=True))
    except (ValueError, binascii.Error):
        raise BadParameter(f"Property certificates[{index}].x5c has invalid value\r\n") from None
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise BadParameter(f"Property certificates[{index}] must hold an RSA key\r\n")
    return certificate


def download(ctx: RequestContext) -> Reply:
    body = ctx.json()
    jwks = body.get("certificates")
    if not isinstance(jwks, list) or not MIN_CERTIFICATES <= len(jwks) <= MAX_CERTIFICATES:
        raise BadParameter(  # unverified text
            f"The security domain download needs between {MIN_CERTIFICATES} and {MAX_CERTIFICATES} certificates."
        )
    certificates = [_certificate(jwk, index) for index, jwk in enumerate(jwks)]
    required = body.get("required")
    if isinstance(required, bool) or not isinstance(required, int) or not 2 <= required <= len(certificates):
        raise BadParameter(  # unverified text
            f"Property required has invalid value: the quorum must be between 2 and {len(certificates)}.\r\n"
        )
    document = ctx.vault.security_domain.download(certificates, required)
    pending = f"{ctx.base_url}/securitydomain/download/pending"
    return Reply(
        {"value": json.dumps(document)},
        202,
        headers=[("Azure-AsyncOperation", pending), ("Retry-After", RETRY_AFTER)],
    )


def _status(ctx: RequestContext, operation: str) -> dict[str, Any]:
    status, details = ctx.vault.security_domain.status(operation)
    return {"status": status, "status_details": details}


def download_pending(ctx: RequestContext) -> Reply:
    return Reply(_status(ctx, "download"))


def transfer_key(ctx: RequestContext) -> Reply:
    # The JWK travels as a JSON string (the SDK's live test reads it with json.loads(str(...)), 2025).
    return Reply({"key_format": "jwk", "transfer_key": json.dumps(ctx.vault.security_domain.transfer_key())})


def upload(ctx: RequestContext) -> Reply:
    value = ctx.json().get("value")
    if not isinstance(value, str) or not value:
        raise BadParameter("Property value is required\r\n")  # unverified text
    ctx.vault.security_domain.upload(value)
    pending = f"{ctx.base_url}/securitydomain/upload/pending"
    return Reply(
        _status(ctx, "upload"),
        202,
        headers=[("Azure-AsyncOperation", pending), ("Retry-After", RETRY_AFTER)],
    )


def upload_pending(ctx: RequestContext) -> Reply:
    return Reply(_status(ctx, "upload"))


OPERATIONS: tuple[Operation, ...] = (
    # securitydomain.json came with 7.2 (the specs' folders).
    admin_record(
        "POST",
        "/securitydomain/download",
        "HSMSecurityDomain_Download",
        download,
        hsm_action="securitydomain/download/action",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/securitydomain/download/pending",
        "HSMSecurityDomain_DownloadPending",
        download_pending,
        hsm_action="securitydomain/download/read",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/securitydomain/upload",
        "HSMSecurityDomain_TransferKey",
        transfer_key,
        hsm_action="securitydomain/transferkey/read",
        since="7.2",
    ),
    admin_record(
        "POST",
        "/securitydomain/upload",
        "HSMSecurityDomain_Upload",
        upload,
        hsm_action="securitydomain/upload/action",
        since="7.2",
    ),
    admin_record(
        "GET",
        "/securitydomain/upload/pending",
        "HSMSecurityDomain_UploadPending",
        upload_pending,
        hsm_action="securitydomain/upload/read",
        since="7.2",
    ),
)
#: What a Managed HSM answers before it is activated.
_UNLOCKED = frozenset(record.name for record in OPERATIONS)
