"""Service limits: the exact 429, transaction classes and weights, the window on the emulator's clock."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from tests_support import error_of

import kv_emulator
from kv_emulator.http.throttling import TRANSACTION_CLASSES, Throttler

THROTTLED = {
    "code": "Throttled",
    "message": (
        "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"
    ),
}


@pytest.mark.keyvault(throttling=True, throttle_limits={"vault-other": 2})
def test_the_429_is_exact_and_carries_no_retry_after_by_default(wire, keyvault):
    assert [wire.get("/secrets").status_code for _ in range(2)] == [200, 200]
    response = wire.get("/secrets", headers={"x-ms-client-request-id": "abc"})
    assert response.status_code == 429
    assert error_of(response) == THROTTLED
    assert "Retry-After" not in response.headers and "retry-after-ms" not in response.headers
    assert response.headers["x-ms-client-request-id"] == "abc"
    assert response.headers["x-ms-keyvault-service-version"]
    assert keyvault.requests.last.throttled


@pytest.mark.keyvault(throttling=True, throttle_limits={"vault-other": 1})
def test_the_window_is_ten_seconds_on_the_emulator_clock(wire, keyvault):
    keyvault.clock.freeze()
    assert wire.get("/secrets").status_code == 200
    assert wire.get("/secrets").status_code == 429
    keyvault.clock.advance(seconds=9.9)
    assert wire.get("/secrets").status_code == 429  # 429s do not count, but the first is still in the window
    keyvault.clock.advance(seconds=0.2)
    assert wire.get("/secrets").status_code == 200


@pytest.mark.keyvault(throttling=True, throttle_limits={"secret-create": 1, "vault-other": 100})
def test_secret_creates_have_their_own_class(wire):
    assert wire.put("/secrets/a", body={"value": "v"}).status_code == 200
    assert wire.put("/secrets/b", body={"value": "v"}).status_code == 429
    assert wire.get("/secrets/a/").status_code == 200  # "other" transactions are counted apart


@pytest.mark.keyvault(throttling=True, throttle_limits={"key-software-other": 8, "key-software-create": 100})
def test_rsa_4096_operations_weigh_eight(keyvault, wire):
    keys = keyvault.vault().keys
    keys.create("big", "RSA", size=4096)
    keys.create("small", "RSA")
    assert wire.get("/keys/big/").status_code == 200  # weight 8: the whole limit
    assert wire.get("/keys/small/").status_code == 429
    keyvault.clock.advance(seconds=11)
    assert [wire.get("/keys/small/").status_code for _ in range(8)] == [200] * 8
    assert wire.get("/keys/small/").status_code == 429


@pytest.mark.keyvault(throttling=True, throttle_limits={"key-hsm-create": 1, "key-software-create": 5})
def test_hsm_and_software_keys_are_separate_classes(wire):
    assert wire.post("/keys/a/create", body={"kty": "RSA-HSM"}).status_code == 200
    assert wire.post("/keys/b/create", body={"kty": "EC-HSM"}).status_code == 429
    assert wire.post("/keys/c/create", body={"kty": "EC"}).status_code == 200


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [("Retry-After", 2.2, "3"), ("retry-after-ms", 0.25, "250"), ("x-ms-retry-after-ms", 1.5, "1500")],
)
def test_retry_after_choices(wire_for, header, value, expected):
    emulator = kv_emulator.Emulator(
        throttling=True,
        throttle_limits={"vault-other": 1},
        throttle_retry_after=value,
        throttle_retry_after_header=header,
    )
    wire = wire_for(emulator.app)
    wire.get("/secrets")
    assert wire.get("/secrets").headers[header] == expected


@pytest.mark.keyvault(virtual_time=True)
def test_get_is_retried_with_backoff_and_honours_retry_after(keyvault):
    keyvault.throttle(limits={"vault-other": 1}, retry_after=11)
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.list_properties_of_secrets().next()  # uses up the window
    assert client.get_secret("s").value == "v"  # 429, then retried after Retry-After: 11 (virtual seconds)
    call = keyvault.requests.calls("GetSecret")[-1]
    assert [a.status for a in call.attempts if not a.challenged] == [429, 200]
    assert call.delays == [11.0]


@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_limits={"key-software-create": 1})
def test_a_post_429_without_retry_after_is_not_retried(keyvault):
    """azure-core retries POST only on 500/503/504, unless the response carries Retry-After."""
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_ec_key("first")
    with pytest.raises(HttpResponseError) as throttled:
        client.create_ec_key("second")
    assert throttled.value.status_code == 429 and throttled.value.error.code == "Throttled"
    assert keyvault.requests.calls("CreateKey")[-1].retries == 0


@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_limits={"key-software-create": 1})
def test_a_post_429_with_retry_after_is_retried(keyvault):
    keyvault.throttle(retry_after=10)
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_ec_key("first")
    assert client.create_ec_key("second").name == "second"
    call = keyvault.requests.calls("CreateKey")[-1]
    assert call.retries == 1 and call.delays == [10.0]


def test_throttling_is_off_by_default(wire):
    assert {wire.get("/secrets").status_code for _ in range(50)} == {200}


def test_scale_makes_limits_reachable():
    settings = kv_emulator.Settings.from_options(throttling=True, throttle_scale=0.001)
    assert Throttler.limit(settings, "secret-create") == 1
    assert Throttler.limit(settings, "vault-other") == 4
    assert Throttler.limit(kv_emulator.Settings(), "key-software-create") == TRANSACTION_CLASSES["key-software-create"]


def test_bad_throttle_settings_are_refused():
    with pytest.raises(ValueError, match="unknown throttle_limits class"):
        kv_emulator.Emulator(throttle_limits={"secrets": 1})
    with pytest.raises(ValueError, match="throttle_retry_after_header"):
        kv_emulator.Emulator(throttle_retry_after_header="Retry-After-Seconds")
    with pytest.raises(ValueError, match="throttle_scale"):
        kv_emulator.Emulator(throttle_scale=0)
