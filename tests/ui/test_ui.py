"""The web view at ``/_kv/ui/`` (issue 24, item 1), through its WSGI interface: what both ports serve.

These pages are the emulator's own (no Azure counterpart): what is checked is that they show the state
and the journal as the in-process API holds them, page large vaults and journals quickly, never carry a
secret value unless asked, run controls through the management API's handlers, and follow the admin-token
rule of ``/_kv/``. ``tests/ui/test_ui_browser.py`` drives the same pages in Chromium.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.keyvault.secrets import SecretClient
from werkzeug.test import Client

import kv_emulator
from kv_emulator.http.journal import JournalEntry
from kv_emulator.server import Server, ServerOptions

UI = "/_kv/ui"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    emulator = kv_emulator.Emulator().start()
    try:
        yield Server(emulator, ServerOptions(data_dir=tmp_path, ephemeral=True, port=0, proxy_port=0))
    finally:
        emulator.stop()


def get(server: Server, path: str, **kwargs: Any) -> tuple[int, str]:
    answer = Client(server.management).get(f"{UI}{path}", **kwargs)
    return answer.status_code, answer.get_data(as_text=True)


def csrf(server: Server) -> str:
    return server.management.ui.csrf


def post(server: Server, action: str, **form: str) -> tuple[int, str]:
    answer = Client(server.management).post(f"{UI}/do/{action}", data={"csrf": csrf(server), **form})
    return answer.status_code, answer.get_data(as_text=True)


def test_the_overview_counts_each_vaults_objects(server: Server) -> None:
    vault = server.emulator.vault()
    for name in ("a", "b", "c"):
        vault.secrets.set(name, "v")
    vault.secrets.delete("c")
    vault.keys.create("k", "EC")
    server.emulator.create_vault("other")
    status, page = get(server, "/")
    assert status == 200
    row = re.search(r"<tr><td><a href='/_kv/ui/vaults/kv-emulator'>.*?</tr>", page)
    assert row is not None
    assert re.findall(r"<td>(\d+)</td>", row.group(0)) == ["2", "1", "0", "1"]  # secrets, keys, certs, deleted
    assert "/_kv/ui/vaults/other" in page and "running" in page and "No faults." in page


def test_a_vault_shows_objects_versions_tags_and_deleted_state(server: Server) -> None:
    vault = server.emulator.vault()
    vault.secrets.set("db", "first", tags={"env": "ci"})
    vault.secrets.set("db", "second")
    vault.secrets.set("old", "x")
    vault.secrets.delete("old")
    _, page = get(server, "/vaults/kv-emulator")
    assert "retention (days)" in page and "access policies" in page
    assert re.search(r">db</a>.*?<td>2</td>", page)
    _, deleted = get(server, "/vaults/kv-emulator?kind=secrets&deleted=1")
    assert "class='deleted'>old<" in deleted
    _, item = get(server, "/vaults/kv-emulator/secrets/db")
    assert item.count("show value") == 2 and item.count("env=ci") == 1  # tags are per version: the first's
    assert item.index("env=ci") > item.index("show value")  # newest first: the tagged first version is last
    assert "first" not in item and "second" not in item


def test_secret_values_appear_only_when_asked_for(server: Server) -> None:
    vault = server.emulator.vault()
    version = vault.secrets.set("pw", "hunter2-value").version
    for path in ("/", "/vaults/kv-emulator", "/vaults/kv-emulator/secrets/pw", "/calls", "/activity", "/controls"):
        assert "hunter2-value" not in get(server, path)[1], path
    status, value = get(server, f"/vaults/kv-emulator/secrets/pw/value?version={version}")
    assert (status, value) == (200, "hunter2-value")


def test_ten_thousand_objects_are_paged_quickly(server: Server) -> None:
    vault = server.emulator.vault()
    for i in range(10_000):
        vault.secrets.set(f"s-{i:05d}", "v")
    started = time.perf_counter()
    status, page = get(server, "/vaults/kv-emulator")
    first = time.perf_counter() - started
    assert status == 200 and page.count("<tr><td><a href='/_kv/ui/vaults/kv-emulator/secrets/") == 50
    following = re.search(r"href='\?([^']*)' class='next'", page)
    assert following is not None
    started = time.perf_counter()
    _, second = get(server, "/vaults/kv-emulator?" + following.group(1).replace("&amp;", "&"))
    later = time.perf_counter() - started
    assert ">s-00050</a>" in second and ">s-00049</a>" not in second
    _, found = get(server, "/vaults/kv-emulator?kind=secrets&q=s-0999")
    assert found.count("<tr><td><a") == 10
    started = time.perf_counter()
    get(server, "/")
    overview = time.perf_counter() - started
    print(
        f"\n10,000 secrets: vault page {first * 1000:.0f} ms, next page {later * 1000:.0f} ms, "
        f"overview {overview * 1000:.0f} ms"
    )
    assert first < 1.0 and later < 1.0 and overview < 1.0


def test_ten_thousand_journal_entries_are_paged_quickly(server: Server) -> None:
    journal = server.emulator.requests
    for i in range(10_000):
        journal.record(
            JournalEntry(
                "GET",
                "https://kv-emulator.vault.azure.net/secrets/a",
                "kv-emulator.vault.azure.net",
                operation="GetSecret",
                status=503 if i % 3 else 200,
                client_request_id=f"c{i // 3}",
                time=1000.0 + i,
                duration=0.01,
            )
        )
    started = time.perf_counter()
    status, page = get(server, "/calls")
    calls = time.perf_counter() - started
    assert status == 200 and page.count("<svg") == 20 and "page 1 of 167" in page
    started = time.perf_counter()
    _, activity = get(server, "/activity?page=2")
    audit = time.perf_counter() - started
    assert "page 2 of 100" in activity
    print(f"\n10,000 journal entries: calls page {calls * 1000:.0f} ms, audit page {audit * 1000:.0f} ms")
    assert calls < 1.5 and audit < 1.5


def test_two_503s_are_drawn_as_three_attempts_and_two_delays(server: Server) -> None:
    emulator = server.emulator
    emulator.faults.add(503, operation="GetSecret", times=2)
    emulator.vault().secrets.set("db", "v")
    client = SecretClient(emulator.vault_url, emulator.credential)
    client.get_secret("db")
    _, page = get(server, "/calls?operation=GetSecret")
    block = re.search(r"<div class=\"call\" data-attempts=\"(\d)\">.*?</svg>", page, re.S)
    assert block is not None and block.group(1) == "3"
    assert block.group(0).count('class="attempt server"') == 2 and block.group(0).count('class="attempt ok"') == 1
    assert block.group(0).count('class="delay"') == 2 and "statuses: 503, 503, 200" in block.group(0)
    _, filtered = get(server, "/calls?status=fault")
    assert "No calls." in filtered


def test_a_throttled_call_shows_retry_after_and_its_window(server: Server) -> None:
    emulator = server.emulator
    emulator.throttle(limits={"secret-create": 1}, retry_after=11)
    client = SecretClient(emulator.vault_url, emulator.credential)
    client.set_secret("a", "1")
    emulator.clock.virtual = True
    client.set_secret("b", "2")  # 429 with Retry-After: 11, then the SDK waits it out (virtually) and succeeds
    _, page = get(server, "/calls?status=throttled")
    assert 'class="attempt throttled"' in page and "Retry-After 11 s" in page
    assert "throttling window (secret-create): used of 1 per 10 s" in page and "1/1" in page


def test_controls_run_the_management_handlers(server: Server) -> None:
    vault = server.emulator.vault()
    vault.secrets.set("gone", "x")
    vault.secrets.delete("gone")
    assert post(server, "clock-advance", days="91")[0] == 303
    assert "gone" not in [d.obj.name for d in vault.secrets.list_deleted()]
    status, page = post(server, "faults-add", status="999")
    assert status == 400 and "must be an HTTP status from 400 to 599" in page
    assert post(server, "faults-add", status="503", operation="GetSecret", times="2")[0] == 303
    assert [(f.status, f.operation, f.times) for f in server.emulator.faults] == [(503, "GetSecret", 2)]
    post(server, "clock-freeze")
    assert server.emulator.clock.frozen
    post(server, "throttling", enabled="on", scale="0.5")
    assert server.emulator.settings.throttling and server.emulator.settings.throttle_scale == 0.5
    post(server, "reset")
    assert not list(server.emulator.faults) and not server.emulator.clock.frozen


def test_a_form_without_this_servers_token_is_refused(server: Server) -> None:
    answer = Client(server.management).post(f"{UI}/do/reset", data={"csrf": "forged"})
    assert answer.status_code == 403 and "another site" in answer.get_data(as_text=True)
    assert Client(server.management).post(f"{UI}/do/nothing", data={"csrf": csrf(server)}).status_code == 404


def test_on_loopback_only_localhost_names_are_answered(server: Server) -> None:
    """Without an admin token a page addressed to another name (DNS rebinding) is refused."""
    assert get(server, "/", headers={"Host": "127.0.0.1:8444"})[0] == 200
    assert get(server, "/", headers={"Host": "evil.example:8444"})[0] == 403


def test_off_loopback_the_view_needs_the_admin_token(tmp_path: Path) -> None:
    open_options = ServerOptions(host="0.0.0.0", data_dir=tmp_path, ephemeral=True, port=0, proxy_port=0)
    status, page = get(Server(kv_emulator.Emulator(), open_options), "/")
    assert status == 403 and "needs --admin-token" in page
    options = ServerOptions(
        host="0.0.0.0", data_dir=tmp_path, ephemeral=True, port=0, proxy_port=0, admin_token="s3cret"
    )
    server = Server(kv_emulator.Emulator(), options)
    status, page = get(server, "/")
    assert status == 403 and "name='token'" in page
    assert get(server, "/", headers={"Authorization": "Bearer s3cret"})[0] == 200
    client = Client(server.management)
    assert client.post(f"{UI}/login", data={"token": "wrong"}).status_code == 403
    login = client.post(f"{UI}/login", data={"token": "s3cret"})
    assert login.status_code == 303 and "HttpOnly" in login.headers["Set-Cookie"]
    assert "s3cret" not in login.headers["Set-Cookie"]
    assert client.get(f"{UI}/").status_code == 200  # the cookie now


def test_the_timeline_draws_a_connection_fault_and_measured_waits() -> None:
    """A failed transport (status 0) is drawn as a fault; a wait the client did not report is measured."""
    from kv_emulator.report.svg import timeline, waits

    host = "kv-emulator.vault.azure.net"
    attempts = [
        JournalEntry("GET", f"https://{host}/secrets/a", host, status=0, injected="connection_error", time=10.0),
        JournalEntry("GET", f"https://{host}/secrets/a", host, status=200, time=10.5, duration=0.01),
    ]
    svg = timeline(attempts, label="GetSecret")
    assert 'class="attempt fault"' in svg and 'class="attempt ok"' in svg and "connection_error" in svg
    assert waits(attempts) == [0.5] and "waited 500 ms" in svg
    assert "<script" not in svg and 'aria-label="GetSecret"' in svg


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/vaults/nope", 404),
        ("/vaults/kv-emulator?kind=bogus", 404),
        ("/vaults/kv-emulator/bogus/x", 404),
        ("/vaults/kv-emulator/secrets/missing", 404),
        ("/vaults/kv-emulator/secrets/missing/value", 404),
        ("/vaults/kv-emulator?start=%00%ff&q=%c3%28", 200),
        ("/calls?page=-3&status=%00", 200),
        ("/activity?page=x", 200),
        ("/nothing", 404),
    ],
)
def test_bad_addresses_get_a_page_not_a_traceback(server: Server, path: str, status: int) -> None:
    server.emulator.vault()
    answer_status, page = get(server, path)
    assert answer_status == status and "Traceback" not in page and "<html" in page


def test_keys_certificates_operations_issuers_and_access_are_shown(server: Server) -> None:
    vault = server.emulator.vault()
    vault.keys.create("signing", "RSA", size=2048)
    vault.certificates.create("site")
    vault.certificates.issuers.set("digicert", "DigiCert", account_id="acct-1", password="issuer-password")
    vault.certificates.create("pending", {"issuer": {"name": "Unknown"}, "x509_props": {"subject": "CN=p"}})
    vault.authorization.set_access_policy("00000000-0000-0000-0000-0000000000aa", secrets=["get", "list"])
    _, keys = get(server, "/vaults/kv-emulator?kind=keys")
    assert ">signing</a>" in keys and "RSA 2048" in keys
    _, certificates = get(server, "/vaults/kv-emulator?kind=certificates")
    assert ">site</a>" in certificates and "x5t " in certificates
    assert '<table class="operations">' in certificates and '<table class="issuers">' in certificates
    assert "inProgress" in certificates and "digicert" in certificates and "acct-1" in certificates
    assert "issuer-password" not in certificates
    assert "00000000-0000-0000-0000-0000000000aa" in certificates and "get, list" in certificates
    _, key_page = get(server, "/vaults/kv-emulator/keys/signing")
    assert "RSA 2048" in key_page and "show value" not in key_page
    _, certificate_page = get(server, "/vaults/kv-emulator/certificates/site")
    assert "x5t " in certificate_page and "BEGIN" not in certificate_page


def test_audit_entries_events_and_subscriptions_are_listed(server: Server) -> None:
    emulator = server.emulator
    received: list[dict[str, Any]] = []
    emulator.events.subscribe(received.append, name="rotation")
    SecretClient(emulator.vault_url, emulator.credential).set_secret("db", "v")
    _, page = get(server, "/activity")
    assert "SetSecret" in page and "1 published" in page and "Microsoft.KeyVault.SecretNewVersionCreated" in page
    assert "subscription rotation" in page and "received 1, dead letters 0" in page


def test_dead_letters_are_shown_with_their_reason() -> None:
    from kv_emulator.report.html import subscriptions_html

    class Dead:
        def to_dict(self, *, events: bool = False) -> dict[str, Any]:
            letter = {
                "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
                "subject": "db",
                "deadLetterReason": "MaxDeliveryAttemptsExceeded",
                "deliveryAttempts": 30,
            }
            return {"name": "hook", "endpoint": "http://127.0.0.1:1/x", "received": [], "dead_letters": [letter]}

    html = subscriptions_html([Dead()])
    assert "dead letters 1" in html and "MaxDeliveryAttemptsExceeded" in html and "<td>30</td>" in html
