"""Rendering and reading shared by the object kinds: attributes, deleted-object fields, backup blobs."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..errors import BadParameter, ObjectNotFound
from ..objects.versioned import Attributes, DeletedObject, Version, VersionedStore
from .bodies import read_str
from .context import RequestContext

__all__ = [
    "deleted_fields",
    "read_backup_blob",
    "render_attributes",
    "render_backup_blob",
    "versions_or_none",
]


def render_attributes(ctx: RequestContext, attrs: Attributes) -> dict[str, Any]:
    """``attributes`` as the service renders them, for the api-version the client asked for."""
    settings = ctx.vault.settings
    rendered: dict[str, Any] = {"enabled": attrs.enabled}
    if attrs.not_before is not None:
        rendered["nbf"] = attrs.not_before
    if attrs.expires is not None:
        rendered["exp"] = attrs.expires
    rendered["created"] = attrs.created
    rendered["updated"] = attrs.updated
    if ctx.api_version.at_least("7.1"):
        rendered["recoverableDays"] = settings.recoverable_days
    rendered["recoveryLevel"] = settings.recovery_level
    return rendered


def deleted_fields(ctx: RequestContext, collection: str, deleted: DeletedObject[Any]) -> dict[str, Any]:
    """``recoveryId``, ``deletedDate`` and ``scheduledPurgeDate`` of a soft-deleted object."""
    return {
        "recoveryId": f"{ctx.base_url}/{collection}/{deleted.obj.name}",
        "deletedDate": deleted.deleted_date,
        "scheduledPurgeDate": deleted.scheduled_purge_date,
    }


def render_backup_blob(blob: bytes) -> dict[str, Any]:
    return {"value": base64.urlsafe_b64encode(blob).decode().rstrip("=")}


def read_backup_blob(ctx: RequestContext) -> bytes:
    encoded = read_str(ctx.json(), "value", required=True)
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):
        raise BadParameter("Property value has invalid value\r\n") from None  # unverified text


def versions_or_none(store: VersionedStore[Any], name: str) -> list[Version[Any]]:
    """The versions of ``name``, or none when no live object has that name: the service lists the versions
    of a name that never existed (or is deleted) as an empty page, 200 ``{"value": [], "nextLink": null}``,
    not as a 404 (issue 12: client code that passes against the service expects the empty page)."""
    try:
        return store.list_versions(name)
    except ObjectNotFound:
        return []
