"""Session mode from the first import: conftests that use Key Vault at import time, and pytest-xdist."""

from __future__ import annotations

import pytest
from tests_support import switch_on

# A conftest that talks to the vault while it is imported: without the emulator already running, this
# goes to the network ("Failed to resolve 'orders-prod.vault.azure.net'").
CONFTEST_AT_IMPORT = """
import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

class AppCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("app-token", 4102444800)

CLIENT = SecretClient("https://orders-prod.vault.azure.net", AppCredential(), retry_total=0)
CLIENT.set_secret("db-password", "set-at-import")
PASSWORD = CLIENT.get_secret("db-password").value

@pytest.fixture
def password():
    return PASSWORD
"""

TEST_READS_IT = """
def test_conftest_read_the_secret_at_import(password):
    assert password == "set-at-import"
"""


@pytest.mark.parametrize("how", ["cli", "env", "ini"])
def test_session_mode_is_active_while_conftest_is_imported(pytester, monkeypatch, how):
    pytester.makeconftest(CONFTEST_AT_IMPORT)
    pytester.makepyfile(TEST_READS_IT)
    args = switch_on(
        how,
        pytester,
        monkeypatch,
        flag="--kv-intercept=session",
        env=("PYTEST_KV_INTERCEPT", "session"),
        ini="kv_intercept = session",
    )
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)


def test_session_emulator_of_a_module_imported_at_collection_is_the_fixture_one(pytester):
    pytester.makeconftest(CONFTEST_AT_IMPORT)
    pytester.makepyfile(
        """
        def test_session_vault_holds_what_the_conftest_wrote(keyvault_session):
            vault = keyvault_session.vault("https://orders-prod.vault.azure.net")
            assert vault.secrets.get("db-password").payload.value == "set-at-import"
        """
    )
    pytester.runpytest("--kv-intercept=session").assert_outcomes(passed=1)


XDIST_TESTS = """
import os
from pathlib import Path

import kv_emulator
import pytest

@pytest.fixture(autouse=True)
def record(keyvault_session, password):
    assert password == "set-at-import"
    worker = os.environ["PYTEST_XDIST_WORKER"]
    active = kv_emulator.current() is keyvault_session
    line = f"{worker} {os.getpid()} {id(keyvault_session)} {active}\\n"
    with open(Path(os.environ["KV_RECORDS"]) / worker, "a") as out:
        out.write(line)

def test_a(): pass
def test_b(): pass
def test_c(): pass
def test_d(): pass
"""

CONTROLLER_PROBE = """

def pytest_sessionfinish(session):
    import os, kv_emulator
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        print("controller emulator:", kv_emulator.current())
"""


@pytest.mark.slow
def test_xdist_runs_one_emulator_per_worker_and_none_in_the_controller(pytester, monkeypatch):
    pytest.importorskip("xdist")
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this suite itself may run under xdist
    records = pytester.mkdir("records")
    monkeypatch.setenv("KV_RECORDS", str(records))
    pytester.makeconftest(CONFTEST_AT_IMPORT + CONTROLLER_PROBE)
    pytester.makepyfile(XDIST_TESTS)
    result = pytester.runpytest_subprocess("--kv-intercept=session", "-n", "2", "-s", "--dist=loadfile")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "kv-emulator: intercept=session (from command line), one emulator per xdist worker*",
            "*controller emulator: None",
        ]
    )
    seen: dict[str, set[tuple[str, str]]] = {}
    for path in records.iterdir():
        for line in path.read_text().splitlines():
            worker, pid, emulator, active = line.split()
            assert active == "True"
            seen.setdefault(worker, set()).add((pid, emulator))
    assert all(len(pairs) == 1 for pairs in seen.values()), seen  # one emulator per worker


# -- seed files ---------------------------------------------------------------------------------------

SEED = """
[vaults.orders-prod.secrets]
db-password = "from-the-seed"
"""

CONFTEST_READS_SEED = """
import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

class AppCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken("app-token", 4102444800)

PASSWORD = SecretClient("https://orders-prod.vault.azure.net", AppCredential(), retry_total=0).get_secret(
    "db-password"
).value

@pytest.fixture
def password():
    return PASSWORD
"""


@pytest.mark.parametrize("seed_from", ["cli", "env", "ini"])
@pytest.mark.parametrize("session_from", ["cli", "env", "ini"])
def test_a_conftest_reads_a_seeded_secret_at_import(pytester, monkeypatch, session_from, seed_from):
    pytester.makefile(".toml", seed=SEED)
    pytester.makeconftest(CONFTEST_READS_SEED)
    pytester.makepyfile(
        """
        def test_it(password, keyvault_session):
            assert password == "from-the-seed"
        """
    )
    args, ini = [], []
    if session_from == "cli":
        args.append("--kv-intercept=session")
    elif session_from == "env":
        monkeypatch.setenv("PYTEST_KV_INTERCEPT", "session")
    else:
        ini.append("kv_intercept = session")
    if seed_from == "cli":
        args.append("--kv-seed=seed.toml")
    elif seed_from == "env":
        monkeypatch.setenv("PYTEST_KV_SEED", "seed.toml")
    else:
        ini.append("kv_seed = seed.toml")
    if ini:
        pytester.makeini("[pytest]\n" + "\n".join(ini) + "\n")
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=1)
    sources = {"cli": "command line", "env": "PYTEST_KV_INTERCEPT", "ini": "ini"}
    seeds = {"cli": "--kv-seed", "env": "PYTEST_KV_SEED", "ini": "kv_seed"}
    header = f"kv-emulator: intercept=session (from {sources[session_from]}), vault *"
    result.stdout.fnmatch_lines([f"{header}, seed *seed.toml (from {seeds[seed_from]})"])


def test_every_fixture_emulator_starts_seeded(pytester):
    pytester.makefile(".toml", seed=SEED)
    pytester.makeini("[pytest]\nkv_seed = seed.toml\n")
    pytester.makepyfile(
        """
        from azure.keyvault.secrets import SecretClient

        def test_one(keyvault):
            client = SecretClient("https://orders-prod.vault.azure.net", keyvault.credential)
            assert client.get_secret("db-password").value == "from-the-seed"
            client.set_secret("db-password", "changed")

        def test_two(keyvault):
            client = SecretClient("https://orders-prod.vault.azure.net", keyvault.credential)
            assert client.get_secret("db-password").value == "from-the-seed"
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_bad_seed_fails_at_start_with_the_file_and_the_path(pytester):
    pytester.makefile(".toml", seed='[vaults.orders-prod.secrets.db-password]\nvalue = "x"\nexpires = "soon"\n')
    pytester.makeconftest(CONFTEST_READS_SEED)
    pytester.makepyfile("def test_never_runs():\n    pass\n")
    result = pytester.runpytest("--kv-intercept=session", "--kv-seed=seed.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*kv-emulator seed *seed.toml (from --kv-seed): 1 problem(s):*",
            "*vaults.orders-prod.secrets.db-password.expires: not a date-time: 'soon'*",
        ]
    )


def test_without_session_mode_the_conftest_would_reach_the_network(pytester):
    """The control: the same conftest fails at import when session mode is off (guarded, so offline)."""
    pytester.makeconftest(CONFTEST_AT_IMPORT)
    pytester.makepyfile(TEST_READS_IT)
    result = pytester.runpytest("--kv-guard")
    assert result.ret != 0
    output = result.stdout.str() + result.stderr.str()
    assert "kv-emulator is not active for https://orders-prod.vault.azure.net/secrets/db-password" in output


def test_a_session_mode_failure_report_shows_only_that_tests_requests(pytester):
    pytester.makepyfile(
        """
        from azure.core.credentials import AccessToken
        from azure.keyvault.secrets import SecretClient

        class AppCredential:
            def get_token(self, *scopes, **kwargs):
                return AccessToken("app-token", 4102444800)

        def client():
            return SecretClient("https://orders-app.vault.azure.net", AppCredential())

        def test_earlier_passes():
            for i in range(5):
                client().set_secret(f"earlier-{i}", "v")

        def test_fails():
            client().set_secret("mine", "v")
            assert client().get_secret("mine").value == "something else"
        """
    )
    result = pytester.runpytest("--kv-intercept=session", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    section = output[output.index("kv-emulator requests (this test)") :]
    assert "secrets/earlier-" not in section
    result.stdout.fnmatch_lines(
        [
            "*kv-emulator requests (this test)*",
            "PUT https://orders-app.vault.azure.net/secrets/mine?api-version=* -> 200 *SetSecret*",
            "GET https://orders-app.vault.azure.net/secrets/mine/?api-version=* -> 200 *GetSecret*",
            "(* earlier request(s) of the session not shown)",
        ]
    )
