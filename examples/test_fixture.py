"""The ``keyvault`` fixture: a fresh, started emulator for each test.

Run with ``python -m pytest examples/test_fixture.py``. The plugin is registered when kv-emulator is
installed; there is nothing to import for the fixture.
"""

from __future__ import annotations

from datetime import datetime, timezone

from azure.keyvault.secrets import SecretClient


def test_reads_password(keyvault):  # a fresh vault per test
    keyvault.vault().secrets.set("db-password", "hunter2")  # seed without HTTP (optional)
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert client.get_secret("db-password").value == "hunter2"


def test_the_default_vault(keyvault):
    assert keyvault.vault_url == "https://kv-emulator.vault.azure.net"
    assert keyvault.vault().url == keyvault.vault_url
    assert keyvault.vault().name == "kv-emulator"


def test_inspect_what_the_code_under_test_wrote(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("api-key", "abc123", content_type="text/plain")

    stored = keyvault.vault().secrets.get("api-key")  # the latest version, read without HTTP
    assert stored.payload.value == "abc123"
    assert stored.payload.content_type == "text/plain"
    assert stored.attributes.enabled is True
    assert "api-key" in keyvault.vault().secrets
    assert list(keyvault.vault().secrets) == ["api-key"]


def test_the_request_journal(keyvault):
    # A vault host no other test uses: the SDK caches the 401 challenge per host for the whole process,
    # so only the first client to talk to a host is challenged.
    client = SecretClient("https://journal-demo.vault.azure.net", keyvault.credential)
    client.set_secret("a", "1")
    client.get_secret("a")

    # Spec operation names, in order. The bodiless 401 challenge is left out unless asked for.
    assert keyvault.requests.operations() == ["SetSecret", "GetSecret"]
    assert keyvault.requests.operations(include_challenges=True) == [None, "SetSecret", "GetSecret"]
    assert keyvault.requests[0].challenged
    assert keyvault.requests[0].status == 401

    last = keyvault.requests.last
    assert last is not None
    assert (last.method, last.operation, last.status) == ("GET", "GetSecret", 200)
    assert last.vault == "journal-demo.vault.azure.net"
    assert last.api_version == "2026-04-01"
    assert last.client_request_id  # the SDK's x-ms-client-request-id, echoed in the response

    assert [e.operation for e in keyvault.requests.filter(status=200)] == ["SetSecret", "GetSecret"]
    assert keyvault.requests.filter("GetSecret")[0].url.endswith("/secrets/a/?api-version=2026-04-01")
    assert keyvault.requests.internal_errors() == []  # no emulator bug (500) in this test
    assert "GET https://journal-demo.vault.azure.net/secrets/a/?api-version=2026-04-01 -> 200 [GetSecret]" in (
        keyvault.requests.format()
    )


def test_any_vault_host_is_a_vault(keyvault):
    other = SecretClient("https://billing-prod.vault.azure.net", keyvault.credential)
    other.set_secret("token", "t0ps3cret")

    # vault() takes a name or a URL; ids echo the host the client used.
    assert keyvault.vault("billing-prod").secrets.get("token").payload.value == "t0ps3cret"
    assert keyvault.vault("https://billing-prod.vault.azure.net").name == "billing-prod"
    assert other.get_secret("token").id.startswith("https://billing-prod.vault.azure.net/secrets/token/")
    assert "token" not in keyvault.vault().secrets  # the default vault is another vault


def test_the_clock(keyvault):
    frozen = keyvault.clock.freeze(datetime(2030, 1, 1, tzinfo=timezone.utc))
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    secret = client.set_secret("a", "1")
    assert secret.properties.created_on == frozen

    later = keyvault.clock.advance(days=1, hours=2)  # or advance(timedelta(...)), or advance(seconds)
    updated = client.update_secret_properties("a", tags={"touched": "yes"})
    assert updated.updated_on == later
    assert keyvault.clock.now() == datetime(2030, 1, 2, 2, 0, tzinfo=timezone.utc)


def test_reset(keyvault):
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    client.set_secret("a", "1")

    keyvault.reset()  # forget every vault, secret and journal entry; the clock runs in real time again

    assert len(keyvault.requests) == 0
    assert keyvault.vaults == []
    assert [p.name for p in client.list_properties_of_secrets()] == []
