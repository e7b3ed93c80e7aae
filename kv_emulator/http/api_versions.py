"""The api-versions Key Vault has published, and how a requested one is resolved.

Every published version is served. A well-formed date version newer than the newest we know is served as
the newest (so an SDK upgrade never breaks a test suite) unless ``strict_api_version`` is on; anything
else is refused with the service's own 400.
"""

from __future__ import annotations

import dataclasses
import re

from ..errors import BadParameter, UnknownApiVersion

__all__ = ["LATEST", "PUBLISHED", "ApiVersion", "resolve"]

#: Stable versions, oldest first. Order is what ``ApiVersion.at_least`` compares.
PUBLISHED = (
    "2015-06-01",
    "2016-10-01",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
    "7.4",
    "7.5",
    "7.6",
    "2025-07-01",
    "2026-04-01",
)
LATEST = PUBLISHED[-1]

#: Preview versions the SDKs have shipped, and the stable version whose behaviour they get.
PREVIEWS = {
    "7.2-preview": "7.2",
    "7.3-preview": "7.3",
    "7.4-preview.1": "7.4",
    "7.5-preview.1": "7.5",
    "7.6-preview.1": "7.6",
    "7.6-preview.2": "7.6",
    "2025-06-01-preview": "2025-07-01",
}

_DATE_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?$")


@dataclasses.dataclass(frozen=True)
class ApiVersion:
    """What the client asked for, and the published version whose behaviour it gets."""

    requested: str
    effective: str

    def at_least(self, version: str) -> bool:
        return PUBLISHED.index(self.effective) >= PUBLISHED.index(version)


def resolve(raw: str | None, *, strict: bool = False) -> ApiVersion:
    if raw is None or not raw.strip():
        # The service's text for a missing api-version is not recorded; this wording is ours (unverified).
        raise BadParameter(
            f"The api-version query parameter is required. Consider using the latest supported version ({LATEST})."
        )
    if raw in PUBLISHED:
        return ApiVersion(raw, raw)
    if raw in PREVIEWS:
        return ApiVersion(raw, PREVIEWS[raw])
    date = _DATE_VERSION.match(raw)
    if date and not strict and date.group(1) > LATEST:
        return ApiVersion(raw, LATEST)
    raise UnknownApiVersion(raw, LATEST)
