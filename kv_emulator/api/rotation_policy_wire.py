"""The key rotation policy on the wire (``KeyRotationPolicy`` in keys.json): read from a body, rendered back.

The model (:class:`~kv_emulator.objects.rotation.RotationPolicy`) checks the service's rules on the typed
values (:meth:`~kv_emulator.objects.rotation.RotationPolicy.complete`); this module only maps the JSON.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadParameter
from ..objects.rotation import KeyLifetimeAction, RotationPolicy

__all__ = ["rotation_policy_from_wire", "rotation_policy_to_wire"]

_TRIGGERS = ("timeAfterCreate", "timeBeforeExpiry")


def rotation_policy_from_wire(body: dict[str, Any]) -> RotationPolicy:
    """An UpdateKeyRotationPolicy body as a policy (its rules not yet checked; message texts unverified)."""
    actions_in = body.get("lifetimeActions") or []
    attributes = body.get("attributes") or {}
    if not isinstance(actions_in, list) or not isinstance(attributes, dict):
        raise BadParameter("Property lifetimeActions has invalid value\r\n")
    actions: list[KeyLifetimeAction] = []
    for entry in actions_in:
        trigger = entry.get("trigger") if isinstance(entry, dict) else None
        action = entry.get("action") if isinstance(entry, dict) else None
        if not isinstance(trigger, dict) or not isinstance(action, dict):
            raise BadParameter("Property lifetimeActions has invalid value\r\n")
        given = {k: v for k, v in trigger.items() if k in _TRIGGERS and v}
        kind = str(action.get("type", ""))
        if len(given) != 1 or kind.lower() not in ("rotate", "notify"):
            raise BadParameter("A lifetime action needs exactly one trigger and an action type of Rotate or Notify.")
        ((name, duration),) = given.items()
        actions.append(KeyLifetimeAction(name, duration, kind.capitalize()))
    return RotationPolicy(actions, attributes.get("expiryTime"))


def rotation_policy_to_wire(policy: RotationPolicy, policy_id: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if policy.expiry_time:
        attributes["expiryTime"] = policy.expiry_time
    if policy.created is not None:
        attributes["created"] = policy.created
        attributes["updated"] = policy.updated
    return {
        "id": policy_id,
        "lifetimeActions": [
            {"trigger": {a.trigger: a.duration}, "action": {"type": a.action}} for a in policy.lifetime_actions
        ],
        "attributes": attributes,
    }
