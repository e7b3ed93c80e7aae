"""Microsoft Graph, the part the Azure CLI and the SDKs call to name principals (kv_emulator.graph): shapes,
statuses and error bodies over raw HTTP, then the same answers through ``requests`` in-process and through
the server's proxy.

Evidence for the shapes: learn.microsoft.com's directoryobject-getbyids page (its example response:
``@odata.context`` ``…/$metadata#directoryObjects``, items with ``@odata.type``), and Graph's answers quoted
in public issues (cited beside each text). What the Azure CLI sends and reads: azure-cli 2.91's
``role/_msgrpah/_graph_client.py``, ``role/custom.py`` and ``role/util.py``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

import jwt
import pytest
import requests
from werkzeug.test import Client

import kv_emulator
from kv_emulator import Emulator
from kv_emulator.guard import refusal

GRAPH = "https://graph.microsoft.com"
APP_ID = "6c1f0e3a-2b4d-4e8f-9a0b-1c2d3e4f5a6b"
UNKNOWN = "00000000-0000-0000-0000-0000000000aa"
NOT_FOUND = "Resource '{}' does not exist or one of its queried reference-property objects are not present."


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emulator = Emulator()
    yield emulator


def _token(emulator: Emulator, client_id: str = APP_ID, resource: str = GRAPH) -> str:
    principal = emulator.identity.principal(client_id, emulator.settings.tenant_id)
    assert principal is not None
    return emulator.identity.issue(principal, resource)[0]


def _user_token(emulator: Emulator) -> str:
    """A delegated token for the fake ``az``'s user (unsigned by the directory: fine outside strict auth)."""
    upn, oid = emulator.identity.signed_in_user
    claims = {"aud": GRAPH, "oid": oid, "upn": upn, "scp": "User.Read", "idtyp": "user", "tid": "t"}
    return jwt.encode(claims, "a key that is not the directory signing key", algorithm="HS256")


def _call(emulator: Emulator, method: str, path: str, token: str | None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return Client(emulator.graph).open(path, method=method, base_url=GRAPH, headers=headers, **kwargs)


def _graph_error(response, status: int, code: str, message: str) -> None:
    """Graph's error shape: error.code, error.message, error.innerError {date, request-id, client-request-id}
    (seen: DanielChronlund/DCToolbox#6, 2020; microsoftgraph/msgraph-sample-reactspa#54, 2020)."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "innerError"}, body
    assert (body["error"]["code"], body["error"]["message"]) == (code, message)
    inner = body["error"]["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    datetime.datetime.strptime(inner["date"], "%Y-%m-%dT%H:%M:%S")  # no zone, to the second
    assert inner["request-id"] == response.headers["request-id"]


# -- directoryObjects/getByIds ---------------------------------------------------------------------


def test_get_by_ids_names_users_and_service_principals_and_skips_unknown_ids(emulator: Emulator) -> None:
    """The CLI's ``az role assignment list`` posts {"ids", "types"} and reads ``@odata.type``,
    ``userPrincipalName`` / ``servicePrincipalNames[0]`` of each item; an id nobody has is simply absent."""
    app = emulator.identity.add_service_principal(APP_ID, secret="s", display_name="billing-app")
    upn, user_id = emulator.identity.signed_in_user
    body = {"ids": [app.object_id, user_id, UNKNOWN], "types": ["user", "group", "servicePrincipal"]}
    response = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", _token(emulator), json=body)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    payload = response.get_json()
    assert payload["@odata.context"] == f"{GRAPH}/v1.0/$metadata#directoryObjects"
    [sp, user] = payload["value"]
    assert sp["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert (sp["id"], sp["appId"], sp["displayName"]) == (app.object_id, APP_ID, "billing-app")
    assert sp["servicePrincipalNames"] == [APP_ID] and sp["servicePrincipalType"] == "Application"
    assert user["@odata.type"] == "#microsoft.graph.user"
    assert (user["id"], user["userPrincipalName"]) == (user_id, upn)


def test_get_by_ids_filters_by_type_case_insensitively(emulator: Emulator) -> None:
    """ "The values are not case-sensitive." (learn.microsoft.com, directoryobject-getbyids)"""
    app = emulator.identity.add_service_principal(APP_ID, secret="s")
    _, user_id = emulator.identity.signed_in_user
    body = {"ids": [app.object_id, user_id], "types": ["USER"]}
    response = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", _token(emulator), json=body)
    assert [o["id"] for o in response.get_json()["value"]] == [user_id]


def test_get_by_ids_refuses_a_body_that_is_not_json_and_ids_that_are_not_guids(emulator: Emulator) -> None:
    token = _token(emulator)
    response = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", token, data=b"{not json")
    _graph_error(
        response,
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid "
        "JSON format.",
    )
    response = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", token, json={"ids": ["cli-app"]})
    _graph_error(response, 400, "Request_BadRequest", "Invalid object identifier 'cli-app'.")
    response = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", token, json={"types": ["user"]})
    _graph_error(response, 400, "Request_BadRequest", "The 'ids' parameter must list at least one id.")


# -- service principals, users, /me ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        f"appId eq '{APP_ID}'",
        f"servicePrincipalNames/any(c:c eq '{APP_ID}')",  # what az sends for --assignee and --spn
        "displayName eq 'Billing-App'",
        "startswith(displayName,'bill')",
        f"displayName eq 'billing-app' and appId eq '{APP_ID}'",
    ],
)
def test_service_principals_by_filter(emulator: Emulator, query: str) -> None:
    app = emulator.identity.add_service_principal(APP_ID, secret="s", display_name="billing-app")
    emulator.identity.add_service_principal(secret="other", display_name="other-app")
    response = _call(emulator, "GET", "/v1.0/servicePrincipals", _token(emulator), query_string={"$filter": query})
    assert response.status_code == 200
    payload = response.get_json()
    assert payload["@odata.context"] == f"{GRAPH}/v1.0/$metadata#servicePrincipals"
    assert [(o["id"], o["appId"]) for o in payload["value"]] == [(app.object_id, APP_ID)]
    assert "@odata.type" not in payload["value"][0]  # a typed collection: items carry no type annotation


def test_no_match_is_an_empty_list_not_an_error(emulator: Emulator) -> None:
    emulator.identity.add_service_principal(APP_ID, secret="s")
    query = {"$filter": "servicePrincipalNames/any(c:c eq 'nobody@example.com')"}
    response = _call(emulator, "GET", "/v1.0/servicePrincipals", _token(emulator), query_string=query)
    assert response.status_code == 200 and response.get_json()["value"] == []


def test_an_open_directory_knows_any_app_id_and_names_it_afterwards(emulator: Emulator) -> None:
    """Open directory: Entra ID would give any app a token, so Graph finds any app id (a GUID) as well,
    with the object id its tokens carry, and getByIds names that object later (az role assignment list)."""
    assert emulator.identity.open
    token = _token(emulator, "the-test-runner")
    query = {"$filter": f"servicePrincipalNames/any(c:c eq '{APP_ID}')"}
    [found] = _call(emulator, "GET", "/v1.0/servicePrincipals", token, query_string=query).get_json()["value"]
    assert found["id"] == emulator.identity.object_id_for(emulator.settings.tenant_id, APP_ID)
    body = {"ids": [found["id"]], "types": ["servicePrincipal"]}
    named = _call(emulator, "POST", "/v1.0/directoryObjects/getByIds", token, json=body).get_json()["value"]
    assert [o["appId"] for o in named] == [APP_ID]
    query = {"$filter": "servicePrincipalNames/any(c:c eq 'someone@example.com')"}  # not an app id
    assert _call(emulator, "GET", "/v1.0/servicePrincipals", token, query_string=query).get_json()["value"] == []


def test_service_principal_and_directory_object_by_id(emulator: Emulator) -> None:
    app = emulator.identity.add_managed_identity(APP_ID)
    token = _token(emulator, APP_ID)
    got = _call(emulator, "GET", f"/v1.0/servicePrincipals/{app.object_id}", token).get_json()
    assert got["@odata.context"] == f"{GRAPH}/v1.0/$metadata#servicePrincipals/$entity"
    assert (got["id"], got["appId"], got["servicePrincipalType"]) == (app.object_id, APP_ID, "ManagedIdentity")
    got = _call(emulator, "GET", f"/v1.0/directoryObjects/{app.object_id}", token).get_json()
    assert got["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert got["@odata.context"] == f"{GRAPH}/v1.0/$metadata#directoryObjects/$entity"


@pytest.mark.parametrize(
    "path", [f"/v1.0/servicePrincipals/{UNKNOWN}", f"/v1.0/users/{UNKNOWN}", f"/beta/directoryObjects/{UNKNOWN}"]
)
def test_unknown_id_is_request_resource_not_found(emulator: Emulator, path: str) -> None:
    """404 Request_ResourceNotFound "Resource '<id>' does not exist or one of its queried reference-property
    objects are not present." (seen: DanielChronlund/DCToolbox#6, 2020; microsoft-graph-docs#6059, 2019)."""
    _graph_error(
        _call(emulator, "GET", path, _token(emulator)), 404, "Request_ResourceNotFound", NOT_FOUND.format(UNKNOWN)
    )


def test_users_by_object_id_upn_and_filter(emulator: Emulator) -> None:
    upn, user_id = emulator.identity.signed_in_user
    token = _token(emulator)
    for key in (user_id, upn, upn.upper()):
        got = _call(emulator, "GET", f"/v1.0/users/{key}", token).get_json()
        assert got["@odata.context"] == f"{GRAPH}/v1.0/$metadata#users/$entity"
        assert (got["id"], got["userPrincipalName"]) == (user_id, upn)
    query = {"$filter": f"userPrincipalName eq '{upn}'"}  # az's --assignee <upn> and --upn
    listed = _call(emulator, "GET", "/v1.0/users", token, query_string=query).get_json()
    assert listed["@odata.context"] == f"{GRAPH}/v1.0/$metadata#users"
    assert [u["id"] for u in listed["value"]] == [user_id]


def test_me_is_the_signed_in_user_of_a_delegated_token(emulator: Emulator) -> None:
    upn, user_id = emulator.identity.signed_in_user
    got = _call(emulator, "GET", "/v1.0/me", _user_token(emulator)).get_json()
    assert got["@odata.context"] == f"{GRAPH}/v1.0/$metadata#users/$entity"
    assert (got["id"], got["userPrincipalName"]) == (user_id, upn)
    got = _call(emulator, "GET", "/v1.0/me", _user_token(emulator), query_string={"$select": "id"}).get_json()
    assert got == {"@odata.context": f"{GRAPH}/v1.0/$metadata#users(id)/$entity", "id": user_id}


def test_me_with_an_app_token_is_400(emulator: Emulator) -> None:
    """An app (client credentials) token has no user: 400 BadRequest "/me request is only valid with delegated
    authentication flow." (seen: microsoftgraph/msgraph-sdk-php#1163, 2023; quoted in azure-cli's role/util.py).
    The CLI logged in as a service principal relies on it to fall back to a servicePrincipals lookup."""
    response = _call(emulator, "GET", "/v1.0/me", _token(emulator))
    _graph_error(response, 400, "BadRequest", "/me request is only valid with delegated authentication flow.")


def test_an_unreadable_filter_is_400(emulator: Emulator) -> None:
    token = _token(emulator)
    query = {"$filter": "accountEnabled eq 'true'"}
    _graph_error(
        _call(emulator, "GET", "/v1.0/servicePrincipals", token, query_string=query),
        400,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause specified for property 'accountEnabled' of resource "
        "'ServicePrincipal'.",
    )
    query = {"$filter": "appId gt 5"}
    _graph_error(
        _call(emulator, "GET", "/v1.0/servicePrincipals", token, query_string=query),
        400,
        "BadRequest",
        "Invalid filter clause: appId gt 5",
    )


def test_what_is_not_emulated_is_a_loud_501(emulator: Emulator) -> None:
    response = _call(emulator, "GET", "/v1.0/applications", _token(emulator))
    _graph_error(
        response,
        501,
        "NotImplemented",
        "kv-emulator does not emulate Microsoft Graph's GET /v1.0/applications; see docs/identity.md for the "
        "part it answers.",
    )


# -- tokens ----------------------------------------------------------------------------------------


def test_a_missing_token_is_401_access_token_is_empty(emulator: Emulator) -> None:
    """401 InvalidAuthenticationToken "Access token is empty." (seen: msgraph-sample-reactspa#54, 2020)."""
    response = _call(emulator, "GET", "/v1.0/me", None)
    _graph_error(response, 401, "InvalidAuthenticationToken", "Access token is empty.")
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_token_for_another_audience_is_refused(emulator: Emulator) -> None:
    """A vault token sent to Graph: 401 "Access token validation failure. Invalid audience."
    (seen: microsoftgraph/microsoft-graph-docs#16208, 2022)."""
    vault_token = _token(emulator, resource="https://vault.azure.net")
    response = _call(emulator, "GET", f"/v1.0/users/{UNKNOWN}", vault_token)
    _graph_error(response, 401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")


def test_strict_auth_wants_the_directorys_own_unexpired_jwt() -> None:
    """Not a JWT: "CompactToken parsing failed with error code: 80049217" (seen: msgraph-training-dotnet#31,
    2021); an expired token's text is unverified."""
    with kv_emulator.emulate(strict_auth=True, virtual_time=True) as kv:
        response = _call(kv, "GET", "/v1.0/me", "opaque")
        _graph_error(
            response, 401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217"
        )
        response = _call(kv, "GET", "/v1.0/me", _user_token(kv))  # signed by someone else
        _graph_error(response, 401, "InvalidAuthenticationToken", "Access token validation failure.")
        token = _token(kv)
        assert _call(kv, "GET", f"/v1.0/users/{kv.identity.signed_in_user[0]}", token).status_code == 200
        kv.clock.advance(hours=2)
        response = _call(kv, "GET", f"/v1.0/users/{kv.identity.signed_in_user[0]}", token)
        _graph_error(response, 401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")


# -- doors -----------------------------------------------------------------------------------------


def test_in_process_through_requests_with_a_real_credential() -> None:
    """The SDK's way in: azure-identity gets a Graph token from the emulated Entra ID, ``requests`` sends it."""
    from azure.identity import ClientSecretCredential

    with kv_emulator.emulate() as kv:
        tenant = kv.settings.tenant_id
        token = ClientSecretCredential(tenant, APP_ID, "secret").get_token(f"{GRAPH}/.default").token
        assert jwt.decode(token, options={"verify_signature": False})["aud"] == GRAPH
        me = kv.identity.object_id_for(tenant, APP_ID)
        response = requests.post(
            f"{GRAPH}/v1.0/directoryObjects/getByIds",
            json={"ids": [me], "types": ["servicePrincipal"]},
            headers={"Authorization": f"Bearer {token}", "client-request-id": "abc"},
            timeout=10,
        )
        assert response.status_code == 200 and response.headers["client-request-id"] == "abc"
        assert [o["appId"] for o in response.json()["value"]] == [APP_ID]  # it signed in: the directory knows it
        assert requests.get(f"{GRAPH}/v1.0/me", timeout=10).status_code == 401
        assert kv.requests.last.operation == "GetSignedInUser"


def test_in_process_through_azure_core_pipelines_sync_and_async() -> None:
    """The azure-core doors: a PipelineClient with a bearer-token policy (requests transport), and the async
    one over aiohttp, as an SDK built on azure-core calls Graph."""
    import asyncio

    from azure.core import AsyncPipelineClient, PipelineClient
    from azure.core.pipeline.policies import AsyncBearerTokenCredentialPolicy, BearerTokenCredentialPolicy
    from azure.core.rest import HttpRequest
    from azure.identity import ClientSecretCredential
    from azure.identity.aio import ClientSecretCredential as AsyncClientSecretCredential

    scope = f"{GRAPH}/.default"
    query = {"$filter": f"appId eq '{APP_ID}'"}
    with kv_emulator.emulate() as kv:
        tenant = kv.settings.tenant_id
        sync_policy = BearerTokenCredentialPolicy(ClientSecretCredential(tenant, APP_ID, "s"), scope)
        with PipelineClient(GRAPH, policies=[sync_policy]) as client:
            response = client.send_request(HttpRequest("GET", f"{GRAPH}/v1.0/servicePrincipals", params=query))
        assert response.status_code == 200
        assert [o["appId"] for o in response.json()["value"]] == [APP_ID]

        async def through_aiohttp() -> tuple[int, dict]:
            async with AsyncClientSecretCredential(tenant, APP_ID, "s") as credential:
                policy = AsyncBearerTokenCredentialPolicy(credential, scope)
                async with AsyncPipelineClient(GRAPH, policies=[policy]) as client:
                    answer = await client.send_request(HttpRequest("GET", f"{GRAPH}/v1.0/me"))
                    await answer.read()
                    return answer.status_code, answer.json()

        status, body = asyncio.run(through_aiohttp())
        assert (status, body["error"]["code"]) == (400, "BadRequest")  # an app token has no /me
        assert [e.operation for e in kv.requests][-2:] == ["ListServicePrincipals", "GetSignedInUser"]


def test_me_through_the_fake_az_credential_under_strict_auth() -> None:
    """AzureCliCredential on a developer's laptop (``emulate_cli``): a delegated token for the fake ``az``'s
    user, signed by the directory, so ``/me`` names that user, strict auth or not."""
    from azure.identity import AzureCliCredential

    with kv_emulator.emulate(emulate_cli=True, strict_auth=True) as kv:
        token = AzureCliCredential().get_token(f"{GRAPH}/.default").token
        response = requests.get(f"{GRAPH}/v1.0/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["userPrincipalName"] == kv.identity.signed_in_user[0]
        assert response.json()["id"] == kv.identity.signed_in_user[1]


def test_through_the_server_proxy(tmp_path) -> None:
    """Another process's way in: CONNECT graph.microsoft.com through the proxy, the CA's certificate for it."""
    with kv_emulator.serve(data_dir=str(tmp_path)) as server:
        kv = server.emulator
        token = _token(kv)
        _, user_id = kv.identity.signed_in_user
        response = requests.post(
            f"{GRAPH}/v1.0/directoryObjects/getByIds",
            json={"ids": [user_id, str(uuid.uuid4())]},
            headers={"Authorization": f"Bearer {token}"},
            proxies={"https": server.proxy_url},
            verify=str(server.ca_path),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert [o["@odata.type"] for o in response.json()["value"]] == ["#microsoft.graph.user"]
        assert any(e.operation == "GetDirectoryObjectsByIds" for e in kv.requests)


def test_graph_is_part_of_the_identity_switch_and_the_guard() -> None:
    assert Emulator().app_for(f"{GRAPH}/v1.0/me") is not None
    assert Emulator().app_for("https://microsoftgraph.chinacloudapi.cn/v1.0/me") is not None
    assert Emulator(emulate_identity=False).app_for(f"{GRAPH}/v1.0/me") is None
    assert Emulator().app_for("https://graph.microsoft.com:8443/v1.0/me") is None
    reason = refusal(f"{GRAPH}/v1.0/me")
    assert reason is not None and "not active" in reason
