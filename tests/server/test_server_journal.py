"""The journal over the wire: the delay before each retry, measured as the gap since the previous answer.

In-process the emulator sees the SDK's sleep and records the delay the client chose. A server sees only
bytes, so it records, per call (client request id), the time from the end of its answer to the previous
attempt to the arrival of the retry: the client's sleep plus its own time around it (reading the answer,
deciding, a new connection when the last one was dropped). The SDK here is the real, unpatched
azure-keyvault-secrets with azure-core's ``RetryPolicy``: with ``retry_backoff_factor=b`` it retries the
first failure at once and sleeps ``2 * b`` before the second (azure-core ``RetryPolicy.get_backoff_time``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.keyvault.secrets import SecretClient

from kv_emulator import Emulator
from kv_emulator.server import Server, ServerOptions

BACKOFF = 0.25
SLEPT = 2 * BACKOFF  # the second retry's sleep; the first retry does not sleep
SLACK = 1.0  # what a loaded machine may add to a gap (reading the answer, a new connection, scheduling)


class FixedToken:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("any-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> AccessTokenInfo:
        return AccessTokenInfo("any-token", int(time.time()) + 3600)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with Server(Emulator(), ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path)) as running:
        running.emulator.vault().secrets.set("s", "v")
        yield running


def _client(server: Server) -> SecretClient:
    return SecretClient(
        "https://kv-emulator.vault.azure.net",
        FixedToken(),  # type: ignore[arg-type]
        connection_verify=str(server.ca_path),
        proxies={"https": server.proxy_url},
        retry_backoff_factor=BACKOFF,
    )


def _calls_over_http(server: Server) -> list[dict[str, Any]]:
    answer = requests.get(f"{server.proxy_url}/_kv/journal/calls", params={"operation": "GetSecret"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_two_503s_record_the_gap_before_each_retry(server: Server) -> None:
    """Before: ``"delays": [0.0, 0.0]`` for a client that really slept between its retries."""
    server.emulator.faults.script("GetSecret", [503, 503, "ok"])
    assert _client(server).get_secret("s").value == "v"

    call = server.emulator.requests.calls("GetSecret")[-1]
    assert call.statuses == [503, 503, 200]
    challenge, first = call.attempts[:2]
    assert challenge.challenged and first.delay is None  # resent after the 401 at once, as in-process
    immediate, slept = call.delays
    assert 0.0 <= immediate < SLACK
    assert SLEPT <= slept < SLEPT + SLACK
    assert _calls_over_http(server)[-1]["delays"] == call.delays


def test_a_retry_on_a_new_connection_counts_from_the_dropped_one(server: Server) -> None:
    """After a dropped connection the retry comes through a new CONNECT and TLS handshake: still one call."""
    server.emulator.faults.script("GetSecret", [503, "connection_error", "ok"])
    assert _client(server).get_secret("s").value == "v"

    call = server.emulator.requests.calls("GetSecret")[-1]
    assert call.statuses == [503, 0, 200]
    immediate, slept = call.delays
    assert 0.0 <= immediate < SLACK
    assert SLEPT <= slept < SLEPT + SLACK


def test_after_an_injected_timeout_the_gap_includes_the_clients_read_timeout(tmp_path: Path) -> None:
    """The server cannot see when the client gave up waiting: it counts from the start of its silence."""
    options = ServerOptions(port=0, proxy_port=0, ephemeral=True, data_dir=tmp_path, fault_timeout=3.0)
    with Server(Emulator(), options) as server:
        server.emulator.vault().secrets.set("s", "v")
        server.emulator.faults.script("GetSecret", ["timeout", "ok"])
        assert _client(server).get_secret("s", read_timeout=0.3).value == "v"
        call = server.emulator.requests.calls("GetSecret")[-1]
        assert call.statuses == [0, 200]
        [gap] = call.delays  # azure-core retries a read timeout at once: the gap is the 0.3 s it waited
        assert 0.3 <= gap < 0.3 + SLACK


def test_in_process_the_journal_records_the_chosen_delay_exactly(keyvault) -> None:
    """The same client in-process: the sleep itself, not a measured gap."""
    keyvault.vault().secrets.set("s", "v")
    keyvault.faults.script("GetSecret", [503, 503, "ok"])
    client = SecretClient(keyvault.vault_url, keyvault.credential, retry_backoff_factor=BACKOFF)
    assert client.get_secret("s").value == "v"
    assert keyvault.requests.calls("GetSecret")[-1].delays == [0.0, SLEPT]


def test_a_cleared_journal_forgets_the_answers_too(server: Server) -> None:
    server.emulator.faults.script("GetSecret", [503, "ok"])
    client = _client(server)
    client.get_secret("s")
    server.emulator.requests.clear()
    assert server.emulator.requests.gap("any-id", time.monotonic()) is None
    assert server.emulator.requests.calls() == []
