"""The Calls page (the journal grouped per client request id, each call a timeline) and the audit and
events page; both newest first and paged, so a journal of 10,000 requests draws one page of pictures."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import urlencode

from ...report.html import audit_table, call_block, events_table, legend, subscriptions_html
from ...report.svg import status_class

__all__ = ["CALLS_PER_PAGE", "ROWS_PER_PAGE", "audit_and_events", "calls"]

CALLS_PER_PAGE = 20
ROWS_PER_PAGE = 100
_STATUS_CHOICES = (
    ("", "any status"),
    ("ok", "2xx"),
    ("throttled", "429"),
    ("client", "other 4xx"),
    ("server", "5xx"),
    ("fault", "no answer"),
    ("retried", "retried"),
)


def _page_number(args: Mapping[str, str]) -> int:
    try:
        return max(1, int(args.get("page", "1")))
    except ValueError:
        return 1


def _wanted(call: Any, operation: str, status: str, vault: str) -> bool:
    if operation and (call.operation or "").lower() != operation.lower():
        return False
    if vault and vault.lower() not in call.attempts[0].vault.lower():
        return False
    if status == "retried":
        return call.retries > 0
    if status:
        return any(status_class(a) == status for a in call.attempts)
    return True


def _pager(args: Mapping[str, str], number: int, pages: int) -> str:
    links = []
    for label, target in (("&larr; newer", number - 1), ("older &rarr;", number + 1)):
        if 1 <= target <= pages:
            query = urlencode({**{k: v for k, v in args.items() if k != "page"}, "page": target})
            links.append(f"<a href='?{query}'>{label}</a>")
    return f"<p class='pager'>page {number} of {pages} {' '.join(links)}</p>"


def _filters(operations: list[str], operation: str, status: str, vault: str) -> str:
    ops = "".join(
        f"<option value='{escape(o)}'{' selected' if o == operation else ''}>{escape(o)}</option>" for o in operations
    )
    statuses = "".join(
        f"<option value='{v}'{' selected' if v == status else ''}>{label}</option>" for v, label in _STATUS_CHOICES
    )
    return (
        "<form method='get' class='filters'>"
        f"<select name='operation'><option value=''>any operation</option>{ops}</select> "
        f"<select name='status'>{statuses}</select> "
        f"<input name='vault' value='{escape(vault)}' placeholder='vault'> <button>Filter</button></form>"
    )


def calls(emulator: Any, args: Mapping[str, str]) -> str:
    operation, status, vault = args.get("operation", ""), args.get("status", ""), args.get("vault", "")
    everything = emulator.requests.calls()
    operations = sorted({c.operation for c in everything if c.operation})
    chosen = [c for c in reversed(everything) if _wanted(c, operation, status, vault)]
    pages = max(1, -(-len(chosen) // CALLS_PER_PAGE))
    number = min(_page_number(args), pages)
    shown = chosen[(number - 1) * CALLS_PER_PAGE : number * CALLS_PER_PAGE]
    blocks = "".join(call_block(c) for c in shown) or "<p class='muted'>No calls.</p>"
    return (
        f"<h1>Calls</h1><p>{len(chosen)} of {len(everything)} call(s), {len(emulator.requests)} request(s); "
        "newest first.</p>"
        + _filters(operations, operation, status, vault)
        + legend()
        + blocks
        + _pager(args, number, pages)
    )


def audit_and_events(emulator: Any, args: Mapping[str, str]) -> str:
    _, total = emulator.audit.newest(0, 0)
    pages = max(1, -(-total // ROWS_PER_PAGE))
    number = min(_page_number(args), pages)
    newest, total = emulator.audit.newest((number - 1) * ROWS_PER_PAGE, ROWS_PER_PAGE)
    grid = emulator.events
    published = list(reversed(grid.published))[:ROWS_PER_PAGE]
    return (
        f"<h1>Audit log</h1><p>{total} audit event(s), newest first.</p>{audit_table(newest)}"
        + _pager(args, number, pages)
        + f"<h1>Events</h1><p>{len(grid.published)} published (the newest {ROWS_PER_PAGE} shown).</p>"
        + events_table(published)
        + "<h2>Subscriptions</h2>"
        + subscriptions_html(grid.subscriptions)
    )
