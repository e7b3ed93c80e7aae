"""HTML pieces shared by the web view (``/_kv/ui/``) and the test reports: page shell, tables, calls.

Everything is escaped here (``html.escape``); the style sheet ships in the package and is inlined, so a
page needs nothing else (no asset from the network, no script to read it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from html import escape
from importlib import resources
from typing import Any

from .svg import COLOURS, timeline, waits

__all__ = ["audit_table", "call_block", "events_table", "legend", "page", "subscriptions_html", "table", "when"]

_LEGEND = (
    ("ok", "2xx"),
    ("throttled", "429"),
    ("client", "other 4xx"),
    ("server", "5xx"),
    ("fault", "no answer (connection fault)"),
    ("challenge", "401 challenge"),
)


@functools.cache
def _style() -> str:
    return resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")


def page(title: str, body: str, *, nav: str = "", head: str = "") -> str:
    """A whole HTML document with the inlined style sheet."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_style()}</style>{head}</head>"
        f'<body><header><span class="brand">kv-emulator</span>{nav}</header><main>{body}</main></body></html>'
    )


def when(seconds: float | int | None) -> str:
    """Unix seconds as an ISO time (UTC), or an empty string."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "") -> str:
    """A table; cells are HTML already (callers escape what they put in). No rows: a muted "None."."""
    rows = list(rows)
    if not rows:
        return f'<p class="muted {cls}">None.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def legend() -> str:
    spans = "".join(f'<span style="background:{COLOURS[k]}">{escape(text)}</span>' for k, text in _LEGEND)
    return f'<p class="legend">{spans} <span style="background:#1565c0">delay before a retry</span></p>'


def call_block(call: Any) -> str:
    """One call: its operation, statuses, retries and delays in words, then its timeline."""
    attempts = call.attempts
    first = attempts[0]
    statuses = ", ".join(str(s) for s in call.statuses) or "-"
    delays = ", ".join(f"{d:.2f} s" for d in waits(attempts)) or "none"
    label = f"{call.operation or first.method} {statuses}"
    heading = (
        f"<h3>{escape(call.operation or '-')} <span class='muted mono'>{escape(first.method)} "
        f"{escape(first.url)}</span></h3>"
        f"<div>attempts: {len(call.statuses) or len(attempts)} &middot; statuses: {escape(statuses)} &middot; "
        f"retries: {call.retries} &middot; delays: {escape(delays)} &middot; client request id: "
        f"<code>{escape(call.client_request_id or '-')}</code> &middot; {escape(when(first.time))}</div>"
    )
    return f'<div class="call" data-attempts="{len(call.statuses)}">{heading}{timeline(attempts, label=label)}</div>'


def audit_table(events: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            escape(e["time"]),
            escape(e["operationName"]),
            escape(str(e["properties"]["httpStatusCode"])),
            escape(e["resultType"]),
            escape(e["resultDescription"] or ""),
            f"<code>{escape(e['properties']['requestUri'])}</code>",
            escape(_caller(e)),
        )
        for e in events
    ]
    return table(("time", "operation", "status", "result", "error", "request", "caller"), rows)


def _caller(event: dict[str, Any]) -> str:
    """Who called, briefly: the application id and object id of the token's claims."""
    claims = (event.get("identity") or {}).get("claim") or {}
    named = {k: claims[k] for k in ("appid", "oid") if k in claims}
    return json.dumps(named) if named else ""


def events_table(events: Sequence[dict[str, Any]]) -> str:
    rows = [
        (
            escape(str(e.get("eventTime") or e.get("time") or "")),
            escape(str(e.get("eventType") or e.get("type") or "")),
            escape(str(e.get("subject", ""))),
        )
        for e in events
    ]
    return table(("time", "type", "subject"), rows)


def subscriptions_html(subscriptions: Sequence[Any]) -> str:
    """Each subscription with what it received and its dead letters (``to_dict(events=True)``)."""
    if not subscriptions:
        return "<p class='muted'>No subscriptions.</p>"
    parts = []
    for subscription in subscriptions:
        data = subscription.to_dict(events=True)
        received, dead = data.get("received") or [], data.get("dead_letters") or []
        parts.append(
            f"<h3>subscription {escape(str(data.get('name')))} <span class='muted'>"
            f"{escape(str(data.get('endpoint') or 'in-process handler'))}</span></h3>"
            f"<p>received {len(received)}, dead letters {len(dead)}</p>"
            + events_table(received)
            + (f"<h4>dead letters</h4>{_dead_letters_table(dead)}" if dead else "")
        )
    return "".join(parts)


def _dead_letters_table(letters: Sequence[dict[str, Any]]) -> str:
    """Dead letters: the event with why and after how many attempts it was given up."""
    rows = [
        (
            escape(str(d.get("eventTime") or d.get("time") or "")),
            escape(str(d.get("eventType") or d.get("type") or "")),
            escape(str(d.get("subject", ""))),
            escape(str(d.get("deadLetterReason", ""))),
            escape(str(d.get("deliveryAttempts", ""))),
            escape(str(d.get("lastHttpStatusCode", ""))),
        )
        for d in letters
    ]
    return table(("time", "type", "subject", "reason", "attempts", "last status"), rows, cls="dead-letters")
