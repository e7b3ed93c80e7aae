"""The headers every Key Vault response carries, as recorded from the real service."""

from __future__ import annotations

__all__ = ["SERVICE_VERSION", "challenge_header", "service_headers"]

#: A recent real value of ``x-ms-keyvault-service-version`` (February 2026).
SERVICE_VERSION = "1.9.3019.1"
VAULT_RESOURCE = "https://vault.azure.net"
HSM_RESOURCE = "https://managedhsm.azure.net"


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
