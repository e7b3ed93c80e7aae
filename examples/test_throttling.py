"""Throttling: Key Vault's service limits, the exact 429, and which Retry-After the SDK honours.

Run with ``python -m pytest examples/test_throttling.py``. Throttling is off unless a test turns it on
(``throttling=True`` or ``keyvault.throttle(...)``); tiny limits make it reachable with a handful of
requests, and virtual time makes the SDK's waits free. The guide is docs/retries.md.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient

THROTTLED_MESSAGE = (
    "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"
)


@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_limits={"secret-create": 1})
def test_the_429_the_service_sends(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("first", "1")  # the one secret create this 10-second window allows
    with pytest.raises(HttpResponseError) as throttled:
        client.set_secret("second", "2")
    assert throttled.value.status_code == 429
    assert throttled.value.error is not None and throttled.value.error.code == "Throttled"
    assert throttled.value.error.message == THROTTLED_MESSAGE
    assert "Retry-After" not in throttled.value.response.headers  # the real service sends none either

    # A PUT 429 without Retry-After is retried with exponential back-off: 0 + 1.6 + 3.2 = 4.8 s, all of
    # it inside the 10-second window, so every attempt is throttled.
    call = keyvault.requests.calls("SetSecret")[-1]
    assert call.statuses == [429, 429, 429, 429]
    assert call.delays == [0.0, 1.6, 3.2]
    assert all(attempt.throttled for attempt in call.attempts)

    keyvault.clock.advance(seconds=10)  # the window has passed
    assert client.set_secret("second", "2").value == "2"


@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_limits={"secret-create": 1}, throttle_retry_after=10)
def test_retry_after_is_honoured(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("first", "1")
    assert client.set_secret("second", "2").value == "2"  # 429 with Retry-After: 10, then 200
    call = keyvault.requests.calls("SetSecret")[-1]
    assert call.statuses == [429, 200]
    assert call.delays == [10.0]  # the SDK waited what the header said (virtual seconds)


@pytest.mark.parametrize(
    ("header", "sent"),
    [("Retry-After", "10"), ("retry-after-ms", "10000"), ("x-ms-retry-after-ms", "10000")],
)
@pytest.mark.keyvault(virtual_time=True)
def test_each_retry_after_header(keyvault, header, sent):
    keyvault.throttle(limits={"secret-create": 1}, retry_after=10, retry_after_header=header)
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("first", "1")

    seen = []

    def on_every_attempt(response):
        seen.append(response.http_response.headers.get(header))

    client.set_secret("second", "2", raw_response_hook=on_every_attempt)
    assert seen == [sent, None]  # whole seconds in Retry-After, milliseconds in the other two
    assert keyvault.requests.calls("SetSecret")[-1].delays == [10.0]


@pytest.mark.parametrize(("header", "retried"), [("Retry-After", True), ("retry-after-ms", False)])
@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_limits={"key-software-create": 1})
def test_a_post_429_is_retried_only_with_retry_after(keyvault, header, retried):
    keyvault.throttle(retry_after=10, retry_after_header=header)
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_ec_key("first")
    if retried:
        assert client.create_ec_key("second").name == "second"
        assert keyvault.requests.calls("CreateKey")[-1].statuses == [429, 200]
    else:  # retry-after-ms and x-ms-retry-after-ms only set the wait; they do not make a POST retryable
        with pytest.raises(HttpResponseError) as throttled:
            client.create_ec_key("second")
        assert throttled.value.status_code == 429
        assert keyvault.requests.calls("CreateKey")[-1].statuses == [429]


@pytest.mark.keyvault(virtual_time=True, throttling=True, throttle_scale=0.001)
def test_scaled_limits(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # secret-create: 300 x 0.001 -> 1 per 10 s
    for _ in range(4):  # vault-other: 4000 x 0.001 = 4 reads per 10 s
        client.get_secret("db-password")
    with pytest.raises(HttpResponseError) as throttled:
        client.get_secret("db-password", retry_total=0)
    assert throttled.value.status_code == 429
    assert keyvault.requests.last.throttled

    keyvault.clock.advance(seconds=10)
    assert client.get_secret("db-password").value == "hunter2"


@pytest.mark.keyvault(virtual_time=True)
def test_retry_after_zero_falls_back_to_back_off(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")
    keyvault.faults.add(429, operation="GetSecret", headers={"Retry-After": "0"}, times=2)
    client.get_secret("db-password")
    assert keyvault.requests.calls("GetSecret")[-1].delays == [0.0, 1.6]  # not 0 and 0

    keyvault.faults.add(429, operation="GetSecret", headers={"Retry-After": "5"}, times=2)
    client.get_secret("db-password")
    assert keyvault.requests.calls("GetSecret")[-1].delays == [5.0, 5.0]


@pytest.mark.keyvault(virtual_time=True)
def test_any_error_with_retry_after_is_retried(keyvault):
    keys = KeyClient(keyvault.vault_url, keyvault.credential)
    keys.create_ec_key("warm-up")
    keyvault.faults.add(429, operation="CreateKey", headers={"Retry-After": "0"})
    assert keys.create_ec_key("signing").name == "signing"  # a POST 429, retried: the header is there

    keyvault.faults.add(400, operation="GetKey", headers={"Retry-After": "1"})
    assert keys.get_key("signing").name == "signing"  # even a 400
    assert keyvault.requests.calls("GetKey")[-1].statuses == [400, 200]
