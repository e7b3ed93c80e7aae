"""Azure Resource Manager's errors: ``{"error": {"code", "message"}}`` with ARM's status codes and texts.

Handlers raise :class:`ArmError`; only the app renders it. Texts seen in real traffic are marked
``verified``; the rest follow the service's pattern and are listed in docs/errors.md as unverified.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ArmError", "bad_request", "not_implemented"]


class ArmError(Exception):
    """One ARM error answer. ``headers`` go out with it (``WWW-Authenticate`` on a 401)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        verified: bool = False,
        headers: list[tuple[str, str]] | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.verified = verified
        self.headers = headers or []
        self.target = target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def bad_request(message: str, code: str = "BadRequest") -> ArmError:
    """The Key Vault resource provider's 400 for a property it refuses (texts are unverified unless noted)."""
    return ArmError(400, code, message)


def not_implemented(operation: str, method: str, path: str) -> ArmError:
    """A loud answer for ARM requests the emulator does not emulate: never a silent 404."""
    return ArmError(
        501,
        "NotImplemented",
        f"kv-emulator does not emulate the Azure Resource Manager operation {operation} ({method} {path}). "
        "See docs/control-plane.md for what is emulated.",
    )
