"""The web view and the test reports in a real browser (issue 24, item 3): headless Chromium via Playwright.

The emulator runs as a server on loopback (``kv_emulator.serve``); the Azure SDK seeds it through the proxy,
as an application would, and the browser uses ``/_kv/ui/`` like a person: finds the secret, advances the
clock from the Controls page and sees the deleted secret purged, adds two 503 faults and sees the call's
timeline draw three attempts and two delays, and opens a report file written by a failing test.

Chromium is Debian's package (``.ci/run`` installs it): Playwright's own browser download is not used.
Set ``KV_UI_SCREENSHOTS=docs/img`` to refresh the pictures of docs/ui.md from these tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")
if not Path(CHROMIUM).exists():  # pragma: no cover - .ci/run installs it
    pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run does)", allow_module_level=True)

from azure.keyvault.secrets import SecretClient  # noqa: E402

import kv_emulator  # noqa: E402
from kv_emulator.server import Server  # noqa: E402

pytestmark = pytest.mark.slow

UI = "/_kv/ui"
#: Where the screenshots go: resolved now, before pytester moves the working directory.
SHOTS = Path(os.environ["KV_UI_SCREENSHOTS"]).resolve() if os.environ.get("KV_UI_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 720})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with kv_emulator.serve(str(tmp_path)) as running:
        yield running


def client(server: Server) -> SecretClient:
    """The SDK through the server's proxy, with the real vault URL (what an application does)."""
    return SecretClient(
        server.vault_url,
        server.emulator.credential,
        proxies={"https": server.proxy_url},
        connection_verify=str(server.ca_path),
    )


def screenshot(page: Any, name: str, tmp_path: Path, selector: str | None = None) -> None:
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    target = page.locator(selector).first if selector else page
    target.screenshot(path=str(folder / name))


def test_find_a_secret_then_purge_a_deleted_one_from_the_controls(page: Any, server: Server, tmp_path: Path) -> None:
    sdk = client(server)
    sdk.set_secret("db-password", "hunter2", tags={"env": "ci"})
    sdk.set_secret("old-token", "x")
    sdk.begin_delete_secret("old-token").wait()
    page.goto(f"{server.proxy_url}{UI}/")
    page.get_by_role("link", name="kv-emulator").click()
    row = page.locator("table.objects tr", has_text="db-password")
    assert row.count() == 1 and "env=ci" in row.inner_text()
    assert "hunter2" not in page.content()
    row.get_by_role("link", name="db-password").click()
    page.get_by_role("link", name="show value").click()
    assert page.locator(".secret-value").inner_text() == "hunter2"
    page.goto(f"{server.proxy_url}{UI}/vaults/kv-emulator?kind=secrets&deleted=1")
    assert page.locator("table.objects", has_text="old-token").count() == 1
    screenshot(page, "ui-vault.png", tmp_path)
    page.get_by_role("link", name="Controls").click()
    page.locator("form[data-action='clock-advance'] input[name='days']").fill("91")
    page.locator("form[data-action='clock-advance'] button").click()
    assert "done: clock-advance" in page.locator("p.notice").inner_text()
    page.goto(f"{server.proxy_url}{UI}/vaults/kv-emulator?kind=secrets&deleted=1")
    assert "old-token" not in page.content() and "None." in page.inner_text("main")


def test_the_view_answers_on_both_ports(server: Server) -> None:
    import requests

    direct = requests.get(f"{server.url}{UI}/", verify=str(server.ca_path), timeout=10)
    proxy = requests.get(f"{server.proxy_url}{UI}/", timeout=10)
    assert direct.status_code == proxy.status_code == 200 and "Vaults and Managed HSMs" in direct.text


def test_two_503s_are_three_attempts_and_two_delays_and_the_page_keeps_up(
    page: Any, server: Server, tmp_path: Path
) -> None:
    sdk = client(server)
    sdk.set_secret("db-password", "hunter2")
    page.goto(f"{server.proxy_url}{UI}/controls")
    form = page.locator("form[data-action='faults-add']")
    form.locator("input[name='status']").fill("503")
    form.locator("input[name='operation']").fill("GetSecret")
    form.locator("input[name='times']").fill("2")
    form.locator("button").click()
    assert page.locator("table.faults", has_text="GetSecret").count() == 1
    page.goto(f"{server.proxy_url}{UI}/calls?operation=GetSecret")
    assert "No calls." in page.inner_text("main")
    assert sdk.get_secret("db-password").value == "hunter2"  # two 503s, then 200 after the SDK's retries
    call = page.locator("div.call[data-attempts='3']")
    call.wait_for(timeout=10_000)  # no reload: the page's script saw the journal grow
    timeline = call.locator("svg.timeline")
    assert timeline.is_visible()
    assert timeline.locator("g.attempt.server").count() == 2 and timeline.locator("g.attempt.ok").count() == 1
    delays = timeline.locator("g.delay")
    assert delays.count() == 2 and all((text or "").startswith("waited") for text in delays.all_text_contents())
    screenshot(page, "ui-calls.png", tmp_path, "div.call")


def test_a_report_file_of_a_failing_test_opens_without_script(
    browser: Any, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:asyncio")
    pytester.makepyfile(
        test_app="""
from azure.keyvault.secrets import SecretClient

def test_reads_after_two_503s(keyvault):
    keyvault.faults.add(503, operation="GetSecret", times=2)
    keyvault.vault().secrets.set("db", "v")
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert client.get_secret("db").properties.enabled is False
"""
    )
    pytester.runpytest("--kv-report=reports").assert_outcomes(failed=1)
    report = pytester.path / "reports" / "test_app.py_test_reads_after_two_503s.html"
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 720})
    try:
        page = context.new_page()
        page.goto(report.as_uri())
        assert page.locator("strong.outcome").inner_text() == "failed"
        call = page.locator("div.call[data-attempts='3']")
        assert call.locator("svg.timeline").is_visible()
        assert call.locator("g.attempt.server").count() == 2 and call.locator("g.delay").count() == 2
        screenshot(page, "report.png", tmp_path)
    finally:
        context.close()
