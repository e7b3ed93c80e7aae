"""The pipeline's own rules: its parts are handed in, and the bugs found while making it explicit stay fixed."""

from __future__ import annotations

import json
import uuid

import pytest

import kv_emulator
from kv_emulator.http.app import KeyVaultApp

HSM = "https://x.managedhsm.azure.net"
VAULT = "https://x.vault.azure.net"


def test_the_app_is_built_from_its_parts_not_from_the_emulator(keyvault):
    app = keyvault.app
    assert isinstance(app, KeyVaultApp)
    assert app.journal is keyvault.requests and app.faults is keyvault.faults and app.clock is keyvault.clock
    assert [step.__name__ for step in app.STEPS] == [
        "challenge",
        "api_version",
        "route",
        "authorize",
        "inject_faults",
        "throttle",
        "handle",
    ]
    assert not hasattr(app, "emulator")


@pytest.mark.keyvault(throttling=True, throttle_limits={"key-hsm-create": 1})
def test_a_vault_and_a_managed_hsm_of_the_same_name_have_their_own_throttling_windows(wire_for, keyvault):
    rsa_hsm = {"kty": "RSA-HSM"}
    assert wire_for(keyvault.app, base_url=VAULT).post("/keys/k/create", body=rsa_hsm).status_code == 200
    assert wire_for(keyvault.app, base_url=HSM).post("/keys/k/create", body=rsa_hsm).status_code == 200
    assert wire_for(keyvault.app, base_url=HSM).post("/keys/k2/create", body=rsa_hsm).status_code == 429


@pytest.mark.keyvault(throttling=True, throttle_limits={"key-hsm-create": 1, "key-software-create": 100})
def test_key_creates_are_classified_from_the_parsed_body_whatever_its_whitespace(wire):
    # "-HSM" in a tag is no HSM key; "Hsm" : true with odd spacing is one.
    tagged = json.dumps({"kty": "RSA", "tags": {"note": "not-HSM"}}).encode()
    for name in ("a", "b"):
        assert wire.post(f"/keys/{name}/create", raw=tagged).status_code == 200
    key = {"kty": "RSA", "n": "sXch", "e": "AQAB", "d": "AQ", "p": "AQ", "q": "AQ", "dp": "AQ", "dq": "AQ", "qi": "AQ"}
    spaced = b'{"Hsm" :\n  true, "key": ' + json.dumps(key).encode() + b"}"
    assert wire.put("/keys/c", raw=spaced).status_code in (400, 200)  # counted as an HSM create either way
    assert wire.post("/keys/d/create", body={"kty": "EC-HSM"}).status_code == 429


@pytest.mark.parametrize("name", ["https://prod.managedhsm.azure.net", "https://prod.vault.azure.net"])
def test_vault_url_honours_a_vault_name_given_as_a_url(name):
    emulator = kv_emulator.Emulator(vault_name=name)
    assert emulator.vault_url == name
    assert emulator.vault().url == name


def test_every_answer_has_its_own_random_uuid_request_id(wire):
    ids = [wire.get("/secrets/none").headers["x-ms-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50
    for request_id in ids:
        parsed = uuid.UUID(request_id)
        assert str(parsed) == request_id and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_query_strings_parsed_once_are_still_told_apart(wire):
    wire.put("/secrets/s", body={"value": "v"})
    assert wire.get("/secrets/s", api_version="7.6").status_code == 200
    assert wire.get("/secrets/s", api_version="7.6").status_code == 200  # served from the parsed-query cache
    bad = wire.get("/secrets/s", api_version="1999-01-01")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "BadParameter"
    assert wire.get("/secrets/s?api-version=7.6&outContentType=x").status_code == 200
