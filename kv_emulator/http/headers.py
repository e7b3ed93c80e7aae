"""The headers every Key Vault response carries, as recorded from the real service."""

from __future__ import annotations

import os

__all__ = ["SERVICE_VERSION", "challenge_header", "new_request_id", "service_headers"]

#: A recent real value of ``x-ms-keyvault-service-version`` (February 2026).
SERVICE_VERSION = "1.9.3019.1"
VAULT_RESOURCE = "https://vault.azure.net"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_request_id() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` makes it at a fifth of the cost: every
    request gets one, and ``uuid.UUID`` validates and formats more than this needs."""
    digits = os.urandom(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"


def service_headers(*, request_id: str, client_request_id: str | None, region: str) -> list[tuple[str, str]]:
    headers = [
        ("Cache-Control", "no-cache"),
        ("Pragma", "no-cache"),
        ("Expires", "-1"),
        ("x-ms-keyvault-region", region),
        ("x-ms-request-id", request_id),
        ("x-ms-keyvault-service-version", SERVICE_VERSION),
        ("x-ms-keyvault-network-info", "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;"),
        ("X-Content-Type-Options", "nosniff"),
        ("Strict-Transport-Security", "max-age=31536000;includeSubDomains"),
    ]
    if client_request_id:
        headers.append(("x-ms-client-request-id", client_request_id))
    return headers


def challenge_header(
    tenant_id: str, resource: str = VAULT_RESOURCE, authority: str = "https://login.microsoftonline.com"
) -> str:
    """The ``WWW-Authenticate`` of a 401: the cloud's login authority with the tenant, and the resource."""
    return f'Bearer authorization="{authority}/{tenant_id}", resource="{resource}"'
