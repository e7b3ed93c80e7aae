"""Bad input never breaks the emulator: a clear 400 in the Key Vault shape, and nothing stored."""

from __future__ import annotations

import base64
import json

import pytest
from tests_support import error_of


def _nothing_stored(keyvault) -> None:
    assert list(keyvault.vault().secrets) == []


@pytest.mark.parametrize("name", ["bad_name", "bad.name", "x" * 128, "spaces here", "ünïcode"])
def test_bad_secret_names(wire, keyvault, name):
    response = wire.put(f"/secrets/{name}", body={"value": "v"})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BadParameter",
        "message": f"The request URI contains an invalid name: {name}",
    }
    _nothing_stored(keyvault)


def test_longest_valid_name_is_accepted(wire):
    assert wire.put(f"/secrets/{'a' * 127}", body={"value": "v"}).status_code == 200


def test_value_over_25600_characters(wire, keyvault):
    assert wire.put("/secrets/ok", body={"value": "x" * 25600}).status_code == 200
    response = wire.put("/secrets/big", body={"value": "x" * 25601})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "BadParameter",
        "message": "Secret is beyond the maximum permitted length of 25600 characters.",
        "innererror": {"code": "SecretTooLarge"},
    }
    assert "big" not in keyvault.vault().secrets


@pytest.mark.parametrize(
    "tags",
    [
        {f"t{i}": "v" for i in range(16)},
        {"t" * 257: "v"},
        {"t": "v" * 257},
    ],
)
def test_tag_limits(wire, keyvault, tags):
    response = wire.put("/secrets/s", body={"value": "v", "tags": tags})
    assert response.status_code == 400
    assert error_of(response) == {"code": "BadParameter", "message": "Property has invalid value\r\n"}
    _nothing_stored(keyvault)


def test_fifteen_tags_of_256_are_fine(wire):
    tags = {f"{i:02d}".ljust(256, "k"): "v" * 256 for i in range(15)}
    assert wire.put("/secrets/s", body={"value": "v", "tags": tags}).status_code == 200


def test_content_type_limit(wire, keyvault):
    assert wire.put("/secrets/s", body={"value": "v", "contentType": "c" * 255}).status_code == 200
    response = wire.put("/secrets/t", body={"value": "v", "contentType": "c" * 256})
    assert response.status_code == 400
    assert error_of(response)["code"] == "BadParameter"
    assert "t" not in keyvault.vault().secrets


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"a string"', b"null"])
def test_malformed_or_non_object_json(wire, keyvault, raw):
    response = wire.put("/secrets/s", raw=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] == "BadParameter"
    _nothing_stored(keyvault)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "value"),
        ({"value": None}, "value"),
        ({"value": 42}, "value"),
        ({"value": "v", "contentType": 1}, "contentType"),
        ({"value": "v", "tags": ["a"]}, "tags"),
        ({"value": "v", "tags": {"a": 1}}, "tags"),
        ({"value": "v", "attributes": "on"}, "attributes"),
        ({"value": "v", "attributes": {"enabled": "yes"}}, "enabled"),
        ({"value": "v", "attributes": {"exp": "tomorrow"}}, "exp"),
        ({"value": "v", "attributes": {"nbf": -1}}, "nbf"),
        ({"value": "v", "attributes": {"nbf": 1.5}}, "nbf"),
        ({"value": "v", "attributes": {"exp": 10**30}}, "exp"),
    ],
)
def test_wrong_types_name_the_property(wire, keyvault, body, field):
    response = wire.put("/secrets/s", body=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "BadParameter"
    assert field in error["message"]
    _nothing_stored(keyvault)


def test_failed_update_changes_nothing(wire, keyvault):
    wire.put("/secrets/s", body={"value": "v", "tags": {"keep": "me"}, "contentType": "text"})
    before = wire.get("/secrets/s/").get_json()
    for body in ({"tags": {f"t{i}": "v" for i in range(16)}}, {"contentType": "c" * 256}, {"attributes": 3}):
        assert wire.patch("/secrets/s/", body=body).status_code == 400
    assert wire.get("/secrets/s/").get_json() == before


def test_update_of_missing_secret_is_404(wire):
    response = wire.patch("/secrets/nope/", body={"contentType": "x"})
    assert response.status_code == 404 and error_of(response)["code"] == "SecretNotFound"


@pytest.mark.parametrize("maxresults", ["0", "26", "-1", "ten", "1.5"])
def test_maxresults_out_of_range(wire, maxresults):
    response = wire.get(f"/secrets?maxresults={maxresults}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "BadParameter"
    assert "maxresults" in error_of(response)["message"]


def test_next_link_shape(wire):
    for name in ("a", "b", "c"):
        wire.put(f"/secrets/{name}", body={"value": "v"})
    page = wire.get("/secrets?maxresults=2").get_json()
    link = page["nextLink"]
    assert link.startswith("https://kv-emulator.vault.azure.net/secrets?api-version=2026-04-01&$skiptoken=")
    assert link.endswith("&maxresults=2")
    token = link.split("$skiptoken=")[1].split("&")[0]
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert set(decoded) == {"NextMarker", "TargetLocation"}
    follow = wire.get(link.removeprefix("https://kv-emulator.vault.azure.net").split("&api-version")[0])
    assert [item["id"].rsplit("/", 1)[1] for item in follow.get_json()["value"]] == ["c"]


@pytest.mark.parametrize("token", ["!!!", "bm90LWpzb24", base64.urlsafe_b64encode(b'{"x":1}').decode()])
def test_bad_skiptoken(wire, token):
    response = wire.get(f"/secrets?$skiptoken={token}")
    assert response.status_code == 400 and error_of(response)["code"] == "BadParameter"


@pytest.mark.parametrize("value", [None, 5, "@@@not-base64@@@", base64.urlsafe_b64encode(b"random").decode()])
def test_restore_refuses_garbage(wire, keyvault, value):
    response = wire.post("/secrets/restore", body={"value": value})
    assert response.status_code == 400
    _nothing_stored(keyvault)


def test_huge_body_does_not_break_anything(wire, keyvault):
    response = wire.put("/secrets/s", raw=b'{"value": "' + b"x" * 2_000_000 + b'"}')
    assert response.status_code == 400
    assert wire.get("/secrets").status_code == 200
    _nothing_stored(keyvault)
