"""Graph's error shape: ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` (seen: DanielChronlund/DCToolbox#6, 2020; microsoftgraph docs issues, 2019-2022)."""

from __future__ import annotations

from typing import Any

__all__ = ["GraphError", "not_found"]


class GraphError(Exception):
    """A refusal as Microsoft Graph answers it; the app adds ``innerError`` when it renders the body."""

    def __init__(self, status: int, code: str, message: str, *, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []

    def body(self, date: str, request_id: str, client_request_id: str) -> dict[str, Any]:
        inner = {"date": date, "request-id": request_id, "client-request-id": client_request_id}
        return {"error": {"code": self.code, "message": self.message, "innerError": inner}}


def not_found(object_id: str) -> GraphError:
    """An id no object has (seen: DanielChronlund/DCToolbox#6, 2020; microsoft-graph-docs#6059, 2019)."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects are not present.",
    )
