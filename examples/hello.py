"""The smallest use of kv-emulator without pytest: ``python examples/hello.py``."""

from azure.keyvault.secrets import SecretClient

import kv_emulator

with kv_emulator.emulate() as kv:
    client = SecretClient(kv.vault_url, kv.credential)
    client.set_secret("db-password", "hunter2")
    assert client.get_secret("db-password").value == "hunter2"

print("hello: ok")
