"""The emulated identity platform: Entra ID and managed identity endpoints, and the tokens they issue."""

from __future__ import annotations

from .app import IdentityApp, is_identity_url
from .directory import Directory, IdentityError, Principal

__all__ = ["Directory", "IdentityApp", "IdentityError", "Principal", "is_identity_url"]
