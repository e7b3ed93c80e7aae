"""Certificate operations (certificates.json, 2026-04-01): JSON in, a model call, JSON out."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..errors import BadParameter
from ..objects.certificate_operations import CertificateOperation
from ..objects.certificate_policy import CertificatePolicy
from ..objects.certificates import Certificate
from ..objects.versioned import DeletedObject, VersionedObject
from .availability import field_exists
from .bodies import MISSING, read_attributes, read_bool, read_str, read_tags
from .certificate_policy_wire import issuer_block, policy_from_wire, policy_to_wire
from .common import deleted_fields, read_backup_blob, render_attributes, render_backup_blob, versions_or_none
from .context import Reply, RequestContext
from .operation import VAULT_DATA, Handler, Operation
from .paging import page_from_store, page_versions

__all__ = ["OPERATIONS", "certificate_record"]


# -- rendering ----------------------------------------------------------------------------------


def _bundle(ctx: RequestContext, cert: Certificate, *, with_policy: bool = True) -> dict[str, Any]:
    """CertificateBundle: ids, thumbprint and DER (once issued), attributes, tags, the policy and ``pending``.

    The service names the operation's URL in every bundle, completed or not (recorded: js SDK recordings of
    GET, PATCH, DELETE and recover, 2020-2021, service versions 1.1.6.0-1.2.265.0; issue 19 saw it through
    2023). A GET of one version shows no policy (issue 19, recorded traffic)."""
    base, name, version = ctx.base_url, cert.name, cert.version
    bundle: dict[str, Any] = {"id": f"{base}/certificates/{name}/{version}"}
    payload = cert.payload
    if payload.cer is not None:
        bundle["kid"] = f"{base}/keys/{name}/{version}"
        bundle["sid"] = f"{base}/secrets/{name}/{version}"
        bundle["x5t"] = payload.thumbprint
        bundle["cer"] = base64.b64encode(payload.cer).decode()
    bundle["attributes"] = render_attributes(ctx, cert.attributes)
    if cert.tags:
        bundle["tags"] = dict(cert.tags)
    policy = ctx.vault.certificates.policy_of(name) if with_policy else None
    if policy is not None:
        bundle["policy"] = _render_policy(ctx, policy, name)
    bundle["pending"] = {"id": f"{base}/certificates/{name}/pending"}
    if payload.preserve_order:
        bundle["preserveCertOrder"] = True
    return bundle


def _item(ctx: RequestContext, cert: Certificate, *, versioned: bool, deleted: bool = False) -> dict[str, Any]:
    """CertificateItem. Live lists (certificates and versions) end with ``"subject": ""`` and leave the recovery
    fields out of ``attributes``; deleted lists keep them and have no subject (recorded: js SDK recordings of
    GET /certificates, /versions and /deletedcertificates, 2020-2021)."""
    item: dict[str, Any] = {
        "id": f"{ctx.base_url}/certificates/{cert.name}" + (f"/{cert.version}" if versioned else "")
    }
    if cert.payload.thumbprint is not None:
        item["x5t"] = cert.payload.thumbprint
    attributes = render_attributes(ctx, cert.attributes)
    if not deleted:
        attributes.pop("recoveryLevel", None)
        attributes.pop("recoverableDays", None)
    item["attributes"] = attributes
    if cert.tags:
        item["tags"] = dict(cert.tags)
    if not deleted:
        item["subject"] = ""
    return item


def _deleted_bundle(ctx: RequestContext, deleted: DeletedObject[Any]) -> dict[str, Any]:
    current = ctx.vault.certificates.current_of(deleted.obj)
    return {**deleted_fields(ctx, "deletedcertificates", deleted), **_bundle(ctx, current)}


def _operation(ctx: RequestContext, operation: CertificateOperation) -> dict[str, Any]:
    """CertificateOperation, in the field order of the service's answers."""
    body: dict[str, Any] = {
        "id": f"{ctx.base_url}/certificates/{operation.name}/pending",
        "issuer": issuer_block(operation.issuer_name, operation.certificate_type, operation.cert_transparency),
        "csr": base64.b64encode(operation.csr).decode(),
        "cancellation_requested": operation.cancellation_requested,
        "status": operation.status,
    }
    if operation.status_details is not None:
        body["status_details"] = operation.status_details
    if operation.error is not None:
        body["error"] = operation.error
    if operation.status == "completed":
        body["target"] = f"{ctx.base_url}/certificates/{operation.name}"
    if operation.preserve_order:
        body["preserveCertOrder"] = True
    body["request_id"] = operation.request_id
    return body


# -- reading bodies -----------------------------------------------------------------------------


def _decode(value: str, field: str) -> bytes:
    try:
        text = value.strip().replace("-", "+").replace("_", "/")
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (ValueError, binascii.Error):
        raise BadParameter(f"Property {field} has invalid value\r\n") from None  # the service's pattern; unverified


def _policy(ctx: RequestContext, body: dict[str, Any]) -> CertificatePolicy | None:
    """The ``policy`` of a create or import body, read (None when absent)."""
    policy = body.get("policy")
    return None if policy is None else _read_policy(ctx, policy)


def _read_policy(ctx: RequestContext, value: Any, base: CertificatePolicy | None = None) -> CertificatePolicy:
    """A wire-form policy; with ``base``, the fields given change a copy of it."""
    if not isinstance(value, dict):
        raise BadParameter("Property policy has invalid value\r\n")  # unverified
    return policy_from_wire(_policy_at_version(ctx, value), base)


def _policy_at_version(ctx: RequestContext, policy: dict[str, Any]) -> dict[str, Any]:
    """A policy body as the requested api-version knows it: before 2026-04-01 ``platformManaged`` is an
    unknown property, which the service ignores like any other (unverified for this one)."""
    if "platformManaged" in policy and not field_exists("CertificatePolicy", "platformManaged", ctx.api_version):
        return {key: value for key, value in policy.items() if key != "platformManaged"}
    return policy


def _render_policy(ctx: RequestContext, policy: CertificatePolicy, name: str) -> dict[str, Any]:
    wire = policy_to_wire(policy, f"{ctx.base_url}/certificates/{name}/policy")
    if not field_exists("CertificatePolicy", "platformManaged", ctx.api_version):
        wire.pop("platformManaged", None)
    return wire


def _common(body: dict[str, Any]) -> dict[str, Any]:
    """``attributes.enabled``, ``tags`` and ``preserveCertOrder``: create and import share them."""
    attributes = read_attributes(body)
    tags = read_tags(body)
    preserve = read_bool(body, "preserveCertOrder")
    return {
        "enabled": attributes.get("enabled") is not False,
        "tags": None if tags is MISSING else tags,
        "preserve_order": None if preserve is MISSING else preserve,
    }


def _query_flag(ctx: RequestContext, name: str) -> bool:
    return str(ctx.query.get(name, "")).lower() == "true"


# -- certificates -------------------------------------------------------------------------------


def create_certificate(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    policy = _policy(ctx, body)
    if policy is None and name not in ctx.vault.certificates:
        raise BadParameter("Property policy is required\r\n")  # unverified: a first version needs a policy
    store = ctx.vault.certificates
    operation = store.create(name, policy, issuance_time=store.issuance_time, **_common(body))
    # Recorded 202s carry the operation's URL and a polling hint.
    location = f"{ctx.base_url}/certificates/{name}/pending?api-version={ctx.api_version.requested}"
    return Reply(_operation(ctx, operation), 202, headers=[("Location", location), ("Retry-After", "10")])


def import_certificate(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    value = read_str(body, "value", required=True)
    password = read_str(body, "pwd")
    data: bytes | str = value if "-----BEGIN" in value else _decode(value, "value")
    cert = ctx.vault.certificates.import_certificate(
        name,
        data,
        password=None if password in (MISSING, None, "") else password,
        policy=_policy(ctx, body),
        **_common(body),
    )
    return Reply(_bundle(ctx, cert))


def get_certificate(ctx: RequestContext, name: str, version: str) -> Reply:
    return Reply(_bundle(ctx, ctx.vault.certificates.get(name, version), with_policy=not version))


def update_certificate(ctx: RequestContext, name: str, version: str) -> Reply:
    body = ctx.json()
    store = ctx.vault.certificates
    if body.get("policy") is not None:
        store.update_policy(name, _read_policy(ctx, body["policy"], store.get_policy(name)))
    tags = read_tags(body)
    attributes = read_attributes(body)
    validity = {field: attributes[field] for field in ("not_before", "expires") if field in attributes}
    enabled = attributes.get("enabled")
    cert = store.update_properties(name, version, enabled=enabled, tags=None if tags is MISSING else tags, **validity)
    return Reply(_bundle(ctx, cert))


def get_certificates(ctx: RequestContext) -> Reply:
    store, pending = ctx.vault.certificates, _query_flag(ctx, "includePending")

    def fetch(start: str | None, count: int) -> tuple[list[Certificate], str | None]:
        return store.list_certificates_page(start, count, include_pending=pending)

    return Reply(page_from_store(ctx, fetch, lambda c: _item(ctx, c, versioned=False)))


def get_certificate_versions(ctx: RequestContext, name: str) -> Reply:
    versions = versions_or_none(ctx.vault.certificates, name)
    return Reply(page_versions(ctx, versions, lambda v: _item(ctx, v, versioned=True)))


def delete_certificate(ctx: RequestContext, name: str) -> Reply:
    outcome = ctx.vault.certificates.delete(name)
    if isinstance(outcome, VersionedObject):  # soft delete off: gone for good, no recoveryId
        return Reply(_bundle(ctx, ctx.vault.certificates.current_of(outcome)))
    return Reply(_deleted_bundle(ctx, outcome))


def get_deleted_certificate(ctx: RequestContext, name: str) -> Reply:
    return Reply(_deleted_bundle(ctx, ctx.vault.certificates.get_deleted(name)))


def get_deleted_certificates(ctx: RequestContext) -> Reply:
    store, pending = ctx.vault.certificates, _query_flag(ctx, "includePending")

    def fetch(start: str | None, count: int) -> tuple[list[DeletedObject[Any]], str | None]:
        found, following = store.list_deleted_certificates_page(start, count, include_pending=pending)
        return list(found), following

    def render(record: DeletedObject[Any]) -> dict[str, Any]:
        item = _item(ctx, store.current_of(record.obj), versioned=False, deleted=True)
        return {**deleted_fields(ctx, "deletedcertificates", record), **item}

    return Reply(page_from_store(ctx, fetch, render))


def recover_deleted_certificate(ctx: RequestContext, name: str) -> Reply:
    store = ctx.vault.certificates
    return Reply(_bundle(ctx, store.current_of(store.recover(name))))


def purge_deleted_certificate(ctx: RequestContext, name: str) -> Reply:
    ctx.vault.certificates.purge(name)
    return Reply(None, 204)


def backup_certificate(ctx: RequestContext, name: str) -> Reply:
    return Reply(render_backup_blob(ctx.vault.certificates.backup(name)))


def restore_certificate(ctx: RequestContext) -> Reply:
    return Reply(_bundle(ctx, ctx.vault.certificates.restore_backup(read_backup_blob(ctx))))


# -- policy and operation -----------------------------------------------------------------------


def get_certificate_policy(ctx: RequestContext, name: str) -> Reply:
    store = ctx.vault.certificates
    policy = store.get_policy(name)
    return Reply(_render_policy(ctx, policy, store.get_object(name).name))


def update_certificate_policy(ctx: RequestContext, name: str) -> Reply:
    store = ctx.vault.certificates
    policy = store.update_policy(name, _read_policy(ctx, ctx.json(), store.get_policy(name)))
    return Reply(_render_policy(ctx, policy, store.get_object(name).name))


def get_certificate_operation(ctx: RequestContext, name: str) -> Reply:
    return Reply(_operation(ctx, ctx.vault.certificates.poll(name)))


def update_certificate_operation(ctx: RequestContext, name: str) -> Reply:
    requested = read_bool(ctx.json(), "cancellation_requested")
    if requested is MISSING or requested is None:
        raise BadParameter("Property cancellation_requested is required\r\n")  # unverified
    store = ctx.vault.certificates
    operation = store.cancel_operation(name) if requested else store.get_operation(name)
    return Reply(_operation(ctx, operation))


def delete_certificate_operation(ctx: RequestContext, name: str) -> Reply:
    return Reply(_operation(ctx, ctx.vault.certificates.delete_operation(name)))


def merge_certificate(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    x5c = body.get("x5c")
    if not isinstance(x5c, list) or not all(isinstance(item, str) for item in x5c):
        # Quoted by Microsoft support (MicrosoftDocs/azure-docs#100959).
        raise BadParameter("Property x5c has invalid value X5C must has at least one valid item")
    tags = read_tags(body)
    cert = ctx.vault.certificates.merge(
        name,
        [item.encode() if "-----" in item else _decode(item, "x5c") for item in x5c],  # PEM text as it came
        enabled=read_attributes(body).get("enabled"),
        tags=None if tags is MISSING else tags,
    )
    return Reply(_bundle(ctx, cert), 201)


def certificate_record(
    method: str, path: str, name: str, handler: Handler, *, permission: str, action: str, **more: Any
) -> Operation:
    """A certificates.json operation: its access-policy permission on certificates and its data action."""
    return Operation(
        method, path, name, handler, permission=("certificates", permission), action=f"{VAULT_DATA}/{action}", **more
    )


OPERATIONS: tuple[Operation, ...] = (
    certificate_record(
        "GET", "/certificates", "GetCertificates", get_certificates, permission="list", action="certificates/read"
    ),
    certificate_record(
        "DELETE",
        "/certificates/{certificate-name}",
        "DeleteCertificate",
        delete_certificate,
        permission="delete",
        action="certificates/delete",
    ),
    certificate_record(
        "GET",
        "/certificates/{certificate-name}/{certificate-version}",
        "GetCertificate",
        get_certificate,
        permission="get",
        action="certificates/read",
    ),
    certificate_record(
        "PATCH",
        "/certificates/{certificate-name}/{certificate-version}",
        "UpdateCertificate",
        update_certificate,
        permission="update",
        action="certificates/update/action",
    ),
    # Certificate backup and restore came with 7.0 (recalled; unverified here).
    certificate_record(
        "POST",
        "/certificates/{certificate-name}/backup",
        "BackupCertificate",
        backup_certificate,
        permission="backup",
        action="certificates/backup/action",
        since="7.0",
    ),
    certificate_record(
        "POST",
        "/certificates/{certificate-name}/create",
        "CreateCertificate",
        create_certificate,
        permission="create",
        action="certificates/create/action",
        throttle="secret-create",
    ),
    certificate_record(
        "POST",
        "/certificates/{certificate-name}/import",
        "ImportCertificate",
        import_certificate,
        permission="import",
        action="certificates/import/action",
        throttle="secret-create",
    ),
    certificate_record(
        "GET",
        "/certificates/{certificate-name}/pending",
        "GetCertificateOperation",
        get_certificate_operation,
        permission="get",
        action="certificates/read",
    ),
    certificate_record(
        "PATCH",
        "/certificates/{certificate-name}/pending",
        "UpdateCertificateOperation",
        update_certificate_operation,
        permission="update",
        action="certificates/update/action",
    ),
    certificate_record(
        "DELETE",
        "/certificates/{certificate-name}/pending",
        "DeleteCertificateOperation",
        delete_certificate_operation,
        permission="update",  # the spec: "requires the certificates/update permission"
        action="certificates/update/action",  # unverified: by analogy with the access-policy permission
    ),
    certificate_record(
        "POST",
        "/certificates/{certificate-name}/pending/merge",
        "MergeCertificate",
        merge_certificate,
        permission="create",
        action="certificates/create/action",
    ),
    certificate_record(
        "GET",
        "/certificates/{certificate-name}/policy",
        "GetCertificatePolicy",
        get_certificate_policy,
        permission="get",
        action="certificates/read",
    ),
    certificate_record(
        "PATCH",
        "/certificates/{certificate-name}/policy",
        "UpdateCertificatePolicy",
        update_certificate_policy,
        permission="update",
        action="certificates/update/action",
    ),
    certificate_record(
        "GET",
        "/certificates/{certificate-name}/versions",
        "GetCertificateVersions",
        get_certificate_versions,
        permission="list",
        action="certificates/read",
    ),
    certificate_record(
        "POST",
        "/certificates/restore",
        "RestoreCertificate",
        restore_certificate,
        permission="restore",
        action="certificates/restore/action",
        since="7.0",
    ),
    # Soft delete came with 2016-10-01 (recalled from the service's changelog; unverified here).
    certificate_record(
        "GET",
        "/deletedcertificates",
        "GetDeletedCertificates",
        get_deleted_certificates,
        permission="list",
        action="certificates/read",
        since="2016-10-01",
    ),
    certificate_record(
        "GET",
        "/deletedcertificates/{certificate-name}",
        "GetDeletedCertificate",
        get_deleted_certificate,
        permission="get",  # the spec: "requires the certificates/get permission"
        action="certificates/read",
        since="2016-10-01",
    ),
    certificate_record(
        "DELETE",
        "/deletedcertificates/{certificate-name}",
        "PurgeDeletedCertificate",
        purge_deleted_certificate,
        permission="purge",
        action="certificates/purge/action",
        since="2016-10-01",
    ),
    certificate_record(
        "POST",
        "/deletedcertificates/{certificate-name}/recover",
        "RecoverDeletedCertificate",
        recover_deleted_certificate,
        permission="recover",
        action="certificates/recover/action",
        since="2016-10-01",
    ),
)
