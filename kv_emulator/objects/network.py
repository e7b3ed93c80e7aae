"""A vault's network rules (ARM ``networkAcls`` and ``publicNetworkAccess``), checked per request.

Open until ARM sets rules. The caller's address is the socket's in server mode; in-process, the
``client_ip`` setting says who the caller is. Refusals are the service's 403s: ``ForbiddenByFirewall``
and ``ForbiddenByConnection``.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable
from typing import Any

from ..errors import Forbidden

__all__ = ["NetworkRules"]


def _describe(caller: dict[str, Any] | None) -> str:
    caller = caller or {}
    issuer = caller.get("iss", "https://sts.windows.net/" + str(caller.get("tid", "")) + "/")
    return f"appid={caller.get('appid', '')};oid={caller.get('oid', '')};iss={issuer}"


class NetworkRules:
    def __init__(self, vault: str, location: str) -> None:
        self.vault = vault
        self.location = location
        self._lock = threading.Lock()
        self.public_network_access = True
        self.default_action = "Allow"
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []

    def configure(self, *, public_network_access: bool, default_action: str, ip_rules: Iterable[str]) -> None:
        """Replace the rules: ``default_action`` "Allow" or "Deny"; ``ip_rules`` addresses or CIDR ranges."""
        networks = [ipaddress.ip_network(rule, strict=False) for rule in ip_rules]
        with self._lock:
            self.public_network_access = public_network_access
            self.default_action = default_action
            self._networks = networks

    def to_state(self) -> dict[str, Any]:
        """Plain data (kv_emulator.state)."""
        with self._lock:
            return {
                "public_network_access": self.public_network_access,
                "default_action": self.default_action,
                "ip_rules": [str(network) for network in self._networks],
            }

    def from_state(self, data: dict[str, Any]) -> None:
        self.configure(
            public_network_access=bool(data.get("public_network_access", True)),
            default_action=str(data.get("default_action", "Allow")),
            ip_rules=data.get("ip_rules", ()),
        )

    @property
    def ip_rules(self) -> list[str]:
        """The allowed addresses and ranges, as written (a read for the web view)."""
        with self._lock:
            return [str(network) for network in self._networks]

    def check(self, client_ip: str | None, caller: dict[str, Any] | None) -> None:
        """Raise the service's 403 unless a caller at ``client_ip`` may reach this vault."""
        with self._lock:
            public, action, networks = self.public_network_access, self.default_action, list(self._networks)
        if not public:
            raise Forbidden(
                "Public network access is disabled and request is not from a trusted service nor via an approved "
                f"private link.\r\nCaller: {_describe(caller)}\r\nVault: {self.vault};location={self.location}",
                "ForbiddenByConnection",
            )  # unverified text
        if action == "Allow":
            return
        try:
            address = ipaddress.ip_address(client_ip or "")
        except ValueError:
            address = None
        if address is not None and any(
            address in network for network in networks if address.version == network.version
        ):
            return
        raise Forbidden(
            "Client address is not authorized and caller is not a trusted service.\r\n"
            f"Client address: {client_ip or 'unknown'}\r\nCaller: {_describe(caller)}\r\n"
            f"Vault: {self.vault};location={self.location}",
            "ForbiddenByFirewall",
        )
