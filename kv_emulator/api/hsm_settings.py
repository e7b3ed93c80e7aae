"""A Managed HSM's settings over the wire (settings.json, 7.4+): list, get, update one.

Shapes from the spec's examples (ListSettings, UpdateSetting, 7.5): ``{"settings": [{"name", "value",
"type"}]}``; a setting is ``{"name", "value", "type"}``, its value always a string.
"""

from __future__ import annotations

from typing import Any

from .context import Reply, RequestContext
from .operation import Operation, admin_record

__all__ = ["OPERATIONS"]


def _render(setting: tuple[str, str, str]) -> dict[str, Any]:
    name, value, kind = setting
    return {"name": name, "value": value, "type": kind}


def get_settings(ctx: RequestContext) -> Reply:
    return Reply({"settings": [_render(s) for s in ctx.vault.hsm_settings.all()]})


def get_setting(ctx: RequestContext, name: str) -> Reply:
    return Reply(_render(ctx.vault.hsm_settings.get(name)))


def update_setting(ctx: RequestContext, name: str) -> Reply:
    ctx.vault.hsm_settings.get(name)  # an unknown name is a 404 before the body is read
    return Reply(_render(ctx.vault.hsm_settings.update(name, ctx.json().get("value"))))


OPERATIONS: tuple[Operation, ...] = (
    # settings.json came with 7.4 (the specs' folders); which data actions guard the settings is unverified.
    admin_record("GET", "/settings", "GetSettings", get_settings, hsm_action="settings/read/action", since="7.4"),
    admin_record(
        "GET", "/settings/{setting-name}", "GetSetting", get_setting, hsm_action="settings/read/action", since="7.4"
    ),
    admin_record(
        "PATCH",
        "/settings/{setting-name}",
        "UpdateSetting",
        update_setting,
        hsm_action="settings/write/action",
        since="7.4",
    ),
)
