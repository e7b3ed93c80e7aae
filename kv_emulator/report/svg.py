"""A call's attempts drawn as an SVG timeline: the picture of the web view and of ``pytest --kv-report``.

One call (every attempt with the same client request id) on a time axis: each attempt a bar coloured by its
status (2xx, 429, other 4xx, 5xx, no answer), the delay before each retry labelled between the bars, a
dashed mark where a ``Retry-After`` asked the client to come back, and, while throttling is on, the
operation's 10-second window drawn against its limit. Plain SVG text: no script, no font, no asset.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["COLOURS", "status_class", "timeline", "waited_before", "waits"]

#: Fill colour per status class (also the legend of the pages).
COLOURS = {
    "ok": "#2e7d32",
    "throttled": "#ef8f00",
    "client": "#8d6e63",
    "server": "#c62828",
    "fault": "#6a1b9a",
    "challenge": "#9e9e9e",
}
_WIDTH, _LEFT, _RIGHT = 720, 12, 40
_BAR_Y, _BAR_H = 30, 22
_MIN_SPAN = 0.05  # seconds: even a single fast attempt gets an axis this long


def status_class(entry: Any) -> str:
    """The colour class of one attempt: ``ok``, ``throttled``, ``client``, ``server``, ``fault``, ``challenge``."""
    status = entry.status
    if status == 0:
        return "fault"
    if getattr(entry, "challenged", False):
        return "challenge"
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server"
    if status >= 400:
        return "client"
    return "ok"


def _seconds(value: float) -> str:
    if value >= 10:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    return f"{value * 1000:.0f} ms"


def _status_text(entry: Any) -> str:
    if entry.status == 0:
        return entry.injected or "no answer"
    return str(entry.status)


class _Axis:
    """Maps emulator seconds to x pixels over the call's span."""

    def __init__(self, attempts: Sequence[Any]) -> None:
        self.start = attempts[0].time
        ends = [a.time + a.duration for a in attempts]
        ends += [a.time + a.duration + a.retry_after for a in attempts if getattr(a, "retry_after", None)]
        self.span = max(max(ends) - self.start, _MIN_SPAN)
        self.scale = (_WIDTH - _LEFT - _RIGHT) / self.span

    def x(self, t: float) -> float:
        return round(_LEFT + (t - self.start) * self.scale, 1)


def _ticks(axis: _Axis, y: int) -> list[str]:
    parts = [f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}" stroke="#555"/>']
    for i in range(5):
        t = axis.span * i / 4
        x = axis.x(axis.start + t)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(f'<line x1="{x}" y1="{y}" x2="{x}" y2="{y + 4}" stroke="#555"/>')
        parts.append(f'<text x="{x}" y="{y + 15}" font-size="10" text-anchor="{anchor}">+{_seconds(t)}</text>')
    return parts


def _attempt(axis: _Axis, entry: Any, number: int, level: int) -> list[str]:
    x = axis.x(entry.time)
    label_y = _BAR_Y - 4 - 10 * level
    width = max(4.0, round(entry.duration * axis.scale, 1))
    kind = status_class(entry)
    dash = ' stroke-dasharray="3 2" stroke="#000"' if kind == "fault" else ""
    title = escape(f"attempt {number}: {_status_text(entry)} {entry.error_code or ''} ({_seconds(entry.duration)})")
    return [
        f'<g class="attempt {kind}" data-status="{entry.status}"><title>{title}</title>'
        f'<rect x="{x}" y="{_BAR_Y}" width="{width}" height="{_BAR_H}" rx="2" fill="{COLOURS[kind]}"{dash}/>'
        f'<text x="{x + 1}" y="{label_y}" font-size="10">{escape(_status_text(entry))}</text></g>'
    ]


def _delay(axis: _Axis, previous: Any, entry: Any, lowered: bool) -> list[str]:
    """The gap between two attempts, labelled with the delay the client chose (or the measured gap)."""
    x1, x2 = axis.x(previous.time + previous.duration), axis.x(entry.time)
    waited = waited_before(previous, entry)
    y = _BAR_Y + _BAR_H + (24 if lowered else 10)
    mid = min(max(round((x1 + x2) / 2, 1), _LEFT + 32), _WIDTH - _RIGHT - 10)
    return [
        f'<g class="delay"><line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="#1565c0" marker-end="url(#arrow)"/>'
        f'<text x="{mid}" y="{y + 12}" font-size="10" text-anchor="middle" fill="#1565c0">'
        f"waited {_seconds(waited)}</text></g>"
    ]


def waited_before(previous: Any, entry: Any) -> float:
    """How long the client waited before ``entry``: the delay it reported (an emulated sleep), else the gap
    between the end of the previous attempt and this one (a real sleep, as a server sees it)."""
    if entry.delay is not None:
        return float(entry.delay)
    return max(0.0, entry.time - previous.time - previous.duration)


def waits(attempts: Sequence[Any]) -> list[float]:
    """The wait before each retry (the bodiless 401 challenge left out)."""
    shown = [a for a in attempts if not getattr(a, "challenged", False)]
    return [waited_before(previous, entry) for previous, entry in itertools.pairwise(shown)]


def _retry_after_mark(axis: _Axis, entry: Any) -> list[str]:
    at = entry.time + entry.duration + entry.retry_after
    x = axis.x(at)
    return [
        f'<g class="retry-after"><line x1="{x}" y1="{_BAR_Y - 14}" x2="{x}" y2="{_BAR_Y + _BAR_H + 4}" '
        f'stroke="#ef8f00" stroke-dasharray="4 3"/><text x="{x - 3}" y="{_BAR_Y + 14}" font-size="10" '
        f'text-anchor="end" fill="#a65f00">Retry-After {_seconds(entry.retry_after)}</text></g>'
    ]


def _window(axis: _Axis, attempts: Sequence[Any], y: int) -> list[str]:
    """Each attempt's use of its throttling window as a bar against the limit line."""
    counted = [a for a in attempts if getattr(a, "window_limit", None)]
    if not counted:
        return []
    limit = max(a.window_limit for a in counted)
    height = 30
    parts = [
        f'<g class="window"><text x="{_LEFT}" y="{y - 4}" font-size="10">throttling window '
        f"({escape(counted[0].transaction_class or '')}): used of {limit} per 10 s</text>",
        f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - _RIGHT}" y2="{y}" stroke="#c62828" stroke-dasharray="2 2"/>',
    ]
    for a in counted:
        used = min(a.window_used or 0, limit)
        bar = round(height * used / limit, 1)
        x = axis.x(a.time)
        parts.append(
            f'<rect x="{x}" y="{y + height - bar}" width="4" height="{bar}" fill="{COLOURS[status_class(a)]}">'
            f"<title>{a.window_used} of {a.window_limit}</title></rect>"
            f'<text x="{x + 6}" y="{y + height - 2}" font-size="9">{a.window_used}/{a.window_limit}</text>'
        )
    parts.append(f'<line x1="{_LEFT}" y1="{y + height}" x2="{_WIDTH - _RIGHT}" y2="{y + height}" stroke="#999"/>')
    parts.append("</g>")
    return parts


def timeline(attempts: Sequence[Any], *, label: str = "") -> str:
    """The SVG of one call's attempts (journal entries, in order); ``label`` titles it for screen readers."""
    if not attempts:
        return ""
    axis = _Axis(attempts)
    axis_y = _BAR_Y + _BAR_H + 42
    window = _window(axis, attempts, axis_y + 34)
    height = axis_y + 22 + (70 if window else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{escape(label or "call timeline")}" '
        'font-family="sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" '
        'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#1565c0"/></marker></defs>',
    ]
    shown = [a for a in attempts if not getattr(a, "challenged", False)] or list(attempts)
    last_x, level = -100.0, 0
    for number, entry in enumerate(attempts, start=1):
        x = axis.x(entry.time)
        level = (level + 1) % 3 if x - last_x < 24 else 0  # crowded labels stack, three high
        parts += _attempt(axis, entry, number, level)
        last_x = x
    for index, (previous, entry) in enumerate(itertools.pairwise(shown)):
        parts += _delay(axis, previous, entry, lowered=index % 2 == 1)
    for entry in attempts:
        if getattr(entry, "retry_after", None) is not None:
            parts += _retry_after_mark(axis, entry)
    parts += _ticks(axis, axis_y)
    parts += window
    parts.append("</svg>")
    return "".join(parts)
