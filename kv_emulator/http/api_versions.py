"""The pipeline's api-version step: how the ``api-version`` a request names is resolved.

Every published version is served. A well-formed date version newer than the newest we know is served as
the newest (so an SDK upgrade never breaks a test suite) unless ``strict_api_version`` is on; anything
else is refused with the service's own 400. The versions themselves live with the handlers
(:mod:`kv_emulator.api.versions`), which render per version.
"""

from __future__ import annotations

import re

from ..api.versions import LATEST, PREVIEWS, PUBLISHED, ApiVersion
from ..errors import BadParameter, UnknownApiVersion

__all__ = ["LATEST", "PUBLISHED", "ApiVersion", "resolve"]

_DATE_VERSION = re.compile(r"^(\d{4}-\d{2}-\d{2})(-preview(\.\d+)?)?$")


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
