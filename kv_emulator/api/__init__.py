"""Operation handlers and their records (:class:`~kv_emulator.api.operation.Operation`), by spec ``operationId``.

Each handler module declares ``OPERATIONS``, one record per operation beside its handler; this gathers them.
Routing, api-version availability, authorization and throttling all read these records. An operation whose
handler is missing from ``HANDLERS`` answers a loud 501.
"""

from __future__ import annotations

from . import (
    certificate_issuers,
    certificates,
    hsm_backup,
    hsm_rbac,
    hsm_settings,
    key_release,
    keys,
    secrets,
    security_domain,
)
from .operation import FIRST, Handler, Operation

__all__ = ["HANDLERS", "OPERATIONS", "OPERATION_SINCE", "RECORDS"]

#: Every operation, in the specs' order within each handler module.
OPERATIONS: tuple[Operation, ...] = (
    *secrets.OPERATIONS,
    *keys.OPERATIONS,
    *key_release.OPERATIONS,
    *certificates.OPERATIONS,
    *certificate_issuers.OPERATIONS,
    *hsm_rbac.OPERATIONS,
    *hsm_backup.OPERATIONS,
    *hsm_settings.OPERATIONS,
    *security_domain.OPERATIONS,
)
#: operationId -> its record.
RECORDS: dict[str, Operation] = {record.name: record for record in OPERATIONS}
#: operationId -> handler: the pipeline dispatches through this (a test may take one out to see the 501).
HANDLERS: dict[str, Handler] = {record.name: record.handler for record in OPERATIONS}
#: operationId -> the first api-version that has it, for operations newer than the first (docs/coverage.md).
OPERATION_SINCE: dict[str, str] = {record.name: record.since for record in OPERATIONS if record.since != FIRST}
