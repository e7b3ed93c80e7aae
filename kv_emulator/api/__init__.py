"""Operation handlers by spec ``operationId``. An operation missing here answers a loud 501."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import certificates, hsm_backup, hsm_rbac, hsm_settings, key_release, keys, secrets, security_domain

__all__ = ["HANDLERS"]

Handler = Callable[..., Any]

HANDLERS: dict[str, Handler] = {
    **secrets.OPERATIONS,
    **keys.OPERATIONS,
    **key_release.OPERATIONS,
    **certificates.OPERATIONS,
    **hsm_rbac.OPERATIONS,
    **hsm_settings.OPERATIONS,
    **hsm_backup.OPERATIONS,
    **security_domain.OPERATIONS,
}
