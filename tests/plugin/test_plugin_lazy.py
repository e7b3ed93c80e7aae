"""The plugin is lazy: a run that uses none of it never imports kv_emulator (or the Azure SDK through it)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

PROBE = """
import sys

def pytest_sessionfinish(session):
    print("kv_emulator loaded:", "kv_emulator" in sys.modules, "cryptography loaded:", "cryptography" in sys.modules)
"""


@pytest.fixture(autouse=True)
def _clean_environment(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:asyncio")
    for name in ("PYTEST_KV_INTERCEPT", "PYTEST_KV_SEED", "PYTEST_KV_GUARD"):
        monkeypatch.delenv(name, raising=False)


def test_a_run_that_does_not_use_the_plugin_does_not_import_kv_emulator(pytester):
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*kv_emulator loaded: False cryptography loaded: False*"])


@pytest.mark.parametrize(
    "args",
    [pytest.param(["--kv-intercept=session"], id="session"), pytest.param(["--kv-guard"], id="guard")],
)
def test_session_mode_or_the_guard_imports_it(pytester, args):
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest_subprocess("-s", *args)
    result.stdout.fnmatch_lines(["*kv_emulator loaded: True*"])


def test_the_fixture_imports_it_when_a_test_asks(pytester):
    pytester.makeconftest(PROBE)
    pytester.makepyfile("def test_uses(keyvault):\n    assert keyvault.started\n")
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*kv_emulator loaded: True*"])
