"""Paged lists: ``maxresults`` (1-25), an opaque ``$skiptoken`` and an absolute ``nextLink``.

The skiptoken has the service's shape (base64url of ``{"NextMarker": ..., "TargetLocation": 0}``); its
marker is the sort key of the first item of the next page, so a page boundary survives deletions.
Stores keep their names in order and hand out one page from a marker (:func:`page_from_store`), so a page
costs the same on the first call and the two-thousandth, however big the vault.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from ..errors import BadParameter
from .context import RequestContext

__all__ = ["MAX_PAGE_SIZE", "page", "page_by_name", "page_from_store", "page_versions"]

T = TypeVar("T")
MAX_PAGE_SIZE = 25


def _page_size(ctx: RequestContext) -> int | None:
    raw = ctx.query.get("maxresults")
    if raw is None or raw == "":
        return None
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        # Unverified text: the service's wording for an out-of-range maxresults is not recorded.
        raise BadParameter(f"The value of maxresults must be between 1 and {MAX_PAGE_SIZE}; got '{raw}'.")
    return size


def _encode_marker(marker: str) -> str:
    token = json.dumps({"NextMarker": marker, "TargetLocation": 0}, separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _decode_marker(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        marker = json.loads(base64.urlsafe_b64decode(padded))["NextMarker"]
        if isinstance(marker, str):
            return marker
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    # Unverified text.
    raise BadParameter("The $skiptoken is invalid.")


def page(
    ctx: RequestContext,
    items: Sequence[T],
    *,
    sort_key: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``items`` (already in ``sort_key`` order) and the link to the next."""
    size = _page_size(ctx)
    token = ctx.query.get("$skiptoken")
    start = 0
    if token:
        marker = _decode_marker(token)
        start = next((i for i, item in enumerate(items) if sort_key(item) >= marker), len(items))
    end = start + (size or MAX_PAGE_SIZE)
    following = sort_key(items[end]) if end < len(items) else None
    return {"value": [render(item) for item in items[start:end]], "nextLink": _next_link(ctx, following, size)}


def page_from_store(
    ctx: RequestContext,
    fetch: Callable[[str | None, int], tuple[Sequence[T], str | None]],
    render: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """One page from a store that pages itself: ``fetch(marker, count)`` returns up to ``count`` items from the
    first whose sort key is at or after ``marker`` (None: the start), and the sort key of the next one."""
    size = _page_size(ctx)
    token = ctx.query.get("$skiptoken")
    items, following = fetch(_decode_marker(token) if token else None, size or MAX_PAGE_SIZE)
    return {"value": [render(item) for item in items], "nextLink": _next_link(ctx, following, size)}


def _next_link(ctx: RequestContext, marker: str | None, size: int | None) -> str | None:
    if marker is None:
        return None
    query = f"api-version={quote(ctx.api_version.requested)}&$skiptoken={_encode_marker(marker)}"
    if size is not None:
        query += f"&maxresults={size}"
    return f"{ctx.base_url}{ctx.path}?{query}"


def page_by_name(
    ctx: RequestContext, items: Sequence[T], *, name: Callable[[T], str], render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """A page of objects listed by name, as the service sorts them (case-insensitively)."""
    return page(ctx, items, sort_key=lambda item: name(item).lower(), render=render)


def page_versions(ctx: RequestContext, versions: Sequence[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A page of an object's versions, oldest first (their ids are random, so the marker is the position)."""
    numbered = list(enumerate(versions))
    return page(ctx, numbered, sort_key=lambda pair: f"{pair[0]:08d}", render=lambda pair: render(pair[1]))
