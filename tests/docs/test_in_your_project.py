"""examples/in_your_project: a project whose application reads a secret at import time, run as its
developers would run it (its own pyproject.toml: required_plugins, session mode, a seed, the guard)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "in_your_project"


def _run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AZURE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def test_the_project_passes_in_session_mode_with_its_seed_and_the_guard():
    output = _run()
    assert "2 passed" in output, output
    assert "kv-emulator: intercept=session (from ini), vault https://kv-emulator.vault.azure.net, seed " in output
    assert "guard on (from ini)" in output


def test_the_project_passes_under_xdist():
    pytest.importorskip("xdist")
    output = _run("-n", "2")
    assert "2 passed" in output, output
    assert "one emulator per xdist worker" in output
