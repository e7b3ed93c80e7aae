"""The JavaScript SDK through the proxy: @azure/keyvault-secrets, -keys and @azure/identity, unmodified.

The packages are installed with npm into a cache directory (``~/.cache/kv-emulator/npm``, or
``KV_EMULATOR_NPM_CACHE``) on first run. Skipped, saying why, when node or npm is missing or the install
fails (no registry access).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).parent / "server_apps" / "kv_client.mjs"
PACKAGES = ("@azure/keyvault-secrets", "@azure/keyvault-keys", "@azure/identity")
CACHE = Path(os.environ.get("KV_EMULATOR_NPM_CACHE", Path.home() / ".cache" / "kv-emulator" / "npm"))


@pytest.fixture(scope="module")
def node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not on PATH: the JavaScript SDK check needs them (CI has them)")
    modules = CACHE / "node_modules"
    if not all((modules / package / "package.json").exists() for package in PACKAGES):
        CACHE.mkdir(parents=True, exist_ok=True)
        if not (CACHE / "package.json").exists():
            (CACHE / "package.json").write_text('{"name": "kv-emulator-npm-cache", "private": true}\n')
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", *PACKAGES],
            cwd=CACHE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.skip(f"npm install of {', '.join(PACKAGES)} failed (no registry access?): {result.stderr[-500:]}")
    return modules


@pytest.mark.parametrize("credential", ["environment", "managed", "default"])
def test_node_sdk_through_the_proxy(keyvault_server: Any, node_modules: Path, credential: str) -> None:
    server = keyvault_server
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(server.env(), KV_NODE_MODULES=str(node_modules))
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        env.pop(name, None)
    if credential == "environment":
        env.update(AZURE_CLIENT_ID="22222222-3333-4444-5555-666666666666", AZURE_CLIENT_SECRET="node-secret")
    result = subprocess.run(["node", str(APP), credential], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["secret"] == "from-node" and seen["decrypted"] == "payload"
    assert seen["secretId"].startswith(f"https://kv-emulator.vault.azure.net/secrets/{seen['name']}/")
    assert server.emulator.vault().secrets.get(seen["name"]).payload.value == "from-node"
    if credential == "environment":
        assert any(t.get("appid") == "22222222-3333-4444-5555-666666666666" for t in server.emulator.identity.issued)
