"""The command line end to end: ``kv-emulator serve``, ``kv-emulator env``, a client, the /_kv/ API.

Starts the server on free ports with its own data directory, waits for ``/_kv/health``, gives a client the
environment ``kv-emulator env --format dotenv`` prints, injects a fault over the management API, and stops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

CLIENT = """
import os
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(os.environ["AZURE_KEYVAULT_URL"], ManagedIdentityCredential(), retry_total=0)
client.set_secret("greeting", "hello from a subprocess")
print(client.get_secret("greeting").value)
try:
    client.get_secret("greeting")
except HttpResponseError as error:
    print(error.status_code)
"""


def kv_emulator(*args: str) -> list[str]:
    return [sys.executable, "-m", "kv_emulator", *args]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        server = subprocess.Popen(
            kv_emulator("serve", "--data-dir", folder, "--port", "0", "--proxy-port", "0", "--quiet"),
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not (data_dir / "server.json").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            proxy_port = json.loads((data_dir / "server.json").read_text())["proxy_port"]
            manage = f"http://127.0.0.1:{proxy_port}/_kv"
            assert requests.get(f"{manage}/health", timeout=10).json()["status"] == "ok"

            dotenv = subprocess.run(
                kv_emulator("env", "--data-dir", folder, "--format", "dotenv"),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            client_env = dict(line.split("=", 1) for line in dotenv.splitlines())
            print(f"vault      {client_env['AZURE_KEYVAULT_URL']} through {client_env['HTTPS_PROXY']}")

            # The second GetSecret fails with a 503 the management API injects.
            fault = {"status": 503, "operation": "GetSecret", "every": 2, "times": None}
            requests.post(f"{manage}/faults", json=fault, timeout=10).raise_for_status()
            env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")} | client_env
            result = subprocess.run(
                [sys.executable, "-c", CLIENT], env=env, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout.split() == ["hello", "from", "a", "subprocess", "503"], result.stdout
            print("client     read its secret, then saw the injected 503")

            journal = requests.get(f"{manage}/journal", timeout=10).json()
            print("journal   ", [(e["operation"], e["status"]) for e in journal if e["operation"]])
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("server_cli: ok")


if __name__ == "__main__":
    main()
