"""Server mode from a test: seed in-process, run the application under test as a subprocess, read the journal.

The subprocess is any program that reads Key Vault with the unmodified SDK and environment variables; here it
is a few lines of Python, but it could be a CLI, a web service or a Node script. ``keyvault_server.env()``
gives it the proxy, the CA and a managed identity; its vault URL is the real ``https://<name>.vault.azure.net``.
"""

import subprocess
import sys

APP = """
import os
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

client = SecretClient(os.environ["AZURE_KEYVAULT_URL"], DefaultAzureCredential())
print(client.get_secret("db-password").value)
client.set_secret("last-run", "ok")
"""


def test_application_reads_a_seeded_secret(keyvault_server):
    vault = keyvault_server.emulator.vault()
    vault.secrets.set("db-password", "hunter2")

    result = subprocess.run(
        [sys.executable, "-c", APP],
        env=keyvault_server.env(inherit=True),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hunter2"
    assert vault.secrets.get("last-run").payload.value == "ok"
    operations = [e.operation for e in keyvault_server.emulator.requests if e.status == 200]
    assert "GetSecret" in operations and "SetSecret" in operations
