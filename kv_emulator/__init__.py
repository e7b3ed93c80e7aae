"""kv-emulator: an in-process, wire-compatible Azure Key Vault for tests.

with kv_emulator.emulate() as kv:
    client = SecretClient(kv.vault_url, kv.credential)
    client.set_secret("db-password", "hunter2")
"""

from __future__ import annotations

from ._version import __version__ as __version__
from .clock import Clock
from .config import DEFAULT_TENANT_ID, DEFAULT_VAULT_NAME, Settings
from .credentials import AsyncEmulatorCredential, EmulatorCredential
from .emulator import VAULT_URL_PATTERN, Emulator, current, emulate, serve
from .errors import KeyVaultError
from .http.journal import Journal, JournalEntry
from .intercept import AsyncEmulatorTransport, EmulatorTransport
from .objects.vault import Vault
from .seed import SeedError

__all__ = [
    "DEFAULT_TENANT_ID",
    "DEFAULT_VAULT_NAME",
    "VAULT_URL_PATTERN",
    "AsyncEmulatorCredential",
    "AsyncEmulatorTransport",
    "Clock",
    "Emulator",
    "EmulatorCredential",
    "EmulatorTransport",
    "Journal",
    "JournalEntry",
    "KeyVaultError",
    "SeedError",
    "Settings",
    "Vault",
    "current",
    "emulate",
    "serve",
]
