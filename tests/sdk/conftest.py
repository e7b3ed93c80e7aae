"""Fixtures of the SDK tests: the async clients (aiohttp transport, unmodified) on the test's vault; the sync
ones (``secrets``, ``keys``, ``certificates``) are in tests/conftest.py."""

from __future__ import annotations

import pytest
from azure.keyvault.certificates.aio import CertificateClient
from azure.keyvault.keys.aio import KeyClient
from azure.keyvault.secrets.aio import SecretClient


async def _opened(client_class, keyvault):
    async with client_class(keyvault.vault_url, keyvault.async_credential) as client:
        yield client


@pytest.fixture
async def async_secrets(keyvault):
    """An async ``SecretClient`` on the test's vault, closed after the test."""
    async for client in _opened(SecretClient, keyvault):
        yield client


@pytest.fixture
async def async_keys(keyvault):
    """An async ``KeyClient`` on the test's vault, closed after the test."""
    async for client in _opened(KeyClient, keyvault):
        yield client


@pytest.fixture
async def async_certificates(keyvault):
    """An async ``CertificateClient`` on the test's vault, closed after the test."""
    async for client in _opened(CertificateClient, keyvault):
        yield client
