"""Issue 12 item 7: the attestation authority answers over HTTP at its host, like the Azure SDKs' test
attestation service: OpenID metadata, signing keys, and ``/generate-test-token``; a token fetched that way
releases a key whose policy names the authority (SDK sync and async, raw HTTP)."""

from __future__ import annotations

import json

import jwt
import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import AsyncPipeline, Pipeline
from azure.core.pipeline.transport import AioHttpTransport, RequestsTransport
from azure.core.rest import HttpRequest
from azure.keyvault.keys import KeyClient, KeyReleasePolicy
from azure.keyvault.keys.aio import KeyClient as AsyncKeyClient
from werkzeug.test import Client

AUTHORITY = "https://kv-emulator.attest.azure.net"


def sdk_test_policy() -> KeyReleasePolicy:
    """The release policy of the Azure SDK's own key release tests."""
    rule = {"authority": AUTHORITY, "allOf": [{"claim": "sdk-test", "equals": True}]}
    return KeyReleasePolicy(json.dumps({"version": "1.0.0", "anyOf": [rule]}).encode())


@pytest.fixture
def http(keyvault):
    return Client(keyvault.attestation_app)


def test_openid_metadata_and_signing_keys_verify_a_test_token(http, keyvault):
    metadata = http.get("/.well-known/openid-configuration", base_url=AUTHORITY)
    assert metadata.status_code == 200 and metadata.mimetype == "application/json"
    assert metadata.get_json()["issuer"] == keyvault.attestation.issuer == AUTHORITY
    assert metadata.get_json()["jwks_uri"] == f"{AUTHORITY}/certs"
    [key] = http.get("/certs", base_url=AUTHORITY).get_json()["keys"]
    token = http.get("/generate-test-token", base_url=AUTHORITY).get_json()["token"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], issuer=AUTHORITY)
    assert claims["sdk-test"] is True and claims["x-ms-runtime"]["keys"][0]["kty"] == "RSA"


def test_unknown_paths_and_methods(http):
    missing = http.get("/attest/SevSnpVm", base_url=AUTHORITY)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "NotFound"
    assert http.post("/generate-test-token", base_url=AUTHORITY).status_code == 405


def test_sdk_releases_a_key_with_a_token_fetched_over_http(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_rsa_key("k", exportable=True, release_policy=sdk_test_policy())
    token = requests.get(f"{AUTHORITY}/generate-test-token", timeout=5).json()["token"]
    assert client.release_key("k", token).value
    with Pipeline(transport=RequestsTransport()) as pipeline:  # as the Azure SDK's own release tests fetch it
        response = pipeline.run(HttpRequest("GET", f"{AUTHORITY}/generate-test-token"))
    assert client.release_key("k", json.loads(response.http_response.text())["token"]).value


def test_a_token_without_the_claim_is_refused(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_rsa_key("k", exportable=True, release_policy=sdk_test_policy())
    other = keyvault.attestation.issue_token({"sdk-test": False}).jwt
    with pytest.raises(HttpResponseError) as refused:
        client.release_key("k", other)
    assert refused.value.status_code in (400, 403)


async def test_async_sdk_releases_a_key_with_a_token_fetched_over_http(keyvault):
    # as the Azure SDK's own async release tests fetch it: an azure-core pipeline over aiohttp
    async with AsyncPipeline(transport=AioHttpTransport()) as pipeline:
        response = await pipeline.run(HttpRequest("GET", f"{AUTHORITY}/generate-test-token"))
        token = json.loads(response.http_response.text())["token"]
    async with AsyncKeyClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.create_rsa_key("k", exportable=True, release_policy=sdk_test_policy())
        assert (await client.release_key("k", token)).value
