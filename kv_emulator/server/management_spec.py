"""The ``/_kv/`` management API as an OpenAPI 3 document: served at ``/_kv/openapi.json``, routed and checked.

The routes of :class:`~kv_emulator.server.management.ControlApi` are made from this document and every
request body is checked against its schema here (``validate.check``), so what the document says is what the
server does. Each operation's ``operationId`` names the method that answers it (``_<operationId>``).
"""

from __future__ import annotations

from typing import Any

from ..config import RETRY_AFTER_HEADERS, TRANSACTION_CLASSES
from ..objects.authorization import BUILT_IN_ROLES

__all__ = ["DOCUMENT", "MAX_CLOCK_YEAR", "operations"]

#: The clock's range: later instants overflow the date arithmetic of certificates and tokens.
MAX_CLOCK_YEAR = 9000

_TEXT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 1000}
_NAME_OR_URL = {
    **_TEXT,
    "description": "a vault name (3-24 letters, digits and hyphens, starting with a letter) or an https:// URL",
    "pattern": r"^([a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]|https://[^\s/]+/?)$",
}
_NULLABLE_COUNT = {"type": "integer", "minimum": 1, "maximum": 1_000_000_000, "nullable": True}


def _status(*words: str) -> dict[str, Any]:
    """An HTTP error status or one of ``words``: what a fault answers, or a script's step."""
    named = [f"'{word}'" for word in words]
    return {
        "description": f"an HTTP status from 400 to 599, {', '.join(named[:-1])} or {named[-1]}",
        "anyOf": [
            {"type": "integer", "minimum": 400, "maximum": 599},
            {"type": "string", "enum": list(words)},
        ],
    }


_STATUS = _status("connection_error", "timeout")
_PRINCIPAL_REF = {**_TEXT, "description": "a registered client id, or an object id"}
_PERMISSIONS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100}, "maxItems": 100}


def _object(properties: dict[str, Any], *, required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False, **extra}
    if required:
        body["required"] = list(required)
    return body


_FAULT_MATCH = {
    "operation": {**_TEXT, "description": "a spec operationId such as GetSecret"},
    "method": {"type": "string", "enum": ["GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"]},
    "path": {**_TEXT, "description": "a glob on the request path, e.g. /secrets/*"},
    "latency": {"type": "number", "minimum": 0, "maximum": 3600, "description": "seconds to wait first"},
    "headers": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1000}},
    "body": {"description": "the JSON answered instead of the usual error body"},
}
_FAULT = _object(
    {
        "status": {**_STATUS, "nullable": True, "description": _STATUS["description"] + " (null: latency only)"},
        **_FAULT_MATCH,
        "times": {**_NULLABLE_COUNT, "description": "how many matches fire (default 1; null: every one)"},
        "every": {**_NULLABLE_COUNT, "description": "fire on every Nth match"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True},
        "seed": {"type": "integer", "nullable": True, "minimum": 0, "maximum": 2**63},
        "claims": {"type": "object", "nullable": True, "description": "a CAE claims challenge (status 401)"},
    }
)
_SCRIPT = _object(
    {
        "operation": _FAULT_MATCH["operation"],
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": _status("connection_error", "timeout", "ok"),
        },
        **{name: _FAULT_MATCH[name] for name in ("method", "path", "latency", "headers", "body")},
    },
    required=("operation", "steps"),
)
_THROTTLING = _object(
    {
        "enabled": {"type": "boolean"},
        "scale": {"type": "number", "minimum": 0.000001, "maximum": 1000},
        "limits": {
            "type": "object",
            "description": "per 10 s limits by class: " + ", ".join(TRANSACTION_CLASSES),
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
        },
        "retry_after": {"type": "number", "minimum": 0, "maximum": 86400, "nullable": True},
        "retry_after_header": {"type": "string", "enum": list(RETRY_AFTER_HEADERS)},
    }
)
_PRINCIPAL = _object(
    {
        "client_id": {**_TEXT, "description": "the app's client id (default: a new GUID)"},
        "secret": _TEXT,
        "certificate": {**_TEXT, "maxLength": 100_000, "description": "a PEM certificate the app signs with"},
        "federated": {"type": "boolean"},
        "tenant_id": _TEXT,
        "object_id": _TEXT,
        "display_name": {"type": "string", "maxLength": 1000},
    }
)
_MANAGED_IDENTITY = _object({"client_id": _TEXT, "object_id": _TEXT, "tenant_id": _TEXT})
_ROLE = _object(
    {
        "role": {"type": "string", "enum": list(BUILT_IN_ROLES)},
        "principal": _PRINCIPAL_REF,
        "scope": {"type": "string", "maxLength": 1000, "description": "/ (the vault) or /secrets/<name>, ..."},
        "vault": _NAME_OR_URL,
    },
    required=("role", "principal"),
)
_POLICY = _object(
    {
        "principal": _PRINCIPAL_REF,
        "secrets": _PERMISSIONS,
        "keys": _PERMISSIONS,
        "certificates": _PERMISSIONS,
        "vault": _NAME_OR_URL,
    },
    required=("principal",),
)
_SUBSCRIPTION = _object(
    {
        "endpoint": {**_TEXT, "description": "the webhook URL; it must answer Event Grid's validation handshake"},
        "types": {"anyOf": [_TEXT, {"type": "array", "items": _TEXT}], "description": "an event type or a list"},
        "subject_begins_with": _TEXT,
        "subject_ends_with": _TEXT,
        "schema": {**_TEXT, "description": "eventgrid (the default) or cloudevents"},
        "vault": _NAME_OR_URL,
        "name": {**_TEXT, "maxLength": 64},
    },
    required=("endpoint",),
)
_CLOCK_STATE = _object(
    {
        "now": {"type": "string", "format": "date-time"},
        "frozen": {"type": "boolean"},
        "virtual": {"type": "boolean"},
    },
    required=("now",),
    description="the emulator's clock; the other fields of GET /_kv/clock may come along and are ignored",
)
_FULL_STATE = {
    "type": "object",
    "description": "a state document (docs/state.md, GET /_kv/state?full=true): its sections are checked on load",
    "properties": {"format": {"type": "integer", "minimum": 1}},
    "required": ["format"],
    "additionalProperties": True,
}
_SEED_STATE = {
    "type": "object",
    "description": "a seed document (docs/seed-files.md), and the clock if it should be set too",
    "properties": {
        "version": {"type": "integer", "enum": [1]},
        "vaults": {"type": "object", "additionalProperties": {"type": "object"}},
        "clock": {**_CLOCK_STATE, "properties": {**_CLOCK_STATE["properties"], "time": {"type": "number"}}},
    },
    "additionalProperties": False,
}
_STATE = {"anyOf": [_FULL_STATE, _SEED_STATE], "description": "a state document or a seed document"}

_ANY = {"description": "JSON"}
_ERROR = {
    "description": "the request is wrong; the message says how",
    "content": {
        "application/json": {
            "schema": _object(
                {"error": _object({"code": {"type": "string"}, "message": {"type": "string"}})},
                required=("error",),
            )
        }
    },
}


def _op(
    operation_id: str,
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    status: int = 200,
    query: dict[str, str] | None = None,
    content: str = "application/json",
) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "OK", "content": {content: {"schema": _ANY}}}
    spec: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {str(status): answer, "400": _ERROR, "403": _ERROR, "404": _ERROR},
    }
    if body is not None:
        spec["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    if query:
        spec["parameters"] = [
            {"name": name, "in": "query", "required": False, "description": text, "schema": _TEXT}
            for name, text in query.items()
        ]
    return spec


def _path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}


_VAULT_QUERY = {"vault": "only this vault (a name or URL)"}
_PATHS: dict[str, dict[str, Any]] = {
    "/_kv/health": {"get": _op("health", "Ready once listening: the addresses and whether state is kept")},
    "/_kv/openapi.json": {"get": _op("openapi", "This document")},
    "/_kv/reset": {"post": _op("reset", "Forget every vault, request, fault and event; the clock runs again")},
    "/_kv/clock": {"get": _op("clock", "The emulator's time")},
    "/_kv/clock/advance": {
        "post": _op(
            "clock_advance",
            "Move time forward",
            body=_object(
                {
                    "days": {"type": "number", "minimum": 0, "maximum": 3_000_000},
                    "seconds": {"type": "number", "minimum": 0, "maximum": 3_000_000 * 86400},
                },
                minProperties=1,
            ),
        )
    },
    "/_kv/clock/freeze": {
        "post": _op(
            "clock_freeze",
            "Stop time, now or at an instant",
            body=_object({"at": {"type": "string", "format": "date-time"}}),
        )
    },
    "/_kv/clock/unfreeze": {"post": _op("clock_unfreeze", "Let time run again from where it stands")},
    "/_kv/clock/virtual": {
        "post": _op(
            "clock_virtual",
            "Virtual time: the SDK's sleeps advance the clock instead of waiting",
            body=_object({"enabled": {"type": "boolean"}}),
        )
    },
    "/_kv/faults": {
        "get": _op("faults", "The injected faults and how often each fired"),
        "post": _op("faults_add", "Inject a fault (kv.faults.add)", body=_FAULT),
        "delete": _op("faults_clear", "Remove every fault"),
    },
    "/_kv/faults/script": {"post": _op("faults_script", "Play steps for one operation", body=_SCRIPT)},
    "/_kv/throttling": {
        "get": _op("throttling", "The service limits in force"),
        "put": _op("throttling_set", "Switch service limits on or off", body=_THROTTLING),
        "post": _op("throttling_set_post", "The same as PUT", body=_THROTTLING),
    },
    "/_kv/journal": {
        "get": _op("journal", "Every request: operation, status, attempt, ..."),
        "delete": _op("journal_clear", "Forget the journal"),
    },
    "/_kv/journal/calls": {
        "get": _op(
            "journal_calls",
            "Requests grouped by client request id",
            query={"operation": "only this operation (GetSecret, ...)"},
        )
    },
    "/_kv/audit": {"get": _op("audit", "Key Vault AuditEvents as JSON lines", content="application/x-ndjson")},
    "/_kv/identity/principals": {
        "get": _op("principals", "The registered service principals"),
        "post": _op("principal_add", "Register a service principal", body=_PRINCIPAL),
    },
    "/_kv/identity/principals/{client_id}": {
        "parameters": [_path_parameter("client_id")],
        "delete": _op("principal_remove", "Forget a service principal"),
    },
    "/_kv/identity/managed-identities": {
        "get": _op("managed_identities", "The registered managed identities"),
        "post": _op("managed_identity_add", "Register a managed identity", body=_MANAGED_IDENTITY),
    },
    "/_kv/identity/managed-identities/{client_id}": {
        "parameters": [_path_parameter("client_id")],
        "delete": _op("managed_identity_remove", "Forget a managed identity"),
    },
    "/_kv/identity/roles": {
        "get": _op("roles", "Role assignments of every vault", query=_VAULT_QUERY),
        "post": _op("role_assign", "Assign a built-in role", body=_ROLE),
    },
    "/_kv/identity/roles/{assignment_id}": {
        "parameters": [_path_parameter("assignment_id")],
        "delete": _op("role_revoke", "Remove a role assignment"),
    },
    "/_kv/identity/access-policies": {
        "get": _op("access_policies", "Access policies of every vault", query=_VAULT_QUERY),
        "post": _op("access_policy_set", "Set (replace) a principal's access policy", body=_POLICY),
    },
    "/_kv/identity/access-policies/{principal}": {
        "parameters": [_path_parameter("principal")],
        "delete": _op(
            "access_policy_remove",
            "Remove a principal's access policy",
            query={"vault": "the vault (default: the default vault)"},
        ),
    },
    "/_kv/events": {
        "get": _op("events", "Every published event, and the subscriptions with counts"),
        "delete": _op("events_clear", "Forget subscriptions and published events"),
    },
    "/_kv/events/subscriptions": {
        "get": _op("events_subscriptions", "The subscriptions, with counts"),
        "post": _op("events_subscribe", "Subscribe a webhook", body=_SUBSCRIPTION, status=201),
    },
    "/_kv/events/subscriptions/{name}": {
        "parameters": [_path_parameter("name")],
        "get": _op("events_subscription", "One subscription: what it received, dead letters, errors"),
        "delete": _op("events_unsubscribe", "Remove a subscription"),
    },
    "/_kv/state": {
        "get": _op(
            "state",
            "The vaults in the seed-file format, or with full=true the whole state (docs/state.md)",
            query={"full": "true: the whole lossless state document instead of the seed-shaped vaults"},
        ),
        "put": _op(
            "state_put",
            "Replace the vaults with a seed document (and set the clock if it has one), or the whole state with a "
            "state document",
            body=_STATE,
        ),
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "kv-emulator management API",
        "version": "1",
        "description": "The emulator's test controls over HTTP (docs/server.md). JSON in, JSON out. A request "
        "body with an unknown field or a wrong value is refused with 400 naming it. With a non-loopback --host "
        "every route but /_kv/health needs Authorization: Bearer <--admin-token>. The web view under /_kv/ui/ "
        "(HTML for a browser, docs/ui.md) is not part of this API and not described here.",
    },
    "paths": _PATHS,
}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of the document."""
    return [
        (path, method, spec) for path, item in _PATHS.items() for method, spec in item.items() if method != "parameters"
    ]
