"""Which request field exists from which api-version; which operation does is each operation's ``since``
(:class:`kv_emulator.api.operation.Operation`). docs/coverage.md shows both.

An operation newer than the requested api-version is answered as the service answers a path it does not
know at that version: the request is routed again among the operations that version has (so
``GET /keys/k/rotationpolicy`` at 7.2 is ``GetKey`` of a version called "rotationpolicy", a 404
KeyNotFound, and ``POST /rng`` is a 404). A newer field is ignored, like any unknown property or parameter.
"""

from __future__ import annotations

from .operation import FIRST
from .versions import ApiVersion

__all__ = ["FIELD_SINCE", "FIRST", "field_exists"]

#: (operationId or body model, field) -> the first api-version that reads it; older versions ignore it.
FIELD_SINCE: dict[tuple[str, str], str] = {
    ("GetSecret", "outContentType"): "2025-07-01",  # protocol.md; the first version is unverified
    ("CertificatePolicy", "platformManaged"): "2026-04-01",  # not in the 2025-07-01 certificates.json (checked)
}


def field_exists(owner: str, field: str, version: ApiVersion) -> bool:
    return version.at_least(FIELD_SINCE.get((owner, field), FIRST))
