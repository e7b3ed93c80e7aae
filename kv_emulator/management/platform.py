"""Microsoft.Resources as the emulator has it: one subscription in the emulator's tenant, its resource
groups, the resource-provider registrations, and the status URLs of long-running operations."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .context import ArmReply, ArmRequest, require_group
from .errors import ArmError, bad_request
from .managed_hsms import HSMS, delete_hsm
from .state import ResourceGroup
from .vaults import VAULTS, delete_vault

__all__ = ["HANDLERS"]

# 1-90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period.
_GROUP_NAME = re.compile(r"^[-\w._()]{1,90}$")


def _subscription(request: ArmRequest) -> dict[str, Any]:
    settings = request.settings
    return {
        "id": f"/subscriptions/{settings.subscription_id}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": settings.subscription_id,
        "tenantId": settings.tenant_id,
        "displayName": settings.subscription_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def subscriptions_list(request: ArmRequest) -> ArmReply:
    return ArmReply({"value": [_subscription(request)], "count": {"type": "Total", "value": 1}})


def subscriptions_get(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    return ArmReply(_subscription(request))


def subscriptions_list_locations(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    location = request.settings.location
    return ArmReply(
        {
            "value": [
                {
                    "id": f"/subscriptions/{request.subscription_id}/locations/{location}",
                    "name": location,
                    "displayName": location,
                    "regionalDisplayName": location,
                    "type": "Region",
                    "metadata": {"regionType": "Physical", "regionCategory": "Recommended"},
                }
            ]
        }
    )


def tenants_list(request: ArmRequest) -> ArmReply:
    tenant = request.settings.tenant_id
    return ArmReply(
        {
            "value": [
                {
                    "id": f"/tenants/{tenant}",
                    "tenantId": tenant,
                    "tenantCategory": "Home",
                    "displayName": "kv-emulator",
                    "domains": ["kv-emulator.onmicrosoft.com"],
                    "defaultDomain": "kv-emulator.onmicrosoft.com",
                    "tenantType": "AAD",
                }
            ]
        }
    )


def _render_group(request: ArmRequest, group: ResourceGroup) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"/subscriptions/{request.subscription_id}/resourceGroups/{group.name}",
        "name": group.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": group.location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if group.tags:
        body["tags"] = group.tags
    if group.managed_by:
        body["managedBy"] = group.managed_by
    return body


def groups_create_or_update(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    name = resourceGroupName
    if not _GROUP_NAME.match(name) or name.endswith("."):
        raise ArmError(
            400,
            "InvalidResourceGroupName",  # unverified code and text
            f"Resource group name '{name}' is invalid. It must be 1-90 characters of letters, digits, underscores, "
            "hyphens, periods and parentheses, and must not end in a period.",
        )
    body = request.json()
    if not isinstance(body, dict):
        raise bad_request("The request content must be a JSON object.", "InvalidRequestContent")  # unverified
    unknown = sorted(set(body) - {"location", "tags", "managedBy", "properties", "id", "name", "type"})
    if unknown:
        raise ArmError(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: 'Could not find member "
            f"'{unknown[0]}' on object of type 'ResourceGroup'. Path '{unknown[0]}'.'",
        )
    location = body.get("location")
    if not isinstance(location, str) or not location.strip():
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.", verified=True)
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise bad_request("The tags must be an object of string values.", "InvalidRequestContent")  # unverified
    location = location.strip().lower().replace(" ", "")
    with request.state.lock:
        existing = request.state.groups.get(name.lower())
        if existing is not None and existing.location != location:
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. The Resource group already exists in location "
                f"'{existing.location}' in resource group '{existing.name}'. A resource group cannot change location.",
                verified=True,
            )
        group = ResourceGroup(existing.name if existing else name, location, dict(tags), body.get("managedBy"))
        request.state.groups[name.lower()] = group
    return ArmReply(_render_group(request, group), 200 if existing else 201)


def groups_get(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    return ArmReply(_render_group(request, require_group(request, subscriptionId, resourceGroupName)))


def groups_check_existence(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        found = resourceGroupName.lower() in request.state.groups
    return ArmReply(None, 204 if found else 404)


def groups_update(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    body = request.json()
    if not isinstance(body, dict):
        raise bad_request("The request content must be a JSON object.", "InvalidRequestContent")  # unverified
    tags = body.get("tags")
    if tags is not None:
        if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
            raise bad_request("The tags must be an object of string values.", "InvalidRequestContent")  # unverified
        with request.state.lock:
            group.tags = dict(tags)
    return ArmReply(_render_group(request, group))


def groups_list(request: ArmRequest, subscriptionId: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        groups = list(request.state.groups.values())
    return ArmReply({"value": [_render_group(request, group) for group in groups]})


def groups_delete(request: ArmRequest, subscriptionId: str, resourceGroupName: str) -> ArmReply:
    group = require_group(request, subscriptionId, resourceGroupName)
    with request.state.lock:  # its vaults and managed HSMs go with it (soft-deleted, as one by one)
        for vault in VAULTS.in_group(request, group.name):
            delete_vault(request, vault.name)
        for hsm in HSMS.in_group(request, group.name):
            delete_hsm(request, hsm.name)
        request.state.groups.pop(group.name.lower(), None)
    return request.operation_reply(202, None, location=group.location, kind="location")


def operation_results(request: ArmRequest, subscriptionId: str, operationId: str, **_: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    with request.state.lock:
        found = request.state.operations.get(operationId)
        if found is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{operationId}' could not be found.")  # unverified
        pending = found["pending"] > 0
        found["pending"] -= 1 if pending else 0
    status = {k: v for k, v in found.items() if k not in ("pending", "kind")}
    if not pending:
        return ArmReply(status)
    retry = [("Retry-After", "10")]
    if found["kind"] == "location":
        return ArmReply(
            None, 202, [("Location", f"{request.base_url}{request.path}?api-version={request.api_version}"), *retry]
        )
    return ArmReply({**status, "status": "InProgress", "endTime": None}, 200, retry)


_PROVIDERS = ("Microsoft.Authorization", "Microsoft.KeyVault", "Microsoft.Resources")


def _provider(request: ArmRequest, namespace: str) -> dict[str, Any]:
    """Every provider counts as registered: registering one (as Terraform and the CLI do) changes nothing."""
    return {
        "id": f"/subscriptions/{request.subscription_id}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [],
    }


def providers_get(request: ArmRequest, subscriptionId: str, provider: str) -> ArmReply:
    request.check_subscription(subscriptionId)
    return ArmReply(_provider(request, provider))


def providers_list(request: ArmRequest, subscriptionId: str) -> ArmReply:
    """The providers the emulator answers for."""
    request.check_subscription(subscriptionId)
    return ArmReply({"value": [_provider(request, namespace) for namespace in _PROVIDERS]})


HANDLERS: dict[str, Callable[..., ArmReply]] = {
    "Subscriptions_List": subscriptions_list,
    "Subscriptions_Get": subscriptions_get,
    "Subscriptions_ListLocations": subscriptions_list_locations,
    "Tenants_List": tenants_list,
    "ResourceGroups_CreateOrUpdate": groups_create_or_update,
    "ResourceGroups_Get": groups_get,
    "ResourceGroups_CheckExistence": groups_check_existence,
    "ResourceGroups_Update": groups_update,
    "ResourceGroups_List": groups_list,
    "ResourceGroups_Delete": groups_delete,
    "OperationResults_Get": operation_results,
    "Providers_Get": providers_get,
    "Providers_Register": providers_get,
    "Providers_List": providers_list,
}
