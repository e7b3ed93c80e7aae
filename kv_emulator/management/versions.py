"""The api-versions ARM accepts, per resource provider, and ARM's answers for others.

ARM refuses an api-version its provider does not register: ``InvalidApiVersionParameter`` for the platform
(Microsoft.Resources, Microsoft.Authorization) and ``NoRegisteredProviderFound`` for a resource
provider's types. New versions are added here when an SDK starts sending them.
"""

from __future__ import annotations

from .errors import ArmError

__all__ = ["KEYVAULT", "RESOURCES", "check", "rbac_by_default"]

KEYVAULT = (
    "2026-05-15",
    "2026-02-01",
    "2025-05-01",
    "2024-12-01-preview",
    "2024-11-01",
    "2024-04-01-preview",
    "2023-08-01-preview",
    "2023-07-01",
    "2023-02-01",
    "2022-11-01",
    "2022-07-01",
    "2022-02-01-preview",
    "2021-11-01-preview",
    "2021-10-01",
    "2021-06-01-preview",
    "2021-04-01-preview",
    "2020-04-01-preview",
    "2019-09-01",
    "2018-02-14",
    "2018-02-14-preview",
    "2016-10-01",
    "2015-06-01",
)
RESOURCES = (
    "2025-04-01",
    "2025-03-01",
    "2025-01-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-07-01",
    "2022-12-01",
    "2022-09-01",
    "2022-01-01",
    "2021-04-01",
    "2021-01-01",
    "2020-10-01",
    "2020-08-01",
    "2020-06-01",
    "2020-01-01",
    "2019-11-01",
    "2019-10-01",
    "2019-08-01",
    "2019-07-01",
    "2019-06-01",
    "2019-05-10",
    "2019-05-01",
    "2019-03-01",
    "2018-05-01",
    "2018-02-01",
    "2017-08-01",
    "2017-05-10",
    "2016-09-01",
    "2016-07-01",
    "2016-06-01",
    "2016-02-01",
    "2015-11-01",
    "2015-01-01",
    "2014-04-01-preview",
)
AUTHORIZATION = (
    "2023-07-01-preview",
    "2022-05-01-preview",
    "2022-04-01",
    "2022-01-01-preview",
    "2021-04-01-preview",
    "2020-10-01-preview",
    "2020-08-01-preview",
    "2020-04-01-preview",
    "2020-03-01-preview",
    "2018-09-01-preview",
    "2018-07-01",
    "2018-01-01-preview",
    "2017-10-01-preview",
    "2015-07-01",
)

_PROVIDERS = {"keyvault": KEYVAULT, "resources": RESOURCES, "authorization": AUTHORIZATION}


def provider_of(operation: str) -> str:
    if operation.startswith(("RoleAssignments_", "RoleDefinitions_")):
        return "authorization"
    if operation.startswith(("Subscriptions_", "Tenants_", "ResourceGroups_", "Providers_")) or operation in (
        "Vaults_List",
        "OperationResults_Get",
    ):
        return "resources"
    return "keyvault"


def check(operation: str, requested: str | None, location: str) -> str:
    """The api-version of a request, or ARM's 400 when it is missing or not registered."""
    if not requested:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
            verified=True,
        )
    provider = provider_of(operation)
    if operation == "OperationResults_Get":
        return requested  # status URLs carry the version of the operation that made them
    supported = _PROVIDERS[provider]
    if requested.lower() in supported:
        return requested.lower()
    if provider == "keyvault":
        resource_type = "vaults" if operation.startswith("Vaults_") else "operations"
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{location}' and API version '{requested}' for "
            f"type '{resource_type}'. The supported api-versions are '{', '.join(supported)}'. The supported "
            f"locations are '{location}'.",
            verified=True,
        )
    raise ArmError(
        400,
        "InvalidApiVersionParameter",
        f"The api-version '{requested}' is invalid. The supported versions are '{','.join(supported)}'.",
        verified=True,
    )


def rbac_by_default(api_version: str) -> bool:
    """``enableRbacAuthorization`` defaults to true from api-version 2026-02-01 (the spec's default); false
    before it. # unverified: the exact first version"""
    return api_version[:10] >= "2026-02-01"
