"""Secrets operations (secrets.json, 2026-04-01): JSON in, a model call, JSON out."""

from __future__ import annotations

from typing import Any

from ..objects.certificate_crypto import convert_certificate_secret
from ..objects.secrets import Secret
from ..objects.versioned import DeletedObject, VersionedObject
from .availability import field_exists
from .bodies import MISSING, read_attributes, read_str, read_tags
from .common import deleted_fields, read_backup_blob, render_attributes, render_backup_blob, versions_or_none
from .context import Reply, RequestContext
from .operation import VAULT_DATA, Handler, Operation
from .paging import page_from_store, page_versions

__all__ = ["OPERATIONS"]


# -- rendering ----------------------------------------------------------------------------------


def _bundle(ctx: RequestContext, secret: Secret, *, value: bool = True, item: bool = False) -> dict[str, Any]:
    bundle: dict[str, Any] = {}
    if value:
        bundle["value"] = secret.payload.value
    if secret.payload.content_type is not None:
        bundle["contentType"] = secret.payload.content_type
    bundle["id"] = f"{ctx.base_url}/secrets/{secret.name}/{secret.version}"
    bundle["attributes"] = render_attributes(ctx, secret.attributes)
    if secret.tags:
        bundle["tags"] = dict(secret.tags)
    if secret.managed:  # the secret behind a certificate: its key's id, and the previous certificate version
        bundle["managed"] = True
        if not item:
            bundle["kid"] = f"{ctx.base_url}/keys/{secret.name}/{secret.version}"
            previous = ctx.vault.certificates.previous_version(secret.name, secret.version)
            if previous is not None and ctx.api_version.at_least("2025-07-01"):  # first api-version unverified
                bundle["previousVersion"] = previous
    return bundle


def _item(ctx: RequestContext, secret: Secret, *, versioned: bool) -> dict[str, Any]:
    item = _bundle(ctx, secret, value=False, item=True)
    if not versioned:
        item["id"] = f"{ctx.base_url}/secrets/{secret.name}"
    return item


def _deleted_bundle(ctx: RequestContext, deleted: DeletedObject[Any]) -> dict[str, Any]:
    # Real DeleteSecret / GetDeletedSecret responses carry no value (spec examples).
    return {**deleted_fields(ctx, "deletedsecrets", deleted), **_bundle(ctx, deleted.obj.latest, value=False)}


# -- operations ---------------------------------------------------------------------------------


def set_secret(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    value = read_str(body, "value", required=True)
    content_type = read_str(body, "contentType")
    tags = read_tags(body)
    attributes = read_attributes(body)
    secret = ctx.vault.secrets.set(
        name,
        value,
        content_type=None if content_type is MISSING else content_type,
        enabled=attributes.get("enabled") is not False,
        not_before=attributes.get("not_before"),
        expires=attributes.get("expires"),
        tags=None if tags is MISSING else tags,
    )
    return Reply(_bundle(ctx, secret))


def get_secret(ctx: RequestContext, name: str, version: str) -> Reply:
    secret = ctx.vault.secrets.get_value(name, version)
    bundle = _bundle(ctx, secret)
    wanted = ctx.query.get("outContentType")
    if wanted and secret.managed and field_exists("GetSecret", "outContentType", ctx.api_version):
        bundle["value"] = convert_certificate_secret(secret.payload.value, secret.payload.content_type, wanted)
        bundle["contentType"] = wanted
    return Reply(bundle)


def update_secret(ctx: RequestContext, name: str, version: str) -> Reply:
    body = ctx.json()
    changes: dict[str, Any] = {}
    content_type = read_str(body, "contentType")
    if content_type is not MISSING:
        changes["content_type"] = content_type
    tags = read_tags(body)
    if tags is not MISSING:
        changes["tags"] = tags
    for field, value in read_attributes(body).items():
        if field == "enabled" and value is None:
            continue
        changes[field] = value
    secret = ctx.vault.secrets.update_properties(name, version, **changes)
    return Reply(_bundle(ctx, secret, value=False))


def get_secrets(ctx: RequestContext) -> Reply:
    store = ctx.vault.secrets
    return Reply(page_from_store(ctx, store.list_page, lambda obj: _item(ctx, obj.latest, versioned=False)))


def get_secret_versions(ctx: RequestContext, name: str) -> Reply:
    versions = versions_or_none(ctx.vault.secrets, name)
    return Reply(page_versions(ctx, versions, lambda version: _item(ctx, version, versioned=True)))


def delete_secret(ctx: RequestContext, name: str) -> Reply:
    outcome = ctx.vault.secrets.delete(name)
    if isinstance(outcome, VersionedObject):  # soft delete off: gone for good, no recoveryId
        return Reply(_bundle(ctx, outcome.latest, value=False))
    return Reply(_deleted_bundle(ctx, outcome))


def get_deleted_secret(ctx: RequestContext, name: str) -> Reply:
    return Reply(_deleted_bundle(ctx, ctx.vault.secrets.read_deleted(name)))


def get_deleted_secrets(ctx: RequestContext) -> Reply:
    def render(record: DeletedObject[Any]) -> dict[str, Any]:
        return {**deleted_fields(ctx, "deletedsecrets", record), **_item(ctx, record.obj.latest, versioned=False)}

    return Reply(page_from_store(ctx, ctx.vault.secrets.list_deleted_page, render))


def recover_deleted_secret(ctx: RequestContext, name: str) -> Reply:
    obj = ctx.vault.secrets.recover(name)
    return Reply(_bundle(ctx, obj.latest, value=False))


def purge_deleted_secret(ctx: RequestContext, name: str) -> Reply:
    ctx.vault.secrets.purge(name)
    return Reply(None, 204)


def backup_secret(ctx: RequestContext, name: str) -> Reply:
    return Reply(render_backup_blob(ctx.vault.secrets.backup(name)))


def restore_secret(ctx: RequestContext) -> Reply:
    secret = ctx.vault.secrets.restore_backup(read_backup_blob(ctx))
    return Reply(_bundle(ctx, secret, value=False))


def secret_record(
    method: str, path: str, name: str, handler: Handler, *, permission: str, action: str, **more: Any
) -> Operation:
    """A secrets.json operation: its access-policy permission on secrets and its data action under vaults/."""
    return Operation(
        method, path, name, handler, permission=("secrets", permission), action=f"{VAULT_DATA}/{action}", **more
    )


OPERATIONS: tuple[Operation, ...] = (
    # Soft delete came with 2016-10-01 (recalled from the service's changelog; unverified here).
    secret_record(
        "GET",
        "/deletedsecrets",
        "GetDeletedSecrets",
        get_deleted_secrets,
        permission="list",
        action="secrets/readMetadata/action",
        since="2016-10-01",
    ),
    secret_record(
        "GET",
        "/deletedsecrets/{secret-name}",
        "GetDeletedSecret",
        get_deleted_secret,
        permission="get",  # the spec: "requires the secrets/get permission"
        action="secrets/readMetadata/action",
        since="2016-10-01",
    ),
    secret_record(
        "DELETE",
        "/deletedsecrets/{secret-name}",
        "PurgeDeletedSecret",
        purge_deleted_secret,
        permission="purge",
        action="secrets/purge/action",
        since="2016-10-01",
    ),
    secret_record(
        "POST",
        "/deletedsecrets/{secret-name}/recover",
        "RecoverDeletedSecret",
        recover_deleted_secret,
        permission="recover",
        action="secrets/recover/action",
        since="2016-10-01",
    ),
    secret_record(
        "GET", "/secrets", "GetSecrets", get_secrets, permission="list", action="secrets/readMetadata/action"
    ),
    secret_record(
        "PUT",
        "/secrets/{secret-name}",
        "SetSecret",
        set_secret,
        permission="set",
        action="secrets/setSecret/action",
        throttle="secret-create",
    ),
    secret_record(
        "DELETE", "/secrets/{secret-name}", "DeleteSecret", delete_secret, permission="delete", action="secrets/delete"
    ),
    secret_record(
        "GET",
        "/secrets/{secret-name}/{secret-version}",
        "GetSecret",
        get_secret,
        permission="get",
        action="secrets/getSecret/action",
    ),
    secret_record(
        "PATCH",
        "/secrets/{secret-name}/{secret-version}",
        "UpdateSecret",
        update_secret,
        permission="set",
        action="secrets/update/action",
    ),
    secret_record(
        "POST",
        "/secrets/{secret-name}/backup",
        "BackupSecret",
        backup_secret,
        permission="backup",
        action="secrets/backup/action",
    ),
    secret_record(
        "GET",
        "/secrets/{secret-name}/versions",
        "GetSecretVersions",
        get_secret_versions,
        permission="list",
        action="secrets/readMetadata/action",
    ),
    secret_record(
        "POST",
        "/secrets/restore",
        "RestoreSecret",
        restore_secret,
        permission="restore",
        action="secrets/restore/action",
    ),
)
