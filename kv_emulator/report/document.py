"""``pytest --kv-report=DIR``: one self-contained HTML file per test, its calls drawn as timelines.

The file holds everything it shows (style inlined, SVG drawn here): a CI job uploads the folder and anyone
opens a file in a browser, with no script and nothing fetched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..hosts import parse_host
from ..http.audit import audit_event
from ..http.journal import group_calls
from .html import audit_table, call_block, events_table, legend, page, subscriptions_html

__all__ = ["render_report", "report_path", "write_report"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def report_path(directory: Path, nodeid: str) -> Path:
    """The file of one test: its node id made a safe file name (``tests/test_a.py::test_b[1]``)."""
    stem = _UNSAFE.sub("_", nodeid).strip("_")[:180] or "test"
    return directory / f"{stem}.html"


def render_report(
    nodeid: str,
    outcome: str,
    entries: Sequence[Any],
    *,
    published: Sequence[dict[str, Any]] = (),
    subscriptions: Sequence[Any] = (),
    failure: str = "",
) -> str:
    """The report of one test: outcome, calls with timelines, audit entries and events."""
    calls = group_calls(list(entries))
    audit = [audit_event(e) for e in entries if parse_host(e.vault.split(":")[0])]
    parts = [
        f"<h1>{escape(nodeid)}</h1>",
        f"<p>outcome: <strong class='outcome'>{escape(outcome)}</strong> &middot; {len(entries)} request(s) in "
        f"{len(calls)} call(s)</p>",
    ]
    if failure:
        parts.append(f"<details open><summary>failure</summary><pre class='mono'>{escape(failure)}</pre></details>")
    parts += ["<h2>Calls</h2>", legend()]
    parts += [call_block(call) for call in calls] or ["<p class='muted'>No requests.</p>"]
    parts += ["<h2>Audit log</h2>", audit_table(audit), "<h2>Events</h2>", events_table(published)]
    parts.append(subscriptions_html(subscriptions))
    return page(f"kv-emulator report: {nodeid}", "".join(parts), nav=" <span>test report</span>")


def write_report(directory: Path, nodeid: str, outcome: str, entries: Sequence[Any], **extra: Any) -> Path:
    """Write the report of one test into ``directory`` (made if missing) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = report_path(directory, nodeid)
    path.write_text(render_report(nodeid, outcome, entries, **extra), encoding="utf-8")
    return path
