"""The ``/_kv/`` management API is strict and complete (issue 21, item 3).

Every body is checked against the OpenAPI document the API serves at ``/_kv/openapi.json``: an unknown
field or a wrong value is a 400 that names it in plain words (no Python exception names), every collection
that can be added to can be listed and emptied again, and ``PUT /_kv/state`` changes the clock only when
the state has one. These are the emulator's own controls (no Azure counterpart): the expected texts are
the emulator's, written here. The app is called through its WSGI interface (what both ports serve);
``tests/server/test_server_management.py`` covers the same routes over real sockets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

import kv_emulator
from kv_emulator.server import Server, ServerOptions
from kv_emulator.server.management import _RULES, ControlApi
from kv_emulator.server.management_spec import DOCUMENT, operations

INTERNALS = re.compile(r"\b\w+Error\b|Traceback|__\w+__|\bkwargs?\b|unexpected keyword|isoformat")


def internals(message: str) -> bool:
    """Python's words in a message, outside what it quotes back from the request."""
    return bool(INTERNALS.search(re.sub(r"'[^']*'|\"[^\"]*\"", "", message)))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Server]:
    server = Server(kv_emulator.Emulator(), ServerOptions(data_dir=tmp_path, ephemeral=True, port=0, proxy_port=0))
    yield server


def call(server: Server, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    client = Client(server.management)
    data = json.dumps(body) if body is not None else kwargs.pop("data", None)
    answer = client.open(f"/_kv/{path}", method=method, data=data, content_type="application/json", **kwargs)
    text = answer.get_data(as_text=True)
    return answer.status_code, json.loads(text) if text and answer.mimetype == "application/json" else text


def refused(server: Server, method: str, path: str, body: Any = None, **kwargs: Any) -> str:
    status, answer = call(server, method, path, body, **kwargs)
    assert status == 400, (status, answer)
    message = str(answer["error"]["message"])
    assert answer["error"]["code"] == "BadRequest"
    assert not internals(message), f"Python internals in {message!r}"
    return message


# -- the cases the issue found ----------------------------------------------------------------------


def test_a_misspelled_clock_field_is_refused_and_the_clock_stays(app: Server) -> None:
    before = app.emulator.clock.time()
    message = refused(app, "POST", "clock/advance", {"day": 8})
    assert "unknown field 'day'" in message and "days" in message and "seconds" in message
    assert "at least one of: days, seconds" in refused(app, "POST", "clock/advance", {})
    assert "at least one of" in refused(app, "POST", "clock/advance")  # no body at all
    assert "'days' must be a number" in refused(app, "POST", "clock/advance", {"days": "8"})
    assert "'seconds' must be at least 0" in refused(app, "POST", "clock/advance", {"seconds": -1})
    assert app.emulator.clock.time() - before < 60
    assert call(app, "POST", "clock/advance", {"days": 8})[0] == 200
    assert app.emulator.clock.time() - before >= 8 * 86400


def test_a_time_that_is_not_a_date_is_named_not_parsed_in_python_words(app: Server) -> None:
    message = refused(app, "POST", "clock/freeze", {"at": "tomorrow"})
    assert "'at'" in message and "'tomorrow' is not a date and time such as 2030-01-01T00:00:00Z" in message
    assert "between 1970 and the year 9000" in refused(app, "POST", "clock/freeze", {"at": "9999-01-01T00:00:00Z"})
    assert "cannot move past the year 9000" in refused(app, "POST", "clock/advance", {"days": 2_999_999})
    status, frozen = call(app, "POST", "clock/freeze", {"at": "2030-01-01T00:00:00Z"})
    assert status == 200 and frozen["now"].startswith("2030-01-01T00:00:00")


def test_a_principal_with_a_misspelled_client_id_is_refused(app: Server) -> None:
    message = refused(app, "POST", "identity/principals", {"clientid": "app-1", "secret": "s"})
    assert "unknown field 'clientid'" in message and "client_id" in message
    assert app.emulator.identity.principals() == []


def test_a_fault_with_an_impossible_status_or_an_unknown_option_is_refused(app: Server) -> None:
    message = refused(app, "POST", "faults", {"status": 999})
    assert "'status' must be an HTTP status from 400 to 599, 'connection_error' or 'timeout'" in message
    assert message.endswith("got 999")
    assert "unknown field 'time'" in refused(app, "POST", "faults", {"status": 503, "time": 2})
    assert "'times' must be at least 1" in refused(app, "POST", "faults", {"times": 0})
    assert "unknown operation 'GetSecrte'" in refused(app, "POST", "faults", {"operation": "GetSecrte"})
    assert "'probability' must be between 0 and 1" in refused(app, "POST", "faults", {"probability": 2})
    assert "HTTP cannot carry" in refused(app, "POST", "faults", {"headers": {"Bad Name": "x"}})
    assert "'steps[1]' must be" in refused(app, "POST", "faults/script", {"operation": "GetSecret", "steps": [503, 42]})
    assert len(app.emulator.faults) == 0


def test_every_body_shape_error_is_plain(app: Server) -> None:
    assert refused(app, "POST", "clock/advance", data="{") == "the body is not JSON"
    assert "must be a JSON object" in refused(app, "POST", "faults", [503])
    assert "takes no body" in refused(app, "POST", "reset", {"everything": True})
    assert "the body is not JSON" in refused(app, "PUT", "throttling", data="[" * 100_000)
    assert "'limits.secret-create' must be a whole number" in refused(
        app, "PUT", "throttling", {"limits": {"secret-create": "3"}}
    )
    assert "unknown throttle_limits class(es): nope" in refused(app, "PUT", "throttling", {"limits": {"nope": 3}})
    assert "'role' must be one of" in refused(app, "POST", "identity/roles", {"role": "Owner", "principal": "x"})
    bad_vault = {"role": "Key Vault Reader", "principal": "x", "vault": "bad name!"}
    assert "'vault' must be a vault name (3-24 letters" in refused(app, "POST", "identity/roles", bad_vault)
    assert app.emulator.vaults == []  # nothing was made on the way
    status, answer = call(app, "DELETE", "clock")
    assert status == 405 and answer["error"]["message"] == "/_kv/clock does not take DELETE; it takes GET"


# -- list and remove what can be added --------------------------------------------------------------


def test_principals_and_managed_identities_are_listed_and_removed(app: Server) -> None:
    assert call(app, "POST", "identity/principals", {"client_id": "app-1", "secret": "s3"})[0] == 200
    assert call(app, "POST", "identity/managed-identities", {"client_id": "mi-1"})[0] == 200
    status, principals = call(app, "GET", "identity/principals")
    assert status == 200 and [p["client_id"] for p in principals] == ["app-1"]
    assert principals[0]["secret"] is True and "s3" not in json.dumps(principals)  # never the secret itself
    assert [m["client_id"] for m in call(app, "GET", "identity/managed-identities")[1]] == ["mi-1"]
    status, missing = call(app, "DELETE", "identity/principals/mi-1")  # a managed identity, not a principal
    assert status == 404 and "no service principal with client id 'mi-1'" in missing["error"]["message"]
    assert call(app, "DELETE", "identity/principals/APP-1")[0] == 200
    assert call(app, "DELETE", "identity/managed-identities/mi-1")[0] == 200
    assert call(app, "GET", "identity/principals")[1] == []
    assert app.emulator.identity.open  # nobody registered: every client gets a token again


def test_role_assignments_are_listed_and_revoked(app: Server) -> None:
    principal = call(app, "POST", "identity/principals", {"client_id": "app-1"})[1]
    status, role = call(app, "POST", "identity/roles", {"role": "Key Vault Secrets User", "principal": "app-1"})
    assert status == 200 and role["principal_id"] == principal["object_id"]  # the client id, resolved
    call(app, "POST", "identity/roles", {"role": "Key Vault Reader", "principal": "p2", "vault": "other"})
    assert len(call(app, "GET", "identity/roles")[1]) == 2
    assert [r["vault"] for r in call(app, "GET", "identity/roles", query_string={"vault": "other"})[1]] == ["other"]
    assert call(app, "GET", "identity/roles", query_string={"vault": "nowhere"})[0] == 404
    assert call(app, "DELETE", f"identity/roles/{role['id']}")[0] == 200
    assert [r["principal_id"] for r in call(app, "GET", "identity/roles")[1]] == ["p2"]
    assert call(app, "DELETE", f"identity/roles/{role['id']}")[0] == 404


def test_access_policies_are_listed_and_removed(app: Server) -> None:
    body = {"principal": "3f2c9a4e-0000-4000-8000-000000000001", "secrets": ["get", "list"]}
    status, policy = call(app, "POST", "identity/access-policies", body)
    assert status == 200 and policy["secrets"] == ["get", "list"] and policy["vault"] == "kv-emulator"
    listed = call(app, "GET", "identity/access-policies")[1]
    assert [(p["object_id"], p["secrets"]) for p in listed] == [(body["principal"], ["get", "list"])]
    assert call(app, "DELETE", f"identity/access-policies/{body['principal']}")[0] == 200
    assert call(app, "GET", "identity/access-policies")[1] == []
    assert call(app, "DELETE", f"identity/access-policies/{body['principal']}")[0] == 404


def test_event_subscriptions_are_listed(app: Server) -> None:
    assert call(app, "GET", "events/subscriptions") == (200, [])
    assert "missing field 'endpoint'" in refused(app, "POST", "events/subscriptions", {"name": "x"})


# -- state and the clock ----------------------------------------------------------------------------


def test_putting_a_state_without_a_clock_keeps_the_clock(app: Server) -> None:
    app.emulator.vault().secrets.set("kept", "v1")
    state = call(app, "GET", "state")[1]
    call(app, "POST", "clock/freeze", {"at": "2031-05-01T00:00:00Z"})
    assert call(app, "PUT", "state", state)[0] == 200
    assert app.emulator.clock.frozen and app.emulator.clock.now().isoformat().startswith("2031-05-01T00:00:00")
    call(app, "POST", "clock/unfreeze")
    call(app, "POST", "clock/advance", {"days": 3})
    ahead = app.emulator.clock.time()
    assert call(app, "PUT", "state", state)[0] == 200
    assert not app.emulator.clock.frozen and abs(app.emulator.clock.time() - ahead) < 5  # a running clock runs on
    assert app.emulator.vault().secrets.get("kept").payload.value == "v1"


def test_putting_a_state_with_a_clock_sets_it(app: Server) -> None:
    state = {**call(app, "GET", "state")[1], "clock": {"now": "2032-02-02T00:00:00Z", "frozen": True}}
    assert call(app, "PUT", "state", state)[0] == 200
    assert app.emulator.clock.frozen and app.emulator.clock.now().year == 2032
    clock = call(app, "GET", "clock")[1]  # what GET /_kv/clock says can be put back as it is
    assert call(app, "PUT", "state", {"version": 1, "vaults": {}, "clock": clock})[0] == 200
    assert "unknown field 'clocks'" in refused(app, "PUT", "state", {"clocks": {}})
    assert "missing field 'clock.now'" in refused(app, "PUT", "state", {"clock": {"frozen": True}})


# -- the document -----------------------------------------------------------------------------------


def test_the_document_is_served(app: Server) -> None:
    status, document = call(app, "GET", "openapi.json")
    assert status == 200 and document["openapi"].startswith("3.") and document == json.loads(json.dumps(DOCUMENT))


def test_every_served_route_is_in_the_document_and_the_other_way_round(app: Server) -> None:
    """The werkzeug routes, the handler methods and the document's operations are the same set."""
    served = {
        (re.sub(r"<(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in _RULES.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, method, _ in operations()}
    assert served == documented
    handlers = {name[1:] for name in dir(ControlApi) if name.startswith("_") and not name.startswith("__")}
    route_like = {name for name in handlers if callable(getattr(ControlApi, f"_{name}"))}
    operation_ids = {spec["operationId"] for _, _, spec in operations()}
    assert operation_ids <= route_like
    helpers = {"authorize", "body", "error", "instant", "check_headers", "clock_state", "restore_clock", "set_clock"}
    helpers |= {"remove", "object_id", "vaults", "subscription"}
    assert route_like - operation_ids == helpers  # a new route method must be documented to be served
    for path, method, _ in operations():  # each documented route answers: not a routing 404 or 405
        concrete = re.sub(r"\{\w+\}", "x", path)
        status, _answer = call(app, method.upper(), concrete.removeprefix("/_kv/"), data="{")
        assert status not in (405, 500), (method, path, status)


# -- fuzzing from the document ----------------------------------------------------------------------

try:
    import schemathesis
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - schemathesis is in the dev extra
    schemathesis = None

if schemathesis is not None:
    import os
    import tempfile

    FUZZ_SERVER = Server(
        kv_emulator.Emulator(), ServerOptions(data_dir=Path(tempfile.mkdtemp()), ephemeral=True, port=0, proxy_port=0)
    )
    SCHEMA = schemathesis.openapi.from_dict(json.loads(json.dumps(DOCUMENT)))
    SCHEMA.app = FUZZ_SERVER.management
    # Valid bodies and invalid ones (wrong types, unknown fields, out of range): both must be answered.
    SCHEMA.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
    # Subscribing makes the server call the endpoint for the validation handshake: not a thing to fuzz.
    FUZZED = SCHEMA.exclude(operation_id="events_subscribe")
    EXAMPLES = int(os.environ.get("KV_EMULATOR_FUZZ_EXAMPLES", "6"))

    @FUZZED.parametrize()
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def test_management_api_fuzz(case: Any) -> None:
        """Generated requests for every operation: never a 5xx, every error in the /_kv/ shape, no internals."""
        response = case.call(base_url="http://127.0.0.1")
        where = f"{case.method} {case.formatted_path} {case.body!r:.300} -> {response.status_code}"
        assert response.status_code < 500, f"{where}: {response.text[:500]}"
        declared = case.operation.definition.raw["responses"]
        assert str(response.status_code) in declared or response.status_code == 405, where
        if response.status_code >= 400:
            error = json.loads(response.text)["error"]
            assert isinstance(error["code"], str) and isinstance(error["message"], str), where
            assert not internals(error["message"]), f"{where}: {error['message']}"
