"""The api-versions Key Vault has published, and the value a handler reads to render for one of them."""

from __future__ import annotations

import dataclasses

__all__ = ["LATEST", "PREVIEWS", "PUBLISHED", "ApiVersion"]

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
_RANK = {version: rank for rank, version in enumerate(PUBLISHED)}

#: Preview versions the SDKs have shipped (every ``-preview`` of the specs' history: the legacy
#: ``Microsoft.KeyVault/preview`` folders and the TypeSpec ``Versions`` enum), and the stable version whose
#: behaviour they get: the one they preceded, or the newest for those newer than it. No SDK shipped a
#: preview older than 7.0 (``2016-10-01-preview`` does not exist).
PREVIEWS = {
    "7.0-preview": "7.0",
    "7.1-preview": "7.1",
    "7.2-preview": "7.2",
    "7.3-preview": "7.3",
    "7.4-preview.1": "7.4",
    "7.5-preview.1": "7.5",
    "7.6-preview.1": "7.6",
    "7.6-preview.2": "7.6",
    "2025-06-01-preview": "2025-07-01",
    "2026-01-01-preview": "2026-04-01",
    "2026-03-01-preview": "2026-04-01",
    "2026-05-01-preview": "2026-04-01",
    "2026-07-01-preview": "2026-04-01",
}


@dataclasses.dataclass(frozen=True)
class ApiVersion:
    """What the client asked for, and the published version whose behaviour it gets."""

    requested: str
    effective: str

    def at_least(self, version: str) -> bool:
        """Whether this is ``version`` or later (both published; asked for every field of every item)."""
        return _RANK[self.effective] >= _RANK[version]
