"""The route table: every data-plane operation of the 2026-04-01 specs, by its spec ``operationId``.

Paths are case-insensitive in their fixed words (``/Secrets/x/Versions`` works as on the service);
the version segment may be empty or left out (``/secrets/x/``, ``/keys/x//sign`` and ``/keys/x/sign`` mean
the latest version). A Managed HSM also routes its administration operations (role-based access, full
backup and restore, settings, security domain), which answer 501 until they are implemented.
"""

from __future__ import annotations

import functools
import re

from werkzeug.routing import BaseConverter, Map, Rule

from .. import api
from ..api.versions import ApiVersion

__all__ = [
    "MANAGED_HSM_OPERATIONS",
    "OPERATIONS",
    "build_map",
    "empty_name",
    "match_route",
    "normalize_path",
    "route",
]

#: The route table of vault hosts, (method, path template, operationId) as in secrets.json, keys.json and
#: certificates.json: a view of the operations' records (kv_emulator/api/*.py ``OPERATIONS``).
OPERATIONS: tuple[tuple[str, str, str], ...] = tuple(record.route for record in api.OPERATIONS if record.on_vault)
#: The Managed HSM administration operations azure-keyvault-administration calls (rbac.json and
#: backuprestore.json from 7.2, settings.json from 7.4; operationIds as the specs name them) and
#: securitydomain.json's: routed on Managed HSM hosts only.
MANAGED_HSM_OPERATIONS: tuple[tuple[str, str, str], ...] = tuple(
    record.route for record in api.OPERATIONS if not record.on_vault
)
_ISSUER_OPERATIONS = frozenset(op for _, template, op in OPERATIONS if "{issuer-name}" in template)
_PARAM = re.compile(r"\{([a-z]+)-(name|version)\}")
_ADMIN_PARAM = re.compile(r"\{(scope|role-definition|role-assignment|job-id)\}")
_FIXED_WORDS = frozenset(
    word.lower()
    for _, template, _ in OPERATIONS + MANAGED_HSM_OPERATIONS
    for word in template.strip("/").split("/")
    if not word.startswith("{")
)
#: The first path segment of each collection whose next segment is an object's name.
_NAMED_COLLECTIONS = frozenset(
    template.split("/")[1] for _, template, _ in OPERATIONS if template.count("/") >= 2 and "-name}" in template
)


class _VersionConverter(BaseConverter):
    """A version segment that may be empty: the empty string means "latest"."""

    regex = "[^/]*"


class _ScopeConverter(BaseConverter):
    """A role scope: ``keys``, ``keys/<name>``, or empty (``//providers``; the SDK sends ``/providers``)."""

    regex = "[^?]*?"
    part_isolating = False


def _rule_path(template: str) -> str:
    def param(match: re.Match[str]) -> str:
        kind = match.group(2)
        return "<version:version>" if kind == "version" else "<name>"

    def admin_param(match: re.Match[str]) -> str:
        word = match.group(1)
        return "<scope:scope>" if word == "scope" else f"<{word.replace('-', '_')}>"

    fixed = "/".join(part if part.startswith("{") else part.lower() for part in template.split("/"))
    return _ADMIN_PARAM.sub(admin_param, _PARAM.sub(param, fixed))


def _rules(method: str, template: str, operation: str) -> list[Rule]:
    """The rules of one operation: its template, and the same without a version segment that may be left out.

    ``/secrets/x`` (no trailing slash) means the latest version; so does ``/keys/x/sign``: the service answers
    the crypto operations and key attestation without a version segment with the latest version (recorded:
    azure-sdk-for-go azkeys recordings, 2023, on vaults and Managed HSMs; the JavaScript SDK's
    getKeyAttestation). Nothing is hidden by that: the crypto operations are POSTs, which ``/keys/x/{version}``
    does not take; a version is 32 hex digits, never ``attestation``; and ``GET /keys/sign`` is still the key
    named "sign". The global role scope "/" is sent as ``/providers/...`` (without a scope segment).
    """
    path = _rule_path(template)
    rules = [Rule(path, methods=[method], endpoint=operation)]
    for optional, argument in (("/<version:version>", "version"), ("/<scope:scope>", "scope")):
        if optional in path:
            shorter = path.replace(optional, "", 1)
            rules.append(Rule(shorter, methods=[method], endpoint=operation, defaults={argument: ""}))
    return rules


@functools.cache
def build_map(since: str | None = None, managed_hsm: bool = False) -> Map:
    """The werkzeug Map of all operations (or of those an api-version has; with a Managed HSM's administration
    operations or without); built once per version (about 0.1 s) and shared, as it is never changed."""
    rules: list[Rule] = []
    for record in api.OPERATIONS:
        routed = record.on_vault or managed_hsm
        if routed and (since is None or record.exists_at(ApiVersion(since, since))):
            rules += _rules(record.method, record.path, record.name)
    return Map(
        rules,
        converters={"version": _VersionConverter, "scope": _ScopeConverter},
        strict_slashes=False,
        merge_slashes=False,
        redirect_defaults=False,
    )


def normalize_path(path: str) -> str:
    """Lowercase the fixed words of a path so routes match whatever casing the client used."""
    return "/".join(part.lower() if part.lower() in _FIXED_WORDS else part for part in path.split("/"))


def empty_name(path: str) -> bool:
    """Whether a path leaves an object's name empty: ``/secrets/`` or ``/certificates//create``.

    The service answers such a request 405 "HTTP PUT not allowed" whatever its method (recorded: 2022), unless
    it is a list (``GET /secrets/``).
    """
    segments = path.split("/")
    return len(segments) > 2 and segments[2] == "" and segments[1].lower() in _NAMED_COLLECTIONS


def route(
    path: str, method: str, version: ApiVersion | None = None, *, managed_hsm: bool = False
) -> tuple[str, dict[str, str]]:
    """Match a request path case-insensitively; the ``name`` argument keeps the casing the client sent.

    (``PUT /secrets/Backup`` stores a secret named "Backup", though "backup" is also a fixed word.) With an
    api-version, an operation that version does not have is routed again among those it has, as the service
    would see the path (see :mod:`kv_emulator.api.availability`). A Managed HSM also has its administration
    operations; a vault routes their paths as if they did not exist.
    """
    endpoint, arguments = _route(path, method, version.effective if version is not None else None, managed_hsm)
    return endpoint, dict(arguments)  # the cached dict is shared


@functools.lru_cache(maxsize=4096)
def _route(path: str, method: str, effective: str | None, managed_hsm: bool = False) -> tuple[str, dict[str, str]]:
    """:func:`route` for the raw path, cached: tests repeat the same few paths, and errors are not cached."""
    normalized = normalize_path(path)
    endpoint, cached = match_route(normalized, method, None, managed_hsm)
    if effective is not None and not api.RECORDS[endpoint].exists_at(ApiVersion(effective, effective)):
        endpoint, cached = match_route(normalized, method, effective, managed_hsm)
    arguments = dict(cached)
    if "name" in arguments:
        segments = path.split("/")
        index = 3 if endpoint in _ISSUER_OPERATIONS else 2  # segments[0] is the empty string before "/"
        arguments["name"] = segments[index]
    return endpoint, arguments


@functools.lru_cache(maxsize=4096)
def match_route(
    path: str, method: str, since: str | None = None, managed_hsm: bool = False
) -> tuple[str, dict[str, str]]:
    """(operationId, path arguments) for a normalized path; werkzeug's NotFound/MethodNotAllowed otherwise.

    Cached: routing is the costliest step of a request, and tests repeat the same few paths.
    """
    bound = build_map(since, managed_hsm).bind("vault", url_scheme="https")
    endpoint, arguments = bound.match(path, method=method)
    return str(endpoint), dict(arguments)
