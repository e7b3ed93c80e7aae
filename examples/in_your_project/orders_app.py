"""The application: it reads its database password from Key Vault when it is imported."""

from __future__ import annotations

import os

from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

VAULT_URL = os.environ.get("ORDERS_VAULT_URL", "https://orders-prod.vault.azure.net")

# Built at import time, with the credential the application uses in production. In session mode the
# emulator answers the vault, and DefaultAzureCredential finds a token (the emulated az, or IMDS).
_client = SecretClient(VAULT_URL, DefaultAzureCredential())
DB_PASSWORD = _client.get_secret("db-password").value


def database_url() -> str:
    return f"postgresql://orders:{DB_PASSWORD}@db.internal/orders"


def save_api_key(value: str) -> str:
    return _client.set_secret("api-key", value).properties.version or ""
