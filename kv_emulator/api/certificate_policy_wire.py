"""The certificate policy on the wire (``CertificatePolicy`` in certificates.json): read from a body, rendered back.

The model (:class:`~kv_emulator.objects.certificate_policy.CertificatePolicy`) holds typed values, fills in the
service's defaults and checks its rules; this module only maps the JSON. The ``issuer`` block is rendered here,
for the policy and for the certificate operation alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..errors import BadParameter
from ..objects.certificate_crypto import Sans
from ..objects.certificate_policy import ACTIONS, CertificateLifetimeAction, CertificatePolicy

__all__ = ["issuer_block", "policy_from_wire", "policy_to_wire"]

_SAN_FIELDS = (("emails", "emails"), ("dns_names", "dns_names"), ("upns", "upns"), ("uris", "uris"))


def _invalid(name: str) -> BadParameter:
    return BadParameter(f"Property {name} has invalid value\r\n")  # the service's pattern; unverified with a name


def _family(kty: str) -> str:
    return kty.removesuffix("-HSM")


# -- reading ---------------------------------------------------------------------------------------------------


def policy_from_wire(body: Mapping[str, Any] | Any, base: CertificatePolicy | None = None) -> CertificatePolicy:
    """A policy from a request body; with ``base``, the fields given change a copy of it (PATCH)."""
    if not isinstance(body, Mapping):
        raise _invalid("policy")
    policy = dataclasses.replace(base) if base is not None else CertificatePolicy()
    _read_key_props(policy, _section(body, "key_props"))
    secret = _section(body, "secret_props")
    if secret.get("contentType") is not None:
        policy.content_type = _string(secret, "contentType")
    _read_x509_props(policy, _section(body, "x509_props"))
    if body.get("lifetime_actions") is not None:
        policy.lifetime_actions = _lifetime_actions(body["lifetime_actions"])
    issuer = _section(body, "issuer")
    if issuer.get("name") is not None:
        policy.issuer_name = _string(issuer, "name")
    if issuer.get("cty") is not None:
        policy.certificate_type = _string(issuer, "cty")
    if issuer.get("cert_transparency") is not None:
        policy.cert_transparency = _boolean(issuer, "cert_transparency")
    attributes = _section(body, "attributes")
    if attributes.get("enabled") is not None:
        policy.enabled = _boolean(attributes, "enabled")
    if body.get("platformManaged") is not None:
        policy.platform_managed = _platform_managed(body["platformManaged"])
    return policy


def _platform_managed(value: Any) -> dict[str, Any]:
    """``platformManaged`` as the spec has it: ``certificateUsage`` (required) and free-form ``metadata``.
    The platform makes such certificates, so they need no subject or SANs of their own."""
    if not isinstance(value, dict) or not isinstance(value.get("certificateUsage"), str):
        raise _invalid("platformManaged")  # unverified text
    if value.get("metadata") is not None and not isinstance(value["metadata"], dict):
        raise _invalid("platformManaged")  # unverified text
    return dict(value)


def _read_key_props(policy: CertificatePolicy, props: Mapping[str, Any]) -> None:
    if props.get("kty") is not None:
        kty = _string(props, "kty")
        if policy.kty is not None and _family(kty) != _family(policy.kty):
            policy.key_size = policy.curve = None  # a new family starts from its own defaults
        policy.kty = kty
    if props.get("key_size") is not None:
        policy.key_size = _integer(props, "key_size")
    if props.get("crv") is not None:
        curve = _string(props, "crv")
        if curve != policy.curve and props.get("key_size") is None:
            policy.key_size = None  # the curve decides the size
        policy.curve = curve
    if props.get("exportable") is not None:
        policy.exportable = _boolean(props, "exportable")
    if props.get("reuse_key") is not None:
        policy.reuse_key = _boolean(props, "reuse_key")


def _read_x509_props(policy: CertificatePolicy, props: Mapping[str, Any]) -> None:
    if props.get("subject") is not None:
        policy.subject = _string(props, "subject")
    if props.get("sans") is not None:
        sans = props["sans"]
        if not isinstance(sans, Mapping):
            raise _invalid("sans")
        policy.sans = Sans(
            **{field: tuple(_strings(sans, key)) for field, key in _SAN_FIELDS},
            ip_addresses=tuple(_strings(sans, "ipAddresses")),
        )
        policy.sans_given = True
    if props.get("ekus") is not None:
        policy.ekus = _strings(props, "ekus")
    if props.get("key_usage") is not None:
        policy.key_usage = _strings(props, "key_usage")
    if props.get("validity_months") is not None:
        policy.validity_months = _integer(props, "validity_months")


def _section(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _invalid(name)
    return value


def _string(body: Mapping[str, Any], name: str) -> str:
    value = body[name]
    if not isinstance(value, str):
        raise _invalid(name)
    return value


def _boolean(body: Mapping[str, Any], name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise _invalid(name)
    return value


def _integer(body: Mapping[str, Any], name: str) -> int:
    value = body[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name)
    return value


def _strings(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(name)
    return list(value)


def _lifetime_actions(value: Any) -> list[CertificateLifetimeAction]:
    if not isinstance(value, list):
        raise _invalid("lifetime_actions")
    actions = []
    for entry in value:
        trigger = entry.get("trigger") if isinstance(entry, Mapping) else None
        action = entry.get("action") if isinstance(entry, Mapping) else None
        if not isinstance(trigger, Mapping) or not isinstance(action, Mapping):
            raise _invalid("lifetime_actions")
        kind = action.get("action_type")
        matched = next((a for a in ACTIONS if isinstance(kind, str) and a.lower() == kind.lower()), None)
        percentage = trigger.get("lifetime_percentage")
        days = trigger.get("days_before_expiry")
        if matched is None or (percentage is None) == (days is None):
            # unverified text
            raise BadParameter(
                "A lifetime action needs exactly one trigger (lifetime_percentage or days_before_expiry) and an "
                "action_type of EmailContacts or AutoRenew."
            )
        if percentage is not None:
            percentage = _integer(trigger, "lifetime_percentage")
            if not 1 <= percentage <= 99:
                raise BadParameter("lifetime_percentage must be between 1 and 99.")  # spec range; text unverified
        if days is not None:
            days = _integer(trigger, "days_before_expiry")
        actions.append(CertificateLifetimeAction(matched, percentage, days))
    return actions


# -- writing ---------------------------------------------------------------------------------------------------


def issuer_block(name: str | None, certificate_type: str | None, cert_transparency: bool | None) -> dict[str, Any]:
    """``issuer`` (IssuerParameters), as a policy and a certificate operation both show it."""
    issuer: dict[str, Any] = {"name": name}
    if certificate_type is not None:
        issuer["cty"] = certificate_type
    if cert_transparency is not None:
        issuer["cert_transparency"] = cert_transparency
    return issuer


def _lifetime_action_to_wire(action: CertificateLifetimeAction) -> dict[str, Any]:
    trigger: dict[str, int] = {}
    if action.lifetime_percentage is not None:
        trigger["lifetime_percentage"] = action.lifetime_percentage
    if action.days_before_expiry is not None:
        trigger["days_before_expiry"] = action.days_before_expiry
    return {"trigger": trigger, "action": {"action_type": action.action}}


def policy_to_wire(policy: CertificatePolicy, policy_id: str) -> dict[str, Any]:
    """CertificatePolicy as the service answers it."""
    key_props: dict[str, Any] = {"exportable": policy.exportable, "kty": policy.kty, "key_size": policy.key_size}
    key_props["reuse_key"] = policy.reuse_key
    if policy.curve:
        key_props["crv"] = policy.curve
    x509_props: dict[str, Any] = {"subject": policy.subject}
    if policy.sans or policy.sans_given:
        sans: dict[str, list[str]] = {key: list(getattr(policy.sans, field)) for field, key in _SAN_FIELDS}
        sans["ipAddresses"] = list(policy.sans.ip_addresses)
        shown = ("emails", "dns_names", "upns") if policy.sans_described else ()  # an import's (issue 19)
        x509_props["sans"] = {key: values for key, values in sans.items() if values or key in shown}
    x509_props.update(
        ekus=list(policy.ekus or []),
        key_usage=list(policy.key_usage or []),
        validity_months=policy.validity_months,
        basic_constraints={"ca": policy.ca},  # seen in real policies; true for an imported CA (issue 19)
    )
    wire: dict[str, Any] = {
        "id": policy_id,
        "key_props": key_props,
        "secret_props": {"contentType": policy.content_type},
        "x509_props": x509_props,
        "lifetime_actions": [_lifetime_action_to_wire(a) for a in policy.lifetime_actions or []],
        "issuer": issuer_block(policy.issuer_name, policy.certificate_type, policy.cert_transparency),
        "attributes": {"enabled": policy.enabled, "created": policy.created, "updated": policy.updated},
    }
    if policy.platform_managed is not None:
        wire["platformManaged"] = policy.platform_managed
    return wire
