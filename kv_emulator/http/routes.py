"""The route table: every data-plane operation of the 2026-04-01 specs, by its spec ``operationId``.

Paths are case-insensitive in their fixed words (``/Secrets/x/Versions`` works as on the service);
the version segment may be empty (``/secrets/x/`` and ``/keys/x//sign`` mean the latest version).
"""

from __future__ import annotations

import functools
import re

from werkzeug.routing import BaseConverter, Map, Rule

from ..api.availability import operation_exists
from ..api.versions import ApiVersion

__all__ = ["KEYS_SPEC_OPERATIONS", "OPERATIONS", "build_map", "match_route", "normalize_path", "route"]

# (method, path template, operationId), as in secrets.json, keys.json and certificates.json.
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    # secrets.json
    ("GET", "/deletedsecrets", "GetDeletedSecrets"),
    ("GET", "/deletedsecrets/{secret-name}", "GetDeletedSecret"),
    ("DELETE", "/deletedsecrets/{secret-name}", "PurgeDeletedSecret"),
    ("POST", "/deletedsecrets/{secret-name}/recover", "RecoverDeletedSecret"),
    ("GET", "/secrets", "GetSecrets"),
    ("PUT", "/secrets/{secret-name}", "SetSecret"),
    ("DELETE", "/secrets/{secret-name}", "DeleteSecret"),
    ("GET", "/secrets/{secret-name}/{secret-version}", "GetSecret"),
    ("PATCH", "/secrets/{secret-name}/{secret-version}", "UpdateSecret"),
    ("POST", "/secrets/{secret-name}/backup", "BackupSecret"),
    ("GET", "/secrets/{secret-name}/versions", "GetSecretVersions"),
    ("POST", "/secrets/restore", "RestoreSecret"),
    # keys.json
    ("GET", "/deletedkeys", "GetDeletedKeys"),
    ("GET", "/deletedkeys/{key-name}", "GetDeletedKey"),
    ("DELETE", "/deletedkeys/{key-name}", "PurgeDeletedKey"),
    ("POST", "/deletedkeys/{key-name}/recover", "RecoverDeletedKey"),
    ("GET", "/keys", "GetKeys"),
    ("PUT", "/keys/{key-name}", "ImportKey"),
    ("DELETE", "/keys/{key-name}", "DeleteKey"),
    ("GET", "/keys/{key-name}/{key-version}", "GetKey"),
    ("PATCH", "/keys/{key-name}/{key-version}", "UpdateKey"),
    ("GET", "/keys/{key-name}/{key-version}/attestation", "GetKeyAttestation"),
    ("POST", "/keys/{key-name}/{key-version}/decrypt", "decrypt"),
    ("POST", "/keys/{key-name}/{key-version}/encrypt", "encrypt"),
    ("POST", "/keys/{key-name}/{key-version}/release", "release"),
    ("POST", "/keys/{key-name}/{key-version}/secureunwrapkey", "secureunwrapkey"),
    ("POST", "/keys/{key-name}/{key-version}/securewrapkey", "securewrapkey"),
    ("POST", "/keys/{key-name}/{key-version}/sign", "sign"),
    ("POST", "/keys/{key-name}/{key-version}/unwrapkey", "unwrapKey"),
    ("POST", "/keys/{key-name}/{key-version}/verify", "verify"),
    ("POST", "/keys/{key-name}/{key-version}/wrapkey", "wrapKey"),
    ("POST", "/keys/{key-name}/backup", "BackupKey"),
    ("POST", "/keys/{key-name}/create", "CreateKey"),
    ("POST", "/keys/{key-name}/rotate", "RotateKey"),
    ("GET", "/keys/{key-name}/rotationpolicy", "GetKeyRotationPolicy"),
    ("PUT", "/keys/{key-name}/rotationpolicy", "UpdateKeyRotationPolicy"),
    ("GET", "/keys/{key-name}/versions", "GetKeyVersions"),
    ("POST", "/keys/restore", "RestoreKey"),
    ("POST", "/rng", "GetRandomBytes"),
    # certificates.json
    ("GET", "/certificates", "GetCertificates"),
    ("DELETE", "/certificates/{certificate-name}", "DeleteCertificate"),
    ("GET", "/certificates/{certificate-name}/{certificate-version}", "GetCertificate"),
    ("PATCH", "/certificates/{certificate-name}/{certificate-version}", "UpdateCertificate"),
    ("POST", "/certificates/{certificate-name}/backup", "BackupCertificate"),
    ("POST", "/certificates/{certificate-name}/create", "CreateCertificate"),
    ("POST", "/certificates/{certificate-name}/import", "ImportCertificate"),
    ("GET", "/certificates/{certificate-name}/pending", "GetCertificateOperation"),
    ("PATCH", "/certificates/{certificate-name}/pending", "UpdateCertificateOperation"),
    ("DELETE", "/certificates/{certificate-name}/pending", "DeleteCertificateOperation"),
    ("POST", "/certificates/{certificate-name}/pending/merge", "MergeCertificate"),
    ("GET", "/certificates/{certificate-name}/policy", "GetCertificatePolicy"),
    ("PATCH", "/certificates/{certificate-name}/policy", "UpdateCertificatePolicy"),
    ("GET", "/certificates/{certificate-name}/versions", "GetCertificateVersions"),
    ("GET", "/certificates/contacts", "GetCertificateContacts"),
    ("PUT", "/certificates/contacts", "SetCertificateContacts"),
    ("DELETE", "/certificates/contacts", "DeleteCertificateContacts"),
    ("GET", "/certificates/issuers", "GetCertificateIssuers"),
    ("GET", "/certificates/issuers/{issuer-name}", "GetCertificateIssuer"),
    ("PUT", "/certificates/issuers/{issuer-name}", "SetCertificateIssuer"),
    ("PATCH", "/certificates/issuers/{issuer-name}", "UpdateCertificateIssuer"),
    ("DELETE", "/certificates/issuers/{issuer-name}", "DeleteCertificateIssuer"),
    ("POST", "/certificates/restore", "RestoreCertificate"),
    ("GET", "/deletedcertificates", "GetDeletedCertificates"),
    ("GET", "/deletedcertificates/{certificate-name}", "GetDeletedCertificate"),
    ("DELETE", "/deletedcertificates/{certificate-name}", "PurgeDeletedCertificate"),
    ("POST", "/deletedcertificates/{certificate-name}/recover", "RecoverDeletedCertificate"),
)

#: The operations of keys.json (what a Managed HSM answers, and what counts as a key transaction).
KEYS_SPEC_OPERATIONS = frozenset(
    op for _, template, op in OPERATIONS if template.startswith(("/keys", "/deletedkeys", "/rng"))
)
_ISSUER_OPERATIONS = frozenset(op for _, template, op in OPERATIONS if "{issuer-name}" in template)
_PARAM = re.compile(r"\{([a-z]+)-(name|version)\}")
_FIXED_WORDS = frozenset(
    word for _, template, _ in OPERATIONS for word in template.strip("/").split("/") if not word.startswith("{")
)


class _VersionConverter(BaseConverter):
    """A version segment that may be empty: the empty string means "latest"."""

    regex = "[^/]*"


def _rule_path(template: str) -> str:
    def param(match: re.Match[str]) -> str:
        kind = match.group(2)
        return "<version:version>" if kind == "version" else "<name>"

    return _PARAM.sub(param, template)


@functools.cache
def build_map(since: str | None = None) -> Map:
    """The werkzeug Map of all operations (or of those an api-version has); built once per version (about
    0.1 s) and shared, as it is never changed."""
    rules: list[Rule] = []
    for method, template, operation in OPERATIONS:
        if since is not None and not operation_exists(operation, ApiVersion(since, since)):
            continue
        path = _rule_path(template)
        rules.append(Rule(path, methods=[method], endpoint=operation))
        if path.endswith("/<version:version>"):
            # "/secrets/x" (no trailing slash) also means the latest version.
            rules.append(
                Rule(
                    path.removesuffix("/<version:version>"),
                    methods=[method],
                    endpoint=operation,
                    defaults={"version": ""},
                )
            )
    return Map(
        rules,
        converters={"version": _VersionConverter},
        strict_slashes=False,
        merge_slashes=False,
        redirect_defaults=False,
    )


def normalize_path(path: str) -> str:
    """Lowercase the fixed words of a path so routes match whatever casing the client used."""
    return "/".join(part.lower() if part.lower() in _FIXED_WORDS else part for part in path.split("/"))


def route(path: str, method: str, version: ApiVersion | None = None) -> tuple[str, dict[str, str]]:
    """Match a request path case-insensitively; the ``name`` argument keeps the casing the client sent.

    (``PUT /secrets/Backup`` stores a secret named "Backup", though "backup" is also a fixed word.) With an
    api-version, an operation that version does not have is routed again among those it has, as the service
    would see the path (see :mod:`kv_emulator.api.availability`).
    """
    endpoint, arguments = _route(path, method, version.effective if version is not None else None)
    return endpoint, dict(arguments)  # the cached dict is shared


@functools.lru_cache(maxsize=4096)
def _route(path: str, method: str, effective: str | None) -> tuple[str, dict[str, str]]:
    """:func:`route` for the raw path, cached: tests repeat the same few paths, and errors are not cached."""
    normalized = normalize_path(path)
    endpoint, cached = match_route(normalized, method)
    if effective is not None and not operation_exists(endpoint, ApiVersion(effective, effective)):
        endpoint, cached = match_route(normalized, method, effective)
    arguments = dict(cached)
    if "name" in arguments:
        segments = path.split("/")
        index = 3 if endpoint in _ISSUER_OPERATIONS else 2  # segments[0] is the empty string before "/"
        arguments["name"] = segments[index]
    return endpoint, arguments


@functools.lru_cache(maxsize=4096)
def match_route(path: str, method: str, since: str | None = None) -> tuple[str, dict[str, str]]:
    """(operationId, path arguments) for a normalized path; werkzeug's NotFound/MethodNotAllowed otherwise.

    Cached: routing is the costliest step of a request, and tests repeat the same few paths.
    """
    endpoint, arguments = build_map(since).bind("vault", url_scheme="https").match(path, method=method)
    return str(endpoint), dict(arguments)
