"""Retries and back-off: injected faults, virtual time, and the journal's view of every attempt.

Run with ``python -m pytest examples/test_retries.py``. The clients are the unmodified SDK with its
default ``RetryPolicy`` unless a test says otherwise; ``virtual_time=True`` turns the SDK's back-off
sleeps into moves of the emulator's clock, so a test that waits 4.8 seconds of back-off takes
milliseconds. Throttling and ``Retry-After`` are in ``examples/test_throttling.py``; the guide is
docs/retries.md.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.keyvault.keys import KeyClient
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient


@pytest.mark.keyvault(virtual_time=True)
def test_two_503s_then_success(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.script("GetSecret", [503, 503, "ok"])  # the next three GetSecret requests

    before = keyvault.clock.time()
    assert client.get_secret("db-password").value == "hunter2"

    [call] = keyvault.requests.calls("GetSecret")
    assert call.statuses == [503, 503, 200]  # three attempts with one x-ms-client-request-id
    assert call.retries == 2
    assert call.delays == [0.0, 1.6]  # the default RetryPolicy: no wait, then 0.8 * 2 seconds
    assert keyvault.clock.time() - before >= 1.6  # the 1.6 s were spent on the emulator's clock, not waited


@pytest.mark.keyvault(virtual_time=True)
def test_virtual_time_moves_the_emulators_clock(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.script("GetSecret", [503, 503, 503, "ok"])
    before = keyvault.clock.time()
    client.get_secret("db-password")
    assert keyvault.clock.time() - before == pytest.approx(0.0 + 1.6 + 3.2, abs=0.5)
    assert keyvault.requests.calls("GetSecret")[0].delays == [0.0, 1.6, 3.2]


@pytest.mark.keyvault(virtual_time=True)
def test_retry_settings_on_the_client(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential, retry_total=5, retry_backoff_factor=0.1)
    client.set_secret("db-password", "hunter2")
    keyvault.faults.script("GetSecret", [503, 503, 503, "ok"])
    assert client.get_secret("db-password").value == "hunter2"
    assert keyvault.requests.calls("GetSecret")[0].delays == pytest.approx([0.0, 0.2, 0.4])


@pytest.mark.keyvault(virtual_time=True)
def test_retry_settings_per_call(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.add(503, operation="GetSecret", times=1)
    with pytest.raises(HttpResponseError) as unavailable:
        client.get_secret("db-password", retry_total=0)  # no retry for this call only
    assert unavailable.value.status_code == 503
    assert client.get_secret("db-password").value == "hunter2"  # the fault fired once; the next call is fine
    assert [call.statuses for call in keyvault.requests.calls("GetSecret")] == [[503], [200]]


@pytest.mark.keyvault(virtual_time=True)
def test_giving_up_after_the_last_retry(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.add(503, operation="GetSecret", times=None)  # every GetSecret, until cleared
    with pytest.raises(HttpResponseError) as unavailable:
        client.get_secret("db-password")
    assert unavailable.value.status_code == 503
    assert unavailable.value.error is not None and unavailable.value.error.code == "ServiceUnavailable"

    [call] = keyvault.requests.calls("GetSecret")
    assert call.statuses == [503, 503, 503, 503]  # retry_status=3: the first attempt and 3 retries
    assert call.delays == [0.0, 1.6, 3.2]

    keyvault.faults.clear()
    assert client.get_secret("db-password").value == "hunter2"


@pytest.mark.keyvault(virtual_time=True)
def test_a_post_is_retried_only_on_500_503_504(keyvault):
    client = KeyClient(keyvault.vault_url, keyvault.credential)
    client.create_rsa_key("warm-up")  # meets the first-request challenge
    keyvault.faults.add(502, operation="CreateKey")
    with pytest.raises(HttpResponseError) as bad_gateway:
        client.create_rsa_key("signing")  # POST /keys/signing/create: a 502 is not retried
    assert bad_gateway.value.status_code == 502

    keyvault.faults.add(503, operation="CreateKey")
    assert client.create_rsa_key("signing").name == "signing"  # a 503 is

    keyvault.faults.connection_error(operation="CreateKey")
    with pytest.raises(ServiceRequestError):  # and a POST that cannot connect is not
        client.create_rsa_key("signing")
    assert [call.statuses for call in keyvault.requests.calls("CreateKey")[1:]] == [[502], [503, 200], [0]]


@pytest.mark.keyvault(virtual_time=True)
def test_connection_errors_and_timeouts(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.connection_error(operation="GetSecret", times=2)
    assert client.get_secret("db-password").value == "hunter2"
    [call] = keyvault.requests.calls("GetSecret")
    assert call.statuses == [0, 0, 200]  # 0: no HTTP answer, the transport raised
    assert call.delays == [0.0, 1.6]

    keyvault.faults.add("timeout", operation="GetSecret", times=None)
    with pytest.raises(ServiceResponseError):  # ServiceResponseTimeoutError, after 4 attempts
        client.get_secret("db-password")
    assert keyvault.requests.calls("GetSecret")[-1].retries == 3


@pytest.mark.keyvault(virtual_time=True)
def test_injected_latency_in_virtual_time(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.latency(2.0, operation="GetSecret")  # every GetSecret, until cleared
    before = keyvault.clock.time()
    client.get_secret("db-password")
    client.get_secret("db-password")
    assert keyvault.clock.time() - before == pytest.approx(4.0, abs=0.5)  # two answers, 2 s late each
    assert keyvault.requests.last.injected == "fault latency"


@pytest.mark.keyvault(virtual_time=True)
def test_a_cae_claims_challenge(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    asked = len(keyvault.credential.requests)

    keyvault.faults.claims_challenge(operation="GetSecret")
    assert client.get_secret("db-password").value == "hunter2"

    [(scopes, options)] = keyvault.credential.requests[asked:]  # the SDK asked for a new token once
    assert scopes == ("https://vault.azure.net/.default",)
    assert options["claims"] == '{"access_token": {"nbf": {"essential": true, "value": "1700000000"}}}'
    assert options["enable_cae"] is True
    call = keyvault.requests.calls("GetSecret")[-1]
    assert call.statuses == [401, 200]
    assert call.attempts[0].injected == "fault claims challenge"


@pytest.mark.keyvault(virtual_time=True)
async def test_the_async_client(keyvault):
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        await client.set_secret("db-password", "hunter2")
        keyvault.faults.script("GetSecret", [503, "timeout", "connection_error", "ok"])
        before = keyvault.clock.time()
        assert (await client.get_secret("db-password")).value == "hunter2"
        assert keyvault.clock.time() - before >= 1.6 + 3.2  # the async sleeps were virtual too

    [call] = keyvault.requests.calls("GetSecret")
    assert call.statuses == [503, 0, 0, 200]
    assert call.delays == [0.0, 1.6, 3.2]


@pytest.mark.keyvault(virtual_time=True)
def test_every_third_request_fails(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    fault = keyvault.faults.add(503, operation="GetSecret", every=3, times=None)
    for _ in range(5):
        assert client.get_secret("db-password").value == "hunter2"
    # Requests 3 and 6 failed; a retry is a request too, so it counts towards "every third".
    statuses = [call.statuses for call in keyvault.requests.calls("GetSecret")]
    assert statuses == [[200], [200], [503, 200], [200], [503, 200]]
    assert (fault.seen, fault.hits) == (7, 2)


@pytest.mark.keyvault(virtual_time=True)
def test_a_seeded_flaky_vault(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    fault = keyvault.faults.add(503, operation="GetSecret", probability=0.3, seed=42, times=None)
    for _ in range(20):
        assert client.get_secret("db-password").value == "hunter2"  # the default retries ride it out
    calls = keyvault.requests.calls("GetSecret")
    assert fault.hits == sum(call.retries for call in calls)  # every 503 was retried
    assert (fault.seen, fault.hits) == (33, 13)  # the same on every run: the seed fixes the dice


@pytest.mark.keyvault(virtual_time=True)
def test_reading_the_journal(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("db-password", "hunter2")  # also meets the SDK's first-request challenge
    keyvault.faults.script("GetSecret", [503, "connection_error", "ok"])
    client.get_secret("db-password")

    lines = [str(entry) for entry in keyvault.requests.filter("GetSecret")]  # "GET <url> -> ..."
    assert [line.split(" -> ")[1] for line in lines] == [
        "503 ServiceUnavailable [GetSecret] (injected fault 503)",
        "0 [GetSecret] (attempt 2, injected fault connection_error)",
        "200 [GetSecret] (attempt 3, after 1.60s)",
    ]
    last = keyvault.requests.last
    assert (last.attempt, last.delay, last.injected, last.throttled) == (3, 1.6, None, False)
    [call] = keyvault.requests.calls("GetSecret")
    assert call.client_request_id == last.client_request_id  # what groups the attempts
    assert call.final is last
