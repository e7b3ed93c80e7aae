"""The Controls page: clock, faults, throttling and reset, each form running the management API's handler.

A form's fields become the JSON body the API takes (numbers parsed, empty fields left out) and go through
the same schema check and the same handler as ``POST /_kv/<route>``, so the page can do nothing the API
cannot, and says no the way the API does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from .views import faults_table, throttling_html

__all__ = ["ACTIONS", "page", "run"]


def _number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def _numbers(form: Mapping[str, str], *names: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in names:
        text = form.get(name, "").strip()
        if text:
            try:
                body[name] = _number(text)
            except ValueError:
                raise ValueError(f"{name!r} must be a number, got {text!r}") from None
    return body


def _advance(form: Mapping[str, str]) -> dict[str, Any]:
    return _numbers(form, "days", "seconds")


def _freeze(form: Mapping[str, str]) -> dict[str, Any]:
    at = form.get("at", "").strip()
    return {"at": at} if at else {}


def _fault(form: Mapping[str, str]) -> dict[str, Any]:
    status = form.get("status", "503").strip()
    body: dict[str, Any] = {"status": int(status) if status.isdigit() else status}
    operation = form.get("operation", "").strip()
    if operation:
        body["operation"] = operation
    times = form.get("times", "").strip()
    if times:
        body["times"] = None if times in ("0", "every") else _number(times)
    return body


def _throttling(form: Mapping[str, str]) -> dict[str, Any]:
    return {"enabled": form.get("enabled") == "on", **_numbers(form, "scale")}


def _nothing(form: Mapping[str, str]) -> dict[str, Any]:
    return {}


#: action -> (management operationId, form -> body)
ACTIONS: dict[str, tuple[str, Callable[[Mapping[str, str]], dict[str, Any]]]] = {
    "clock-advance": ("clock_advance", _advance),
    "clock-freeze": ("clock_freeze", _freeze),
    "clock-unfreeze": ("clock_unfreeze", _nothing),
    "faults-add": ("faults_add", _fault),
    "faults-clear": ("faults_clear", _nothing),
    "throttling": ("throttling_set", _throttling),
    "reset": ("reset", _nothing),
}


def run(management: Any, action: str, form: Mapping[str, str], request: Any) -> str:
    """Run one action through the management API's handler; returns the action's name for the notice."""
    from werkzeug.exceptions import NotFound

    if action not in ACTIONS:
        raise NotFound(f"no control named {action!r}")
    endpoint, body_of = ACTIONS[action]
    management.run(endpoint, body_of(form), request)
    return action


def _form(action: str, csrf: str, fields: str, button: str) -> str:
    return (
        f"<form method='post' action='/_kv/ui/do/{action}' class='control' data-action='{action}'>"
        f"<input type='hidden' name='csrf' value='{escape(csrf)}'>{fields} <button>{escape(button)}</button></form>"
    )


def page(emulator: Any, management: Any, csrf: str, message: str = "", failed: bool = False) -> str:
    clock = emulator.clock
    notice = f"<p class='{'error' if failed else 'notice'}'>{escape(message)}</p>" if message else ""
    state = "frozen" if clock.frozen else "running"
    throttled = emulator.settings.throttling
    return (
        f"<h1>Controls</h1>{notice}"
        f"<fieldset><legend>Clock</legend><p>Now <strong class='clock-now'>"
        f"{escape(clock.now().isoformat(timespec='seconds'))}</strong> ({state})</p>"
        + _form(
            "clock-advance",
            csrf,
            "<input name='days' size='4' placeholder='days'> <input name='seconds' size='6' placeholder='seconds'>",
            "Advance",
        )
        + _form("clock-freeze", csrf, "<input name='at' size='24' placeholder='at (empty: now)'>", "Freeze")
        + _form("clock-unfreeze", csrf, "", "Unfreeze")
        + "</fieldset><fieldset><legend>Faults</legend>"
        + faults_table(emulator)
        + _form(
            "faults-add",
            csrf,
            "<input name='status' size='16' value='503' title='400-599, connection_error or timeout'> "
            "<input name='operation' size='16' placeholder='operation, e.g. GetSecret'> "
            "<input name='times' size='4' value='1' title='how many (0: every one)'>",
            "Add fault",
        )
        + _form("faults-clear", csrf, "", "Clear faults")
        + "</fieldset><fieldset><legend>Throttling</legend>"
        + throttling_html(emulator.settings)
        + _form(
            "throttling",
            csrf,
            f"<label><input type='checkbox' name='enabled'{' checked' if throttled else ''}> on</label> "
            f"<input name='scale' size='6' value='{escape(str(emulator.settings.throttle_scale))}'>",
            "Set throttling",
        )
        + "</fieldset><fieldset><legend>Reset</legend><p>Forget every vault, request, fault and event.</p>"
        + _form("reset", csrf, "", "Reset")
        + "</fieldset>"
    )
