"""``pytest --kv-report=DIR`` (issue 24, item 2): one self-contained HTML file per failing test.

The file shows the test's calls as SVG timelines (the same drawing as the web view), its audit entries
and events; the failure report names it, so CI can upload the folder. Run in a pytester sandbox.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

RETRIED_THEN_FAILS = """
from azure.keyvault.secrets import SecretClient

def test_reads_after_two_503s(keyvault):
    keyvault.faults.add(503, operation="GetSecret", times=2)
    keyvault.vault().secrets.set("db", "hunter" + "2")  # the value itself appears nowhere in the source
    client = SecretClient(keyvault.vault_url, keyvault.credential)
    assert client.get_secret("db").properties.enabled is False

def test_passes(keyvault):
    keyvault.vault().secrets.set("x", "y")
"""


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.html")) if directory.exists() else []


def test_a_failing_test_gets_a_file_named_in_its_failure_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=RETRIED_THEN_FAILS)
    result = pytester.runpytest("--kv-report=reports")
    result.assert_outcomes(passed=1, failed=1)
    reports = pytester.path / "reports"
    assert _files(reports) == ["test_app.py_test_reads_after_two_503s.html"]
    result.stdout.fnmatch_lines(["*kv-emulator report*", f"*{reports / 'test_app.py_test_reads_after_two_503s.html'}*"])
    page = (reports / "test_app.py_test_reads_after_two_503s.html").read_text()
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    block = re.search(r'<div class="call" data-attempts="3">.*?</svg>', page, re.S)
    assert block is not None, "the GetSecret call with its three attempts"
    assert block.group(0).count('class="attempt server"') == 2 and block.group(0).count('class="delay"') == 2
    assert "GetSecret" in page and "SetSecret" not in page  # seeded directly: no request
    assert "hunter2" not in page  # the journal never holds values
    assert "AssertionError" in page and "<h2>Audit log</h2>" in page


def test_every_test_with_report_all_and_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_app=RETRIED_THEN_FAILS)
    monkeypatch.setenv("PYTEST_KV_REPORT", "out")
    monkeypatch.setenv("PYTEST_KV_REPORT_ALL", "1")
    pytester.runpytest().assert_outcomes(passed=1, failed=1)
    assert _files(pytester.path / "out") == [
        "test_app.py_test_passes.html",
        "test_app.py_test_reads_after_two_503s.html",
    ]
    assert (
        "outcome: <strong class='outcome'>passed</strong>"
        in (pytester.path / "out/test_app.py_test_passes.html").read_text()
    )


def test_the_ini_names_the_folder_relative_to_itself(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nkv_report = build/kv\n")
    pytester.makepyfile(test_app=RETRIED_THEN_FAILS)
    pytester.runpytest().assert_outcomes(passed=1, failed=1)
    assert _files(pytester.path / "build/kv") == ["test_app.py_test_reads_after_two_503s.html"]


def test_no_option_no_files(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=RETRIED_THEN_FAILS)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    assert "kv-emulator report" not in result.stdout.str() and not list(pytester.path.rglob("*.html"))


def test_session_mode_reports_only_this_tests_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app="""
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient
import kv_emulator

def client():
    return SecretClient(kv_emulator.current().vault_url, kv_emulator.current().credential)

def test_first():
    client().set_secret("first", "1")

def test_second_fails():
    client().set_secret("second", "2")
    assert False
"""
    )
    pytester.runpytest("--kv-intercept=session", "--kv-report=r").assert_outcomes(passed=1, failed=1)
    page = (pytester.path / "r/test_app.py_test_second_fails.html").read_text()
    assert "/secrets/second" in page and "/secrets/first" not in page
