"""Microsoft Graph, the small part of it that names the emulated directory's users and service principals
(what ``az role assignment list/create`` and ``az keyvault create`` ask): a plane of its own beside ARM,
answered from kv_emulator.identity's directory. See docs/identity.md."""

from __future__ import annotations

from .app import GraphApp, is_graph_url

__all__ = ["GraphApp", "is_graph_url"]
