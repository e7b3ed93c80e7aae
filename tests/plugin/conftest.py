"""Fixtures of the plugin tests: the pytester sandboxes start clean."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _inner_runs_without_asyncio(request, monkeypatch):
    """The sandboxed runs need no asyncio plugin (it would warn about its unset ini option), and none of the
    plugin's settings leaks into them from the outer run's environment.

    Set after ``pytester`` is set up, because pytester clears ``PYTEST_ADDOPTS`` when it starts; tests without
    a sandbox are left alone."""
    if "pytester" not in request.fixturenames:
        return
    request.getfixturevalue("pytester")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:asyncio")
    for name in (
        "PYTEST_KV_GUARD",
        "PYTEST_KV_INTERCEPT",
        "PYTEST_KV_SEED",
        "PYTEST_KV_REPORT",
        "PYTEST_KV_REPORT_ALL",
    ):
        monkeypatch.delenv(name, raising=False)
