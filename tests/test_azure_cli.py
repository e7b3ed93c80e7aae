"""The Azure CLI, unmodified, against the emulator (scripts/azure_cli_session.py), in a Python environment
of its own: azure-cli pins SDK versions the project's venv does not use. Runs when ``KV_EMULATOR_AZ_PYTHON``
names that environment's interpreter (CI sets it up; see docs/control-plane.md), and is skipped otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AZ_PYTHON = os.environ.get("KV_EMULATOR_AZ_PYTHON")


@pytest.mark.skipif(not AZ_PYTHON, reason="KV_EMULATOR_AZ_PYTHON names no Python with azure-cli installed")
def test_azure_cli_session(tmp_path):
    result = subprocess.run(
        [str(AZ_PYTHON), str(ROOT / "scripts" / "azure_cli_session.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "azure-cli: ok", result.stdout + result.stderr
