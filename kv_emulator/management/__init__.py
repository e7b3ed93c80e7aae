"""The control plane: Azure Resource Manager for Key Vault (subscriptions, resource groups, vaults and
role assignments), answered in-process beside the vault and identity apps. See docs/control-plane.md."""

from __future__ import annotations

from .app import MANAGEMENT_HOSTS, ManagementApp, is_management_url
from .roles import ROLE_DEFINITION_IDS

__all__ = ["MANAGEMENT_HOSTS", "ROLE_DEFINITION_IDS", "ManagementApp", "is_management_url"]
