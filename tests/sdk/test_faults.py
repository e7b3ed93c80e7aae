"""Injected faults through the real SDK (sync and async), and the journal that shows every attempt."""

from __future__ import annotations

import time

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets.aio import SecretClient as AsyncSecretClient
from tests_support import error_of

pytestmark = pytest.mark.keyvault(virtual_time=True)


@pytest.fixture
def client(keyvault):
    keyvault.vault().secrets.set("s", "v")
    return SecretClient(keyvault.vault_url, keyvault.credential)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_each_transient_status_is_retried_then_succeeds(client, keyvault, status):
    keyvault.faults.add(status, operation="GetSecret", times=2)
    assert client.get_secret("s").value == "v"
    call = keyvault.requests.calls("GetSecret")[-1]
    assert [a.status for a in call.attempts if not a.challenged] == [status, status, 200]
    assert [a.injected for a in call.attempts if not a.challenged] == [f"fault {status}", f"fault {status}", None]


def test_fault_body_and_headers_are_what_was_asked(wire, keyvault):
    keyvault.faults.add(503, body={"error": {"code": "Custom", "message": "down"}}, headers={"x-test": "1"})
    response = wire.get("/secrets")
    assert response.status_code == 503 and error_of(response) == {"code": "Custom", "message": "down"}
    assert response.headers["x-test"] == "1"
    keyvault.faults.add(502, body="<html>bad gateway</html>")
    response = wire.get("/secrets")
    assert (response.status_code, response.data) == (502, b"<html>bad gateway</html>")


def test_giving_up_after_the_last_retry(client, keyvault):
    keyvault.faults.add(503, operation="GetSecret", times=None)
    with pytest.raises(HttpResponseError) as gave_up:
        client.get_secret("s")
    assert gave_up.value.status_code == 503
    call = keyvault.requests.calls("GetSecret")[-1]
    assert call.retries == 3  # default retry_status=3: 4 attempts
    assert call.delays == [0.0, 1.6, 3.2]


def test_custom_retry_settings(keyvault):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential, retry_total=1, retry_backoff_factor=0.5)
    keyvault.faults.add(500, operation="GetSecret", times=None)
    with pytest.raises(HttpResponseError):
        client.get_secret("s")
    assert keyvault.requests.calls("GetSecret")[-1].retries == 1


def test_matching_by_method_and_path(client, keyvault):
    keyvault.faults.add(500, method="PUT", path="/secrets/other*", times=None)
    assert client.set_secret("fine", "v").value == "v"
    with pytest.raises(HttpResponseError):
        client.set_secret("other-name", "v", retry_total=0)


def test_every_nth_request(keyvault, wire):
    fault = keyvault.faults.add(500, operation="GetSecrets", every=3, times=None)
    statuses = [wire.get("/secrets").status_code for _ in range(7)]
    assert statuses == [200, 200, 500, 200, 200, 500, 200]
    assert fault.hits == 2


def test_seeded_probability_is_reproducible(keyvault, wire):
    def run(seed):
        keyvault.faults.clear()
        keyvault.faults.add(503, probability=0.5, seed=seed, times=None)
        return [wire.get("/secrets").status_code for _ in range(20)]

    first, second = run(7), run(7)
    assert first == second and 503 in first and 200 in first


def test_scripted_sequence(client, keyvault):
    keyvault.faults.script("GetSecret", [503, 503, "ok", 500])
    assert client.get_secret("s").value == "v"
    assert client.get_secret("s").value == "v"
    statuses = [e.status for e in keyvault.requests.filter("GetSecret") if not e.challenged]
    assert statuses == [503, 503, 200, 500, 200]


def test_connection_error_sync(client, keyvault):
    keyvault.faults.connection_error(operation="GetSecret", times=None)
    with pytest.raises(ServiceRequestError):
        client.get_secret("s")
    attempts = [a for a in keyvault.requests.calls("GetSecret")[-1].attempts if not a.challenged]
    assert len(attempts) == 4 and {a.status for a in attempts} == {0}  # 0: no HTTP answer at all


def test_timeout_then_success(client, keyvault):
    keyvault.faults.script("GetSecret", ["timeout", "ok"])
    assert client.get_secret("s").value == "v"
    keyvault.faults.add("timeout", operation="GetSecret", times=None)
    with pytest.raises(ServiceResponseError):
        client.get_secret("s")


async def test_async_faults(keyvault):
    keyvault.vault().secrets.set("s", "v")
    async with AsyncSecretClient(keyvault.vault_url, keyvault.async_credential) as client:
        keyvault.faults.script("GetSecret", [503, "connection_error", "timeout", "ok"])
        assert (await client.get_secret("s")).value == "v"
        call = keyvault.requests.calls("GetSecret")[-1]
        assert [a.status for a in call.attempts if not a.challenged] == [503, 0, 0, 200]
        keyvault.faults.connection_error(operation="GetSecret", times=None)
        with pytest.raises(ServiceRequestError):
            await client.get_secret("s")


def test_latency_in_virtual_time_costs_no_wall_time(client, keyvault, no_real_sleep):
    keyvault.faults.latency(30.0, operation="GetSecret")
    before = keyvault.clock.time()
    assert client.get_secret("s").value == "v"
    assert keyvault.clock.time() - before >= 30
    assert keyvault.requests.calls("GetSecret")[-1].final.injected == "fault latency"


@pytest.mark.slow
@pytest.mark.keyvault(virtual_time=False)
def test_real_latency_is_waited_out(keyvault):
    keyvault.vault().secrets.set("s", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    keyvault.faults.latency(0.2, operation="GetSecret", times=1)
    started = time.perf_counter()
    client.get_secret("s")
    assert time.perf_counter() - started >= 0.2


def test_claims_challenge_makes_the_sdk_ask_for_a_new_token(client, keyvault):
    client.get_secret("s")  # the vault challenge is behind us
    keyvault.faults.claims_challenge(
        {"access_token": {"acrs": {"essential": True, "value": "c1"}}}, operation="GetSecret"
    )
    assert client.get_secret("s").value == "v"
    call = keyvault.requests.calls("GetSecret")[-1]
    assert call.statuses == [401, 200]
    _scopes, options = keyvault.credential.requests[-1]
    assert options["claims"] == '{"access_token": {"acrs": {"essential": true, "value": "c1"}}}'


def test_faults_are_checked_after_the_challenge(keyvault):
    keyvault.vault().secrets.set("s", "v")
    keyvault.faults.add(503, times=1)
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert client.get_secret("s").value == "v"
    first, second, third = keyvault.requests
    assert (first.status, first.injected) == (401, None)
    assert (second.status, second.injected, third.status) == (503, "fault 503", 200)


def test_invalid_faults_are_refused(keyvault):
    with pytest.raises(ValueError):
        keyvault.faults.add("explode")
    with pytest.raises(ValueError):
        keyvault.faults.add(503, probability=2)
    with pytest.raises(ValueError):
        keyvault.faults.script("GetSecret", [503, "boom"])


def test_reset_clears_faults(keyvault, wire):
    keyvault.faults.add(503, times=None)
    keyvault.reset()
    assert wire.get("/secrets").status_code == 200
