"""The overview and vault pages of the web view: what the emulator holds, read through public methods.

Lists are paged through the stores' own name-ordered pages (``list_page``), so a vault of 10,000 objects
costs one page to draw. A secret value is never on a page: the "show" link fetches it when asked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from ...report.html import table, when

__all__ = ["PAGE_SIZE", "item", "live_json", "overview", "vault"]

PAGE_SIZE = 50
_KINDS = ("secrets", "keys", "certificates")
_UI = "/_kv/ui"


def _store(vault: Any, kind: str) -> Any:
    if kind not in _KINDS:
        raise LookupError(f"no such kind of object: {kind!r} (secrets, keys or certificates)")
    return getattr(vault, kind)


def _counts(vault: Any) -> dict[str, int]:
    counts = {kind: len(_store(vault, kind)) for kind in _KINDS}
    counts["deleted"] = sum(len(_store(vault, kind).list_deleted()) for kind in _KINDS)
    return counts


def _clock_html(clock: Any) -> str:
    mode = "frozen" if clock.frozen else "running"
    return (
        f"<p>Clock: <strong class='clock-now'>{escape(clock.now().isoformat(timespec='seconds'))}</strong> "
        f"({mode}{', virtual: SDK sleeps advance it' if clock.virtual else ', real sleeps'})</p>"
    )


def faults_table(emulator: Any) -> str:
    faults = list(emulator.faults)
    if not faults:
        return "<p class='muted'>No faults.</p>"
    rows = [
        tuple(escape(str(getattr(f, name) if getattr(f, name) is not None else "")) for name in _FAULT_COLUMNS)
        for f in faults
    ]
    return table(_FAULT_COLUMNS, rows, cls="faults")


_FAULT_COLUMNS = ("status", "operation", "method", "path", "times", "every", "probability", "steps", "hits")


def throttling_html(settings: Any) -> str:
    if not settings.throttling:
        return "<p>Throttling: <strong>off</strong></p>"
    limits = ", ".join(f"{k}={v}" for k, v in sorted(settings.throttle_limits.items())) or "none"
    seconds = settings.throttle_retry_after
    retry_after = (
        "no Retry-After (as the service)" if seconds is None else f"{settings.throttle_retry_after_header}: {seconds} s"
    )
    retry_after = escape(retry_after)
    return (
        f"<p>Throttling: <strong>on</strong>, scale {settings.throttle_scale}, limits {escape(limits)}, "
        f"{retry_after}</p>"
    )


def overview(emulator: Any) -> str:
    rows = []
    for v in emulator.vaults:
        counts = _counts(v)
        rows.append(
            (
                f"<a href='{_UI}/vaults/{quote(v.name)}'>{escape(v.name)}</a>",
                "Managed HSM" if v.managed_hsm else "vault",
                f"<code>{escape(v.url)}</code>",
                *(str(counts[k]) for k in (*_KINDS, "deleted")),
            )
        )
    vaults = table(("name", "kind", "url", "secrets", "keys", "certificates", "deleted"), rows, cls="vaults")
    return (
        "<h1>Overview</h1>"
        + _clock_html(emulator.clock)
        + f"<h2>Vaults and Managed HSMs</h2>{vaults if rows else '<p class=muted>No vaults yet.</p>'}"
        + f"<h2>Faults</h2>{faults_table(emulator)}<h2>Throttling</h2>{throttling_html(emulator.settings)}"
        + f"<p>{len(emulator.requests)} request(s) in the journal: <a href='{_UI}/calls'>calls</a></p>"
    )


def _settings_html(vault: Any) -> str:
    s, network = vault.settings, vault.network
    rows = [
        ("soft delete", str(s.enable_soft_delete)),
        ("retention (days)", str(s.soft_delete_retention_in_days)),
        ("purge protection", str(s.enable_purge_protection)),
        ("sku", str(s.sku)),
        ("permission model", "RBAC" if vault.authorization.rbac else "access policies"),
        ("public network access", str(network.public_network_access)),
        ("firewall default action", str(network.default_action)),
        ("firewall IP rules", ", ".join(network.ip_rules) or "none"),
    ]
    return table(("setting", "value"), [(escape(k), escape(v)) for k, v in rows], cls="settings")


def _tags(tags: Mapping[str, str]) -> str:
    return "".join(f"<span class='tag'>{escape(k)}={escape(v)}</span>" for k, v in tags.items())


def _describe(kind: str, version: Any) -> str:
    payload = version.payload
    if kind == "secrets":
        return escape(payload.content_type or "")
    if kind == "keys":
        size = payload.material.key_size or payload.material.curve or ""
        return escape(f"{payload.material.kty} {size}")
    return "pending" if payload.pending else escape(f"x5t {payload.thumbprint[:16]}")


def _object_row(vault: Any, kind: str, obj: Any) -> tuple[str, ...]:
    latest = obj.latest
    a = latest.attributes
    link = f"{_UI}/vaults/{quote(vault.name)}/{kind}/{quote(obj.name)}"
    return (
        f"<a href='{link}'>{escape(obj.name)}</a>"
        + (" <span class='muted'>(certificate's)</span>" if obj.managed else ""),
        str(len(obj.versions)),
        "yes" if a.enabled else "no",
        _describe(kind, latest),
        escape(when(a.created)),
        escape(when(a.updated)),
        escape(when(a.expires)),
        _tags(latest.tags),
    )


def _deleted_row(vault: Any, kind: str, deleted: Any) -> tuple[str, ...]:
    obj = deleted.obj
    return (
        f"<span class='deleted'>{escape(obj.name)}</span>",
        str(len(obj.versions)),
        escape(when(deleted.deleted_date)),
        escape(when(deleted.scheduled_purge_date)),
        _tags(obj.latest.tags),
    )


def _tabs(vault: Any, current: str, deleted: bool) -> str:
    links = []
    for kind in _KINDS:
        for gone in (False, True):
            label = f"deleted {kind}" if gone else kind
            here = kind == current and gone == deleted
            query = urlencode({"kind": kind, **({"deleted": "1"} if gone else {})})
            links.append(
                f"<a href='{_UI}/vaults/{quote(vault.name)}?{query}' class='{'here' if here else ''}'>{label}</a>"
            )
    return "<p class='tabs'>" + " &middot; ".join(links) + "</p>"


def _objects(vault: Any, args: Mapping[str, str]) -> str:
    kind = args.get("kind", "keys" if vault.managed_hsm else "secrets")
    deleted = args.get("deleted") == "1"
    store = _store(vault, kind)
    prefix = args.get("q", "").strip().lower()
    start = args.get("start") or prefix or None
    if deleted:
        found, following = store.list_deleted_page(start, PAGE_SIZE)
        found = [d for d in found if d.obj.name.lower().startswith(prefix)]
        rows = [_deleted_row(vault, kind, d) for d in found]
        listing = table(("name", "versions", "deleted", "purged at", "tags"), rows, cls="objects")
    else:
        found, following = store.list_page(start, PAGE_SIZE)
        found = [o for o in found if o.name.lower().startswith(prefix)]
        rows = [_object_row(vault, kind, o) for o in found]
        headers = ("name", "versions", "enabled", "type", "created", "updated", "expires", "tags")
        listing = table(headers, rows, cls="objects")
    if following and not following.startswith(prefix):
        following = None
    search = (
        f"<form method='get' class='inline'><input type='hidden' name='kind' value='{escape(kind)}'>"
        + ("<input type='hidden' name='deleted' value='1'>" if deleted else "")
        + f"<input name='q' value='{escape(prefix)}' placeholder='name starts with'> <button>Find</button></form>"
    )
    pager = ""
    if following:
        query = urlencode({"kind": kind, "start": following, "q": prefix, **({"deleted": "1"} if deleted else {})})
        pager = f"<p class='pager'><a href='?{query}' class='next'>next {PAGE_SIZE} &rarr;</a></p>"
    return _tabs(vault, kind, deleted) + search + listing + pager


def _access_html(vault: Any) -> str:
    auth = vault.authorization
    roles = table(
        ("id", "role", "principal", "scope"),
        [tuple(escape(str(x)) for x in (a.id, a.role, a.principal_id, a.scope)) for a in auth.assignments],
        cls="roles",
    )
    policies = table(
        ("principal", "secrets", "keys", "certificates"),
        [
            tuple(
                escape(x)
                for x in (
                    p.object_id,
                    ", ".join(sorted(p.secrets)),
                    ", ".join(sorted(p.keys)),
                    ", ".join(sorted(p.certificates)),
                )
            )
            for p in auth.access_policies
        ],
        cls="policies",
    )
    return f"<h2>Role assignments</h2>{roles}<h2>Access policies</h2>{policies}"


def _certificate_extras(vault: Any) -> str:
    if vault.managed_hsm:
        return ""
    certificates = vault.certificates
    operations = table(
        ("certificate", "issuer", "status", "details", "cancellation requested"),
        [
            tuple(
                escape(str(x))
                for x in (o.name, o.issuer_name, o.status, o.status_details or "", o.cancellation_requested)
            )
            for o in certificates.list_operations()
        ],
        cls="operations",
    )
    issuers = table(
        ("issuer", "provider", "enabled", "account"),
        [
            tuple(escape(str(x)) for x in (i.name, i.provider, i.enabled, i.account_id or ""))
            for i in certificates.issuers.list()
        ],
        cls="issuers",
    )
    return f"<h2>Certificate operations</h2>{operations}<h2>Certificate issuers</h2>{issuers}"


def vault(v: Any, args: Mapping[str, str]) -> str:
    kind = "Managed HSM" if v.managed_hsm else "Vault"
    return (
        f"<h1>{kind} {escape(v.name)}</h1><p><code>{escape(v.url)}</code></p>"
        f"<h2>Settings</h2>{_settings_html(v)}<h2>Objects</h2>{_objects(v, args)}"
        f"{_certificate_extras(v)}{_access_html(v)}"
    )


def _show_link(v: Any, name: str, version: str) -> str:
    url = f"{_UI}/vaults/{quote(v.name)}/secrets/{quote(name)}/value?{urlencode({'version': version})}"
    return f"<a class='show-secret' href='{escape(url)}'>show value</a>"


def item(v: Any, kind: str, name: str) -> str:
    """One object with every version (attributes, tags), or its deleted state."""
    store = _store(v, kind)
    back = f"{_UI}/vaults/{quote(v.name)}?kind={kind}"
    head = f"<h1>{escape(kind[:-1])} {escape(name)}</h1><p><a href='{back}'>&larr; {escape(v.name)}</a></p>"
    if name not in store:
        deleted = store.get_deleted(name)
        return head + (
            f"<p class='deleted'>Deleted {escape(when(deleted.deleted_date))}; purged at "
            f"{escape(when(deleted.scheduled_purge_date))}.</p>"
        )
    rows = []
    for version in reversed(store.list_versions(name)):
        a = version.attributes
        value = _show_link(v, name, version.version) if kind == "secrets" else _describe(kind, version)
        rows.append(
            (
                f"<code>{escape(version.version)}</code>",
                "yes" if a.enabled else "no",
                escape(when(a.created)),
                escape(when(a.updated)),
                escape(when(a.not_before)),
                escape(when(a.expires)),
                _tags(version.tags),
                value,
            )
        )
    headers = (
        "version",
        "enabled",
        "created",
        "updated",
        "not before",
        "expires",
        "tags",
        "value" if kind == "secrets" else "type",
    )
    return head + table(headers, rows, cls="versions")


def live_json(emulator: Any) -> str:
    """What changes as the server works, as one stamp the page's script compares."""
    clock = emulator.clock
    state = (
        len(emulator.requests),
        sum(v.changes for v in emulator.vaults),
        len(emulator.vaults),
        sum(f.hits for f in emulator.faults),
        len(list(emulator.faults)),
        round(clock.time() - (0 if clock.frozen else time.time())),
        clock.virtual,
        emulator.settings.throttling,
        len(emulator.events.published),
    )
    return json.dumps({"stamp": "-".join(str(x) for x in state), "requests": state[0], "now": clock.now().isoformat()})
