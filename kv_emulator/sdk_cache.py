"""Forget the Key Vault SDKs' process-wide challenge caches, so each emulator starts like a new process.

The SDK caches the 401 challenge per host for the whole process, shared by every client; without this a
test's journal would start with or without the challenge depending on which tests ran before it. The
caches are private SDK modules, so a missing one is simply skipped.
"""

from __future__ import annotations

import sys

__all__ = ["forget_sdk_challenges"]

_CACHES = (
    "azure.keyvault.secrets._shared.http_challenge_cache",
    "azure.keyvault.keys._shared.http_challenge_cache",
    "azure.keyvault.certificates._shared.http_challenge_cache",
    "azure.keyvault.administration._internal.http_challenge_cache",
)


def forget_sdk_challenges() -> None:
    for module_name in _CACHES:
        module = sys.modules.get(module_name)  # a cache module not imported yet holds nothing to forget
        if module is None:
            continue
        clear = getattr(module, "clear", None)
        if callable(clear):
            clear()
