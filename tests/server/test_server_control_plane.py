"""The control plane through the server: infrastructure code in another process creates a vault through
Azure Resource Manager, writes to its data plane, deletes it (the name stays reserved) and purges it, all
through the proxy with environment variables only (tests/server/server_apps/arm_client.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

APPS = Path(__file__).parent / "server_apps"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_infrastructure_code_through_the_proxy(keyvault_server: Any, mode: str) -> None:
    server = keyvault_server
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("HTTPS_PROXY", "HTTP_PROXY"))}
    env.update(server.env())
    env["AZURE_SUBSCRIPTION_ID"] = server.emulator.settings.subscription_id
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "MSI_ENDPOINT"):
        env.pop(name, None)  # DefaultAzureCredential takes the server's managed-identity endpoint
    result = subprocess.run(
        [sys.executable, str(APPS / "arm_client.py"), mode], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-4000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["url"] == f"https://{seen['name']}.vault.azure.net/"
    assert seen["read"] == "from-infra" and seen["reserved"] is True and seen["recreated"] is True
    operations = {e.operation for e in server.emulator.requests}
    assert {"SetSecret", "GetSecret"} <= operations
    assert any(e.url.startswith("https://management.azure.com/") for e in server.emulator.requests)
    assert server.emulator.vault(seen["name"]).settings.soft_delete_retention_in_days == 7
