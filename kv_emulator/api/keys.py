"""Key operations (keys.json, 2026-04-01): JSON in, a model call, JSON out."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import BadParameter
from ..objects import crypto, key_material
from ..objects.key_material import INVALID_JWK
from ..objects.keys import Key, ReleasePolicy
from ..objects.versioned import DeletedObject, VersionedObject
from .bodies import MISSING, read_attributes, read_bool, read_str, read_tags
from .common import deleted_fields, read_backup_blob, render_attributes, render_backup_blob, versions_or_none
from .context import Reply, RequestContext
from .operation import BOTH, MHSM_DATA, VAULT_DATA, Handler, Operation
from .paging import page_from_store, page_versions
from .rotation_policy_wire import rotation_policy_from_wire, rotation_policy_to_wire

__all__ = ["OPERATIONS", "bundle", "key_record", "kid"]


# -- rendering ----------------------------------------------------------------------------------


def kid(ctx: RequestContext, key: Key) -> str:
    return f"{ctx.base_url}/keys/{key.name}/{key.version}"


def _attributes(ctx: RequestContext, key: Key) -> dict[str, Any]:
    rendered = render_attributes(ctx, key.attributes)
    material = key.payload.material
    if ctx.api_version.at_least("7.3"):
        rendered["exportable"] = key.payload.exportable
    if ctx.api_version.at_least("7.5"):
        rendered["hsmPlatform"] = "2" if material.hsm else "0"  # in the spec and SDK from 7.5; a string
    if ctx.api_version.at_least("2025-07-01") and material.family == "RSA" and material.key_size:
        rendered["key_size"] = material.key_size  # seen in 2025-07-01 recordings
    return rendered


def _release_policy(policy: ReleasePolicy) -> dict[str, Any]:
    return {"contentType": policy.content_type, "immutable": policy.immutable, "data": policy.data}


def bundle(ctx: RequestContext, key: Key) -> dict[str, Any]:
    payload = key.payload
    bundle: dict[str, Any] = {
        "key": payload.material.public_jwk(kid(ctx, key), payload.key_ops),
        "attributes": _attributes(ctx, key),
    }
    if key.tags:
        bundle["tags"] = dict(key.tags)
    if key.managed:  # the key behind a certificate
        bundle["managed"] = True
    if payload.release_policy is not None and ctx.api_version.at_least("7.3"):
        bundle["release_policy"] = _release_policy(payload.release_policy)
    return bundle


def _item(ctx: RequestContext, key: Key, *, versioned: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kid": kid(ctx, key) if versioned else f"{ctx.base_url}/keys/{key.name}",
        "attributes": _attributes(ctx, key),
    }
    if key.tags:
        item["tags"] = dict(key.tags)
    if key.managed:
        item["managed"] = True
    return item


def _deleted_bundle(ctx: RequestContext, deleted: DeletedObject[Any]) -> dict[str, Any]:
    return {**deleted_fields(ctx, "deletedkeys", deleted), **bundle(ctx, deleted.obj.latest)}


# -- reading bodies -----------------------------------------------------------------------------


def _read_key_ops(body: dict[str, Any]) -> Any:
    if "key_ops" not in body or body["key_ops"] is None:
        return MISSING
    ops = body["key_ops"]
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise BadParameter("Property key_ops has invalid value\r\n")
    return ops


def _read_release_policy(body: dict[str, Any]) -> ReleasePolicy | None:
    policy = body.get("release_policy")
    if policy is None:
        return None
    if not isinstance(policy, dict) or not isinstance(policy.get("data"), str):
        raise BadParameter("Property release_policy has invalid value\r\n")
    content_type = read_str(policy, "contentType")
    immutable = read_bool(policy, "immutable")
    return ReleasePolicy(
        data=policy["data"],
        content_type="application/json; charset=utf-8" if content_type in (MISSING, None) else content_type,
        immutable=bool(immutable) if immutable is not MISSING else False,
    )


def _read_exportable(body: dict[str, Any]) -> bool:
    attributes = body.get("attributes")
    if isinstance(attributes, dict):
        exportable = read_bool(attributes, "exportable")
        return bool(exportable) if exportable is not MISSING else False
    return False


def _read_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadParameter(f"Property {name} has invalid value\r\n")
    return value


def _common(body: dict[str, Any]) -> dict[str, Any]:
    """The creation options CreateKey and ImportKey share."""
    attributes = read_attributes(body)
    tags = read_tags(body)
    key_ops = _read_key_ops(body)
    return {
        "key_ops": None if key_ops is MISSING else key_ops,
        "enabled": attributes.get("enabled") is not False,
        "not_before": attributes.get("not_before"),
        "expires": attributes.get("expires"),
        "tags": None if tags is MISSING else tags,
        "exportable": _read_exportable(body),
        "release_policy": _read_release_policy(body),
    }


# -- key management -----------------------------------------------------------------------------


def create_key(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    if body.get("kty") is None:  # recorded, the line twice (Java SDK createKeyNullType, 2023-09, api 7.4)
        raise BadParameter("Property  has invalid value\r\nProperty  has invalid value\r\n")
    kty = read_str(body, "kty", required=True)
    curve = read_str(body, "crv")
    key = ctx.vault.keys.create(
        name,
        kty,
        size=_read_int(body, "key_size"),
        curve=None if curve is MISSING else curve,
        public_exponent=_read_int(body, "public_exponent"),
        **_common(body),
    )
    return Reply(bundle(ctx, key))


def import_key(ctx: RequestContext, name: str) -> Reply:
    body = ctx.json()
    jwk = body.get("key")
    if not isinstance(jwk, dict):
        raise BadParameter(INVALID_JWK)  # recorded (azure-sdk-for-java#3405)
    hsm = read_bool(body, "Hsm")
    options = _common(body)
    if options["key_ops"] is None and isinstance(jwk.get("key_ops"), list):
        options["key_ops"] = jwk["key_ops"]
    key = ctx.vault.keys.import_key(name, jwk, hsm=hsm is True, **options)
    return Reply(bundle(ctx, key))


def get_key(ctx: RequestContext, name: str, version: str) -> Reply:
    return Reply(bundle(ctx, ctx.vault.keys.get(name, version)))


def update_key(ctx: RequestContext, name: str, version: str) -> Reply:
    body = ctx.json()
    changes: dict[str, Any] = {}
    key_ops = _read_key_ops(body)
    if key_ops is not MISSING:
        changes["key_ops"] = key_ops
    tags = read_tags(body)
    if tags is not MISSING:
        changes["tags"] = tags
    policy = _read_release_policy(body)
    if policy is not None:
        changes["release_policy"] = policy
    for field, value in read_attributes(body).items():
        if field == "enabled" and value is None:
            continue
        changes[field] = value
    return Reply(bundle(ctx, ctx.vault.keys.update_properties(name, version, **changes)))


def get_keys(ctx: RequestContext) -> Reply:
    return Reply(page_from_store(ctx, ctx.vault.keys.list_page, lambda o: _item(ctx, o.latest, versioned=False)))


def get_key_versions(ctx: RequestContext, name: str) -> Reply:
    return Reply(page_versions(ctx, versions_or_none(ctx.vault.keys, name), lambda v: _item(ctx, v, versioned=True)))


def delete_key(ctx: RequestContext, name: str) -> Reply:
    outcome = ctx.vault.keys.delete(name)
    if isinstance(outcome, VersionedObject):
        return Reply(bundle(ctx, outcome.latest))
    return Reply(_deleted_bundle(ctx, outcome))


def get_deleted_key(ctx: RequestContext, name: str) -> Reply:
    return Reply(_deleted_bundle(ctx, ctx.vault.keys.get_deleted(name)))


def get_deleted_keys(ctx: RequestContext) -> Reply:
    def render(record: DeletedObject[Any]) -> dict[str, Any]:
        return {**deleted_fields(ctx, "deletedkeys", record), **_item(ctx, record.obj.latest, versioned=False)}

    return Reply(page_from_store(ctx, ctx.vault.keys.list_deleted_page, render))


def recover_deleted_key(ctx: RequestContext, name: str) -> Reply:
    return Reply(bundle(ctx, ctx.vault.keys.recover(name).latest))


def purge_deleted_key(ctx: RequestContext, name: str) -> Reply:
    ctx.vault.keys.purge(name)
    return Reply(None, 204)


def backup_key(ctx: RequestContext, name: str) -> Reply:
    return Reply(render_backup_blob(ctx.vault.keys.backup(name)))


def restore_key(ctx: RequestContext) -> Reply:
    return Reply(bundle(ctx, ctx.vault.keys.restore_backup(read_backup_blob(ctx))))


def rotate_key(ctx: RequestContext, name: str) -> Reply:
    return Reply(bundle(ctx, ctx.vault.keys.rotate(name)))


def get_key_rotation_policy(ctx: RequestContext, name: str) -> Reply:
    policy = ctx.vault.keys.get_rotation_policy(name)
    return Reply(rotation_policy_to_wire(policy, f"{ctx.base_url}/keys/{name}/rotationpolicy"))


def update_key_rotation_policy(ctx: RequestContext, name: str) -> Reply:
    policy = ctx.vault.keys.set_rotation_policy(name, rotation_policy_from_wire(ctx.json()).complete())
    return Reply(rotation_policy_to_wire(policy, f"{ctx.base_url}/keys/{name}/rotationpolicy"))


# -- cryptography -------------------------------------------------------------------------------


@dataclasses.dataclass
class _OperationInput:
    """A KeyOperationsParameters / KeySignParameters / KeyVerifyParameters body, decoded."""

    alg: str
    value: bytes
    body: dict[str, Any]
    iv: bytes | None = None
    aad: bytes | None = None
    tag: bytes | None = None


def _operation_input(ctx: RequestContext) -> _OperationInput:
    body = ctx.json()
    alg = read_str(body, "alg", required=True)
    value = key_material.b64url_decode(read_str(body, "value", required=True), field="value")
    parsed = _OperationInput(alg, value, body)
    for field in ("iv", "aad", "tag"):
        raw = read_str(body, field)
        if raw not in (MISSING, None):
            setattr(parsed, field, key_material.b64url_decode(raw, field=field))
    return parsed


def _result(ctx: RequestContext, key: Key, value: bytes, **extra: bytes | None) -> Reply:
    result: dict[str, Any] = {"kid": kid(ctx, key), "value": key_material.b64url_encode(value)}
    for name, data in extra.items():
        if data is not None:
            result[name] = key_material.b64url_encode(data)
    return Reply(result)


def encrypt(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)
    key = ctx.vault.keys.usable(name, version, "encrypt")
    out = crypto.encrypt(key.payload.material, op.alg, op.value, iv=op.iv, aad=op.aad)
    return _result(ctx, key, out.ciphertext, iv=out.iv, tag=out.tag, aad=op.aad)


def decrypt(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)
    key = ctx.vault.keys.usable(name, version, "decrypt")
    return _result(ctx, key, crypto.decrypt(key.payload.material, op.alg, op.value, iv=op.iv, aad=op.aad, tag=op.tag))


def sign(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)
    key = ctx.vault.keys.usable(name, version, "sign")
    return _result(ctx, key, crypto.sign(key.payload.material, op.alg, op.value, kid=kid(ctx, key)))


def verify(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)  # here "value" is the signature
    digest = key_material.b64url_decode(read_str(op.body, "digest", required=True), field="digest")
    key = ctx.vault.keys.usable(name, version, "verify")
    return Reply({"value": crypto.verify(key.payload.material, op.alg, digest, op.value, kid=kid(ctx, key))})


def wrap_key(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)
    key = ctx.vault.keys.usable(name, version, "wrapKey")
    return _result(ctx, key, crypto.wrap_key(key.payload.material, op.alg, op.value))


def unwrap_key(ctx: RequestContext, name: str, version: str) -> Reply:
    op = _operation_input(ctx)
    key = ctx.vault.keys.usable(name, version, "unwrapKey")
    return _result(ctx, key, crypto.unwrap_key(key.payload.material, op.alg, op.value))


def key_record(
    method: str, path: str, name: str, handler: Handler, *, permission: str, action: str, hsm_action: str, **more: Any
) -> Operation:
    """A keys.json operation, on vaults and Managed HSMs: its access-policy permission on keys, its vault data
    action and the local RBAC data action a Managed HSM checks (after ``objects/hsm_roles.py``)."""
    more.setdefault("throttle", "key-other")
    return Operation(
        method,
        path,
        name,
        handler,
        permission=("keys", permission),
        action=f"{VAULT_DATA}/{action}",
        hsm_action=f"{MHSM_DATA}/{hsm_action}",
        hosts=BOTH,
        **more,
    )


OPERATIONS: tuple[Operation, ...] = (
    # Soft delete came with 2016-10-01 (recalled from the service's changelog; unverified here).
    key_record(
        "GET",
        "/deletedkeys",
        "GetDeletedKeys",
        get_deleted_keys,
        permission="list",
        action="keys/read",
        hsm_action="keys/deletedKeys/read/action",
        since="2016-10-01",
    ),
    key_record(
        "GET",
        "/deletedkeys/{key-name}",
        "GetDeletedKey",
        get_deleted_key,
        permission="get",  # the spec: "requires the keys/get permission"
        action="keys/read",
        hsm_action="keys/deletedKeys/read/action",
        since="2016-10-01",
    ),
    key_record(
        "DELETE",
        "/deletedkeys/{key-name}",
        "PurgeDeletedKey",
        purge_deleted_key,
        permission="purge",
        action="keys/purge/action",
        hsm_action="keys/deletedKeys/delete",
        since="2016-10-01",
    ),
    key_record(
        "POST",
        "/deletedkeys/{key-name}/recover",
        "RecoverDeletedKey",
        recover_deleted_key,
        permission="recover",
        action="keys/recover/action",
        hsm_action="keys/deletedKeys/recover/action",
        since="2016-10-01",
    ),
    key_record(
        "GET", "/keys", "GetKeys", get_keys, permission="list", action="keys/read", hsm_action="keys/read/action"
    ),
    key_record(
        "PUT",
        "/keys/{key-name}",
        "ImportKey",
        import_key,
        permission="import",
        action="keys/import/action",
        hsm_action="keys/import/action",
        throttle="key-create-from-body",
    ),
    key_record(
        "DELETE",
        "/keys/{key-name}",
        "DeleteKey",
        delete_key,
        permission="delete",
        action="keys/delete",
        hsm_action="keys/delete",
    ),
    key_record(
        "GET",
        "/keys/{key-name}/{key-version}",
        "GetKey",
        get_key,
        permission="get",
        action="keys/read",
        hsm_action="keys/read/action",
    ),
    key_record(
        "PATCH",
        "/keys/{key-name}/{key-version}",
        "UpdateKey",
        update_key,
        permission="update",
        action="keys/update/action",
        hsm_action="keys/write/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/decrypt",
        "decrypt",
        decrypt,
        permission="decrypt",
        action="keys/decrypt/action",
        hsm_action="keys/decrypt/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/encrypt",
        "encrypt",
        encrypt,
        permission="encrypt",
        action="keys/encrypt/action",
        hsm_action="keys/encrypt/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/sign",
        "sign",
        sign,
        permission="sign",
        action="keys/sign/action",
        hsm_action="keys/sign/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/unwrapkey",
        "unwrapKey",
        unwrap_key,
        permission="unwrapKey",
        action="keys/unwrap/action",
        hsm_action="keys/unwrap/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/verify",
        "verify",
        verify,
        permission="verify",
        action="keys/verify/action",
        hsm_action="keys/verify/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/{key-version}/wrapkey",
        "wrapKey",
        wrap_key,
        permission="wrapKey",
        action="keys/wrap/action",
        hsm_action="keys/wrap/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/backup",
        "BackupKey",
        backup_key,
        permission="backup",
        action="keys/backup/action",
        hsm_action="keys/backup/action",
    ),
    key_record(
        "POST",
        "/keys/{key-name}/create",
        "CreateKey",
        create_key,
        permission="create",
        action="keys/create/action",
        hsm_action="keys/create",
        throttle="key-create-from-body",
    ),
    # Key rotation came with 7.3 (the 7.2 keys.json has none of it); on a Managed HSM, which action guards
    # rotation policies is unverified.
    key_record(
        "POST",
        "/keys/{key-name}/rotate",
        "RotateKey",
        rotate_key,
        permission="rotate",
        action="keys/rotate/action",
        hsm_action="keys/rotate/action",
        since="7.3",
        throttle="key-create",
    ),
    key_record(
        "GET",
        "/keys/{key-name}/rotationpolicy",
        "GetKeyRotationPolicy",
        get_key_rotation_policy,
        permission="getrotationpolicy",
        action="keyrotationpolicies/read",
        hsm_action="keys/read/action",
        since="7.3",
    ),
    key_record(
        "PUT",
        "/keys/{key-name}/rotationpolicy",
        "UpdateKeyRotationPolicy",
        update_key_rotation_policy,
        permission="setrotationpolicy",
        action="keyrotationpolicies/write",
        hsm_action="keys/write/action",
        since="7.3",
    ),
    key_record(
        "GET",
        "/keys/{key-name}/versions",
        "GetKeyVersions",
        get_key_versions,
        permission="list",
        action="keys/read",
        hsm_action="keys/read/action",
    ),
    key_record(
        "POST",
        "/keys/restore",
        "RestoreKey",
        restore_key,
        permission="restore",
        action="keys/restore/action",
        hsm_action="keys/restore/action",
    ),
)
