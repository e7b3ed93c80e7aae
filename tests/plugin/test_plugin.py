"""The pytest plugin: fixture, marker, session mode and reporting, run in a pytester sandbox."""

from __future__ import annotations

import pytest
from tests_support import switch_on

USES_OWN_CLIENT = """
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient

class AppCredential:
    # Stands in for the credential an application builds for itself.
    def get_token(self, *scopes, **kwargs):
        return AccessToken("app-token", 4102444800)

def app_client():
    return SecretClient("https://app-vault.vault.azure.net", AppCredential())

def test_first_stores_the_password():
    app_client().set_secret("db-password", "stored-by-test-first")

def test_second_sees_the_same_session_vault():
    # Only a vault shared by the session has it: a vault per test would answer 404 (ResourceNotFoundError).
    assert app_client().get_secret("db-password").value == "stored-by-test-first"
"""


def test_fixture_is_fresh_per_test(pytester):
    pytester.makepyfile(
        """
        from azure.keyvault.secrets import SecretClient

        def test_one(keyvault):
            SecretClient(keyvault.vault_url, keyvault.credential).set_secret("s", "v")
            assert "s" in keyvault.vault().secrets

        def test_two(keyvault):
            assert list(keyvault.vault().secrets) == []
            assert len(keyvault.requests) == 0
        """
    )
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_marker_configures_the_fixture(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.keyvault(soft_delete_retention_in_days=7, enable_purge_protection=True, sku="standard")
        def test_marked(keyvault):
            s = keyvault.settings
            assert (s.soft_delete_retention_in_days, s.enable_purge_protection, s.sku) == (7, True, "standard")

        @pytest.mark.keyvault(enable_soft_delete=False)
        class TestClass:
            @pytest.mark.keyvault(strict_api_version=True)
            def test_closest_marker_wins_and_merges(self, keyvault):
                assert keyvault.settings.enable_soft_delete is False
                assert keyvault.settings.strict_api_version is True

        def test_unmarked(keyvault):
            assert keyvault.settings.soft_delete_retention_in_days == 90
        """
    )
    pytester.runpytest().assert_outcomes(passed=3)


def test_bad_marker_option_is_a_clear_error(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.keyvault(soft_delete_days=7)
        def test_typo(keyvault):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown kv-emulator option(s): soft_delete_days*"])


def test_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.keyvault(**options)*"])


@pytest.mark.parametrize("how", ["cli", "env", "ini"])
def test_session_mode_emulates_for_code_that_builds_its_own_client(pytester, monkeypatch, how):
    pytester.makepyfile(USES_OWN_CLIENT)
    args = switch_on(
        how,
        pytester,
        monkeypatch,
        flag="--kv-intercept=session",
        env=("PYTEST_KV_INTERCEPT", "session"),
        ini="kv_intercept = session",
    )
    result = pytester.runpytest("-p", "no:randomly", *args)  # in file order: the first test writes
    result.assert_outcomes(passed=2)
    source = {"cli": "command line", "env": "PYTEST_KV_INTERCEPT", "ini": "ini"}[how]
    result.stdout.fnmatch_lines([f"kv-emulator: intercept=session (from {source}), vault https://kv-emulator.*"])


def test_command_line_beats_environment(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_KV_INTERCEPT", "session")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("--kv-intercept=off")
    result.stdout.fnmatch_lines(["kv-emulator: intercept=off (from command line)"])


def test_session_settings_from_ini(pytester):
    pytester.makeini(
        """
        [pytest]
        kv_intercept = session
        kv_settings =
            soft_delete_retention_in_days = 7
            vault_name = ci-vault
        """
    )
    pytester.makepyfile(
        """
        from azure.keyvault.secrets import SecretClient

        def test_session(keyvault_session):
            assert keyvault_session.vault_url == "https://ci-vault.vault.azure.net"
            client = SecretClient(keyvault_session.vault_url, keyvault_session.credential)
            assert client.set_secret("s", "v").properties.recoverable_days == 7

        def test_fixture_uses_ini_settings_too(keyvault):
            assert keyvault.settings.soft_delete_retention_in_days == 7
        """
    )
    pytester.runpytest().assert_outcomes(passed=2)


def test_bad_env_value_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_KV_INTERCEPT", "always")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PYTEST_KV_INTERCEPT must be one of off, session*"])


def test_session_fixture_skips_when_session_mode_is_off(pytester):
    pytester.makepyfile("def test_needs_session(keyvault_session):\n    pass\n")
    pytester.runpytest().assert_outcomes(skipped=1)


def test_failure_report_shows_the_journal(pytester):
    pytester.makepyfile(
        """
        from azure.keyvault.secrets import SecretClient

        def test_fails(keyvault):
            client = SecretClient(keyvault.vault_url, keyvault.credential)
            client.set_secret("s", "v")
            assert client.get_secret("s").value == "something else"
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*kv-emulator requests*",
            "PUT https://kv-emulator.vault.azure.net/secrets/s?api-version=* -> 401 Unauthorized *",
            "PUT https://kv-emulator.vault.azure.net/secrets/s?api-version=* -> 200 *SetSecret*",
            "GET https://kv-emulator.vault.azure.net/secrets/s/?api-version=* -> 200 *GetSecret*",
        ]
    )
