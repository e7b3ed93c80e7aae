"""One ARM request as handlers see it, and the reply they give back."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..config import Settings
from ..encoding import MAX_JSON_DEPTH, json_too_deep
from ..objects.registry import VaultRegistry
from .errors import ArmError
from .state import ArmState, ResourceGroup

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

__all__ = ["ArmReply", "ArmRequest", "is_guid", "iso", "require_group"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def iso(seconds: float) -> str:
    """ARM's timestamps: ``2026-12-01T14:31:25.1234567Z``."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


@dataclasses.dataclass
class ArmReply:
    body: Any = None
    status: int = 200
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ArmRequest:
    vaults: VaultRegistry
    """The data plane's vaults: ARM creates, reconfigures, removes and restores them here."""
    clock: Clock
    state: ArmState
    operation: str
    method: str
    path: str
    base_url: str
    """``https://management.azure.com`` (or the sovereign host) as the client wrote it: for ids in links."""
    query: MultiDict[str, str]
    api_version: str
    caller: dict[str, Any]
    raw_body: bytes

    @property
    def now(self) -> float:
        return self.clock.time()

    @property
    def settings(self) -> Settings:
        return self.vaults.settings

    @property
    def subscription_id(self) -> str:
        return self.settings.subscription_id

    @property
    def caller_name(self) -> str:
        return str(self.caller.get("upn") or self.caller.get("appid") or self.caller.get("oid") or "kv-emulator")

    def json(self) -> Any:
        """The body as JSON, or ARM's 400 for content it cannot read."""
        if not self.raw_body.strip():
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'The request body is empty.'",
            )  # unverified
        if json_too_deep(self.raw_body):  # before parsing: Python's parser would recurse and fail
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: "
                f"'The JSON nests arrays and objects deeper than {MAX_JSON_DEPTH} levels.'",
            )  # unverified
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ArmError(
                400,
                "InvalidRequestContent",
                f"The request content was invalid and could not be deserialized: '{exc}'.",
            ) from None

    def check_subscription(self, subscription_id: str) -> None:
        """ARM's answers for a malformed or unknown subscription id."""
        if not _GUID.match(subscription_id):
            raise ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription_id}' is malformed or invalid.",
                verified=True,
            )
        if subscription_id.lower() != self.subscription_id.lower():
            raise ArmError(
                404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.", verified=True
            )

    def operation_reply(self, status: int, body: Any, *, location: str, kind: str) -> ArmReply:
        """A long-running operation whose work is already done. Its status URL says so on the first poll, which
        azure-core makes before its first sleep, so the poller returns at once; with ``arm_pending_polls=N``
        the first N polls say it is still running (202, or ``InProgress``), as a slow real operation does."""
        operation_id = str(uuid.uuid4())
        sub = self.subscription_id
        if kind == "async":
            path = f"/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{location}"
            path += f"/operationResults/{operation_id}"
        else:
            path = f"/subscriptions/{sub}/operationresults/{operation_id}"
        url = f"{self.base_url}{path}?api-version={self.api_version}"
        with self.state.lock:
            self.state.operations[operation_id] = {
                "id": path,
                "name": operation_id,
                "status": "Succeeded",
                "startTime": iso(self.now),
                "endTime": iso(self.now),
                "pending": self.settings.arm_pending_polls,
                "kind": kind,
            }
        headers = [("Location", url), ("Retry-After", "10")]
        if kind == "async":
            headers.append(("Azure-AsyncOperation", url))
        return ArmReply(body, status, headers)


def is_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def _group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.", verified=True)


def require_group(request: ArmRequest, subscription_id: str, name: str) -> ResourceGroup:
    """The resource group, or ARM's 400/404 for a bad subscription or a missing group."""
    request.check_subscription(subscription_id)
    with request.state.lock:
        group = request.state.groups.get(name.lower())
    if group is None:
        raise _group_not_found(name)
    return group
