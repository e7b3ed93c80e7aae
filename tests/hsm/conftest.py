"""Fixtures of the Managed HSM tests: raw HTTP to one HSM host (its keys, RBAC, settings, backups)."""

from __future__ import annotations

import pytest
from tests_support import Wire

HSM = "https://contoso-hsm.managedhsm.azure.net"


@pytest.fixture
def hsm(keyvault) -> Wire:
    """Raw HTTP to the Managed HSM ``HSM``."""
    return Wire(keyvault.app, base_url=HSM)
