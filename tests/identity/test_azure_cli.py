"""The Azure CLI, unmodified, against the emulator (scripts/azure_cli_session.py), in a Python environment
of its own: azure-cli pins SDK versions the project's venv does not use. Runs when ``KV_EMULATOR_AZ_PYTHON``
names that environment's interpreter (CI sets it up; see docs/control-plane.md), and is skipped otherwise. Two
doors: in-process (``az``'s ``requests`` intercepted) and a server's proxy (``HTTPS_PROXY`` and its CA)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AZ_PYTHON = os.environ.get("KV_EMULATOR_AZ_PYTHON")


@pytest.mark.skipif(not AZ_PYTHON, reason="KV_EMULATOR_AZ_PYTHON names no Python with azure-cli installed")
@pytest.mark.parametrize("door", [[], ["--proxy"]], ids=["in-process", "proxy"])
def test_azure_cli_session(tmp_path, door):
    result = subprocess.run(
        [str(AZ_PYTHON), str(ROOT / "scripts" / "azure_cli_session.py"), *door],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "azure-cli: ok", result.stdout + result.stderr
    # Microsoft Graph (issue 19 item 16): `az keyvault create` without --no-self-perms found the logged-in
    # app's object id (/me answers 400 for an app token, then servicePrincipals?$filter=...), and
    # `az role assignment list` named every principal through directoryObjects/getByIds.
    [line] = [line for line in result.stdout.splitlines() if line.startswith("graph: ")]
    graph = json.loads(line.removeprefix("graph: "))
    assert graph["principalNames"] == ["0e5f3c1a-7b2d-4c8e-9f10-a1b2c3d4e5f6", "cli-app"], graph
    asked = {"GetSignedInUser", "ListServicePrincipals", "ListUsers", "GetDirectoryObjectsByIds"}  # set-policy --upn
    assert asked <= set(graph["graphOperations"]), graph
    assert graph["accessPolicyObjectId"], graph
    # Managed HSM backup (issue 23 items 3-5): `az keyvault security-domain download` activated a new HSM, and
    # `az keyvault backup start` named its folder in the container the CLI built from the account name.
    [line] = [line for line in result.stdout.splitlines() if line.startswith("hsm-backup: ")]
    folder_url = json.loads(line.removeprefix("hsm-backup: "))["folderUrl"]
    assert folder_url.startswith("https://cliaccount.blob.core.windows.net/backups/mhsm-cli-hsm-"), folder_url
