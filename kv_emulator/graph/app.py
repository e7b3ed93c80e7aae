"""The small part of Microsoft Graph (``https://graph.microsoft.com``) that the Azure CLI and the SDKs call
to name the emulated directory's principals: the signed-in user (``/me``), users, service principals by id
or ``$filter``, and ``directoryObjects/getByIds``. Read-only; shapes and errors as Graph v1.0 sends them.
See docs/identity.md ("Microsoft Graph: what is emulated").
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from ..hosts import GRAPH_HOSTS
from ..identity.directory import Directory
from .auth import authenticate
from .errors import GraphError, not_found
from .objects import DirectoryObject, FilterError, GraphView, is_guid, parse_filter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["GraphApp", "is_graph_url"]

_VERSION = '<any("v1.0", "beta"):version>'
_ROUTES = Map(
    [
        Rule(f"/{_VERSION}/me", methods=["GET"], endpoint="GetSignedInUser"),
        Rule(f"/{_VERSION}/users", methods=["GET"], endpoint="ListUsers"),
        Rule(f"/{_VERSION}/users/<key>", methods=["GET"], endpoint="GetUser"),
        Rule(f"/{_VERSION}/servicePrincipals", methods=["GET"], endpoint="ListServicePrincipals"),
        Rule(f"/{_VERSION}/servicePrincipals/<key>", methods=["GET"], endpoint="GetServicePrincipal"),
        Rule(f"/{_VERSION}/directoryObjects/getByIds", methods=["POST"], endpoint="GetDirectoryObjectsByIds"),
        Rule(f"/{_VERSION}/directoryObjects/<key>", methods=["GET"], endpoint="GetDirectoryObject"),
    ],
    strict_slashes=False,
)
_HANDLERS = {
    "GetSignedInUser": "_get_me",
    "ListUsers": "_list_users",
    "GetUser": "_get_user",
    "ListServicePrincipals": "_list_service_principals",
    "GetServicePrincipal": "_get_service_principal",
    "GetDirectoryObjectsByIds": "_get_by_ids",
    "GetDirectoryObject": "_get_directory_object",
}
_TYPES = {"user": "user", "serviceprincipal": "servicePrincipal"}
_ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
_MAX_IDS = 1000  # "You can specify up to 1000 IDs." (learn.microsoft.com, directoryobject-getbyids)


@dataclasses.dataclass(frozen=True)
class _Ask:
    """One authenticated request, as the operation methods read it."""

    request: Request
    claims: dict[str, Any]
    key: str  # the {id} segment, when the route has one
    context: str  # "https://graph.microsoft.com/v1.0/$metadata#"
    select: list[str]


def is_graph_url(url: str) -> bool:
    """Microsoft Graph of any cloud, over https on the default port."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").lower() in GRAPH_HOSTS and parts.port in (None, 443)


class GraphApp:
    """WSGI application answering Graph from the emulated directory; ``strict`` says whether tokens must be
    the directory's own (``strict_auth``), ``record`` takes a journal entry's fields once per request."""

    def __init__(
        self,
        directory: Directory,
        *,
        strict: Callable[[], bool] = lambda: False,
        record: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.directory = directory
        self.view = GraphView(directory)
        self.strict = strict
        self.record = record

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        host = request.headers.get("Host") or request.host
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or request_id
        entry: dict[str, Any] = {
            "method": request.method,
            "url": f"{request.scheme}://{host}{request.full_path.rstrip('?')}",
            "vault": host,
            "client_request_id": request.headers.get("client-request-id"),
            "request_id": request_id,
            "time": self.directory.clock.time(),
        }
        started = time.perf_counter()
        headers: list[tuple[str, str]] = []
        try:
            body = self._dispatch(request, entry, f"{request.scheme}://{host}")
            status = 200
            content_type = (
                "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
            )
        except GraphError as exc:
            status, headers = exc.status, exc.headers
            body = exc.body(self._date(), request_id, client_request_id)
            content_type = "application/json"
            entry["error_code"] = exc.code
        except Exception as exc:  # a bug of ours: Graph's 500 shape, the traceback kept for the test to read
            status, content_type = 500, "application/json"
            message = (
                f"kv-emulator failed on {entry.get('operation') or 'a Graph request'}: {type(exc).__name__}: {exc}"
            )
            body = GraphError(500, "InternalServerError", message).body(self._date(), request_id, client_request_id)
            entry["error_code"] = "InternalServerError"
            entry["exception"] = traceback.format_exc()
        payload = json.dumps(body, separators=(",", ":")).encode()
        headers = [
            ("Content-Type", content_type),
            ("request-id", request_id),
            ("client-request-id", client_request_id),
            ("OData-Version", "4.0"),
            ("Strict-Transport-Security", "max-age=31536000"),
            *headers,
            ("Content-Length", str(len(payload))),
        ]
        entry["status"] = status
        entry["duration"] = time.perf_counter() - started
        if self.record is not None:
            self.record(entry)
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}", headers)
        return [payload]

    def _date(self) -> str:
        """``innerError.date``: UTC, to the second, without a zone (as Graph writes it)."""
        moment = datetime.datetime.fromtimestamp(self.directory.clock.time(), datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%S")

    def _dispatch(self, request: Request, entry: dict[str, Any], base: str) -> dict[str, Any]:
        try:
            operation, arguments = _ROUTES.bind("graph").match(request.path, method=request.method)
            entry["operation"] = operation
        except HTTPException:
            operation, arguments = "", {}
        claims = authenticate(  # before a 501, as the vault challenges before it routes (unverified for Graph)
            request.headers.get("Authorization"),
            self.directory,
            strict=self.strict(),
            now=self.directory.clock.time(),
        )
        entry["caller"] = {k: claims[k] for k in ("oid", "appid", "tid", "upn") if k in claims} or None
        entry["authorized"] = True
        if not operation:
            raise GraphError(
                501,
                "NotImplemented",
                f"kv-emulator does not emulate Microsoft Graph's {request.method} {request.path}; "
                "see docs/identity.md for the part it answers.",
            )
        ask = _Ask(
            request,
            claims,
            arguments.get("key", ""),
            f"{base}/{arguments['version']}/$metadata#",
            [p.strip() for p in request.args.get("$select", "").split(",") if p.strip()],
        )
        handler: Callable[[_Ask], dict[str, Any]] = getattr(self, _HANDLERS[operation])
        return handler(ask)

    # -- one method per operation ------------------------------------------------------------------

    def _get_me(self, ask: _Ask) -> dict[str, Any]:
        return _entity(ask.context, "users", self._me(ask.claims), ask.select)

    def _get_user(self, ask: _Ask) -> dict[str, Any]:
        return _entity(ask.context, "users", self.view.user(ask.key) or _raise(not_found(ask.key)), ask.select)

    def _get_service_principal(self, ask: _Ask) -> dict[str, Any]:
        found = self.view.by_id(ask.key)
        if found is None or found.kind != "servicePrincipal":
            raise not_found(ask.key)
        return _entity(ask.context, "servicePrincipals", found, ask.select)

    def _get_directory_object(self, ask: _Ask) -> dict[str, Any]:
        found = self.view.by_id(ask.key) or _raise(not_found(ask.key))
        return _entity(ask.context, "directoryObjects", found, ask.select, typed=True)

    def _get_by_ids(self, ask: _Ask) -> dict[str, Any]:
        return _collection(ask.context, "directoryObjects", self._by_ids(ask.request), [], typed=True)

    def _list_users(self, ask: _Ask) -> dict[str, Any]:
        return _collection(ask.context, "users", self._listed("user", ask.request), ask.select)

    def _list_service_principals(self, ask: _Ask) -> dict[str, Any]:
        return _collection(ask.context, "servicePrincipals", self._listed("servicePrincipal", ask.request), ask.select)

    def _listed(self, kind: str, request: Request) -> list[DirectoryObject]:
        try:
            clauses = parse_filter(request.args.get("$filter"), kind)
        except FilterError as exc:
            raise GraphError(400, exc.code, exc.message) from None
        return self.view.listed(kind, clauses)

    def _me(self, claims: dict[str, Any]) -> DirectoryObject:
        """The user a delegated token names; an app's token has no user (seen: msgraph-sdk-php#1163, 2023)."""
        if claims.get("idtyp") == "app" or "scp" not in claims:
            raise GraphError(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
        oid = str(claims.get("oid", ""))
        found = self.view.by_id(oid)
        if found is not None and found.kind == "user":
            return found
        upn = str(claims.get("upn") or claims.get("unique_name") or "")
        if not upn:
            raise not_found(oid)
        return DirectoryObject(oid, "user", str(claims.get("name") or upn), user_principal_name=upn)

    def _by_ids(self, request: Request) -> list[DirectoryObject]:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise GraphError(
                400,
                "BadRequest",
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
                "valid JSON format.",  # unverified
            )
        ids, types = body.get("ids"), body.get("types")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise GraphError(400, "Request_BadRequest", "The 'ids' parameter must list at least one id.")  # unverified
        if len(ids) > _MAX_IDS:
            raise GraphError(400, "Request_BadRequest", f"Too many ids: at most {_MAX_IDS} are allowed.")  # unverified
        for object_id in ids:
            if not is_guid(object_id):
                raise GraphError(400, "Request_BadRequest", f"Invalid object identifier '{object_id}'.")  # unverified
        wanted = None
        if isinstance(types, list) and types:
            lowered = {str(t).lower() for t in types}
            wanted = None if "directoryobject" in lowered else {_TYPES.get(t, t) for t in lowered}
        found = [self.view.by_id(object_id) for object_id in ids]
        return [o for o in found if o is not None and (wanted is None or o.kind in wanted)]


def _raise(error: GraphError) -> DirectoryObject:
    raise error


def _shape(obj: DirectoryObject, select: list[str], typed: bool) -> dict[str, Any]:
    wire = obj.to_wire()
    if select:
        wire = {name: wire.get(name) for name in select}
    return {"@odata.type": obj.odata_type, **wire} if typed else wire


def _selection(select: list[str]) -> str:
    return f"({','.join(select)})" if select else ""


def _entity(
    context: str, entity_set: str, obj: DirectoryObject, select: list[str], *, typed: bool = False
) -> dict[str, Any]:
    return {"@odata.context": f"{context}{entity_set}{_selection(select)}/$entity", **_shape(obj, select, typed)}


def _collection(
    context: str, entity_set: str, objects: list[DirectoryObject], select: list[str], *, typed: bool = False
) -> dict[str, Any]:
    return {
        "@odata.context": f"{context}{entity_set}{_selection(select)}",
        "value": [_shape(o, select, typed) for o in objects],
    }
