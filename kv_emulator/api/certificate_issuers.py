"""Certificate contacts and issuers (certificates.json, 2026-04-01): a vault's settings for issuing certificates."""

from __future__ import annotations

from typing import Any

from ..errors import BadParameter
from ..objects.certificate_issuers import Contact, Issuer
from .bodies import MISSING, read_str
from .certificates import certificate_record
from .context import Reply, RequestContext
from .operation import Operation
from .paging import page_by_name

__all__ = ["OPERATIONS"]


def _contacts(ctx: RequestContext, contacts: list[Contact]) -> dict[str, Any]:
    rendered = [
        {k: v for k, v in (("email", c.email), ("name", c.name), ("phone", c.phone)) if v is not None} for c in contacts
    ]
    return {"id": f"{ctx.base_url}/certificates/contacts", "contacts": rendered}


def _issuer(ctx: RequestContext, issuer: Issuer) -> dict[str, Any]:
    """IssuerBundle; the password is never shown. ``credentials`` (``{}`` when sent empty) and ``org_details``
    (with ``zip: 0``) appear only when the client sent them (recorded: js SDK 2021; issue 19)."""
    body: dict[str, Any] = {"id": f"{ctx.base_url}/certificates/issuers/{issuer.name}", "provider": issuer.provider}
    if issuer.shows_credentials:
        body["credentials"] = {} if issuer.account_id is None else {"account_id": issuer.account_id}
    if issuer.shows_org:
        org: dict[str, Any] = {"zip": 0}
        if issuer.organization_id is not None:
            org["id"] = issuer.organization_id
        org["admin_details"] = issuer.admin_details
        body["org_details"] = org
    body["attributes"] = {"enabled": issuer.enabled, "created": issuer.created, "updated": issuer.updated}
    return body


# -- contacts and issuers -----------------------------------------------------------------------


def get_certificate_contacts(ctx: RequestContext) -> Reply:
    return Reply(_contacts(ctx, ctx.vault.certificates.contacts.get()))


def set_certificate_contacts(ctx: RequestContext) -> Reply:
    given = ctx.json().get("contacts")
    if not isinstance(given, list) or not all(isinstance(c, dict) for c in given):
        raise BadParameter("Property contacts has invalid value\r\n")  # unverified
    contacts = [Contact(_opt(c, "email"), _opt(c, "name"), _opt(c, "phone")) for c in given]
    return Reply(_contacts(ctx, ctx.vault.certificates.contacts.set(contacts)))


def delete_certificate_contacts(ctx: RequestContext) -> Reply:
    return Reply(_contacts(ctx, ctx.vault.certificates.contacts.delete()))


def _opt(body: dict[str, Any], name: str) -> str | None:
    value = read_str(body, name)
    return None if value is MISSING else value


def _issuer_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of a Set/UpdateCertificateIssuer body that are given (absent ones are left out)."""
    fields: dict[str, Any] = {}
    provider = read_str(body, "provider")
    if provider not in (MISSING, None):
        fields["provider"] = provider
    credentials = body.get("credentials")
    if isinstance(credentials, dict):
        fields["credentials_given"] = True
        for wire, field in (("account_id", "account_id"), ("pwd", "password")):
            if credentials.get(wire) is not None:
                fields[field] = read_str(credentials, wire)
    org = body.get("org_details")
    if isinstance(org, dict):
        fields["org_given"] = True
        if org.get("id") is not None:
            fields["organization_id"] = read_str(org, "id")
        admins = org.get("admin_details")
        if isinstance(admins, list):
            keys = ("first_name", "last_name", "email", "phone")
            fields["admin_details"] = [
                {k: a[k] for k in keys if isinstance(a, dict) and isinstance(a.get(k), str)} for a in admins
            ]
    attributes = body.get("attributes")
    if isinstance(attributes, dict) and isinstance(attributes.get("enabled"), bool):
        fields["enabled"] = attributes["enabled"]
    return fields


def get_certificate_issuers(ctx: RequestContext) -> Reply:
    issuers = ctx.vault.certificates.issuers.list()

    def render(issuer: Issuer) -> dict[str, Any]:
        return {"id": f"{ctx.base_url}/certificates/issuers/{issuer.name}", "provider": issuer.provider}

    return Reply(page_by_name(ctx, issuers, name=lambda i: i.name, render=render))


def get_certificate_issuer(ctx: RequestContext, name: str) -> Reply:
    return Reply(_issuer(ctx, ctx.vault.certificates.issuers.get(name)))


def set_certificate_issuer(ctx: RequestContext, name: str) -> Reply:
    fields = _issuer_fields(ctx.json())
    if "provider" not in fields:
        raise BadParameter("Property provider is required\r\n")  # unverified
    return Reply(_issuer(ctx, ctx.vault.certificates.issuers.set(name, **fields)))


def update_certificate_issuer(ctx: RequestContext, name: str) -> Reply:
    return Reply(_issuer(ctx, ctx.vault.certificates.issuers.update(name, **_issuer_fields(ctx.json()))))


def delete_certificate_issuer(ctx: RequestContext, name: str) -> Reply:
    return Reply(_issuer(ctx, ctx.vault.certificates.issuers.delete(name)))


OPERATIONS: tuple[Operation, ...] = (
    certificate_record(
        "GET",
        "/certificates/contacts",
        "GetCertificateContacts",
        get_certificate_contacts,
        permission="managecontacts",
        action="certificatecontacts/read",
    ),
    certificate_record(
        "PUT",
        "/certificates/contacts",
        "SetCertificateContacts",
        set_certificate_contacts,
        permission="managecontacts",
        action="certificatecontacts/write",
    ),
    certificate_record(
        "DELETE",
        "/certificates/contacts",
        "DeleteCertificateContacts",
        delete_certificate_contacts,
        permission="managecontacts",
        action="certificatecontacts/write",
    ),
    certificate_record(
        "GET",
        "/certificates/issuers",
        "GetCertificateIssuers",
        get_certificate_issuers,
        permission="listissuers",
        action="certificatecas/read",
    ),
    certificate_record(
        "GET",
        "/certificates/issuers/{issuer-name}",
        "GetCertificateIssuer",
        get_certificate_issuer,
        permission="getissuers",
        action="certificatecas/read",
    ),
    certificate_record(
        "PUT",
        "/certificates/issuers/{issuer-name}",
        "SetCertificateIssuer",
        set_certificate_issuer,
        permission="setissuers",
        action="certificatecas/write",
    ),
    certificate_record(
        "PATCH",
        "/certificates/issuers/{issuer-name}",
        "UpdateCertificateIssuer",
        update_certificate_issuer,
        permission="setissuers",
        action="certificatecas/write",
    ),
    certificate_record(
        "DELETE",
        "/certificates/issuers/{issuer-name}",
        "DeleteCertificateIssuer",
        delete_certificate_issuer,
        permission="deleteissuers",
        action="certificatecas/delete",
    ),
)
