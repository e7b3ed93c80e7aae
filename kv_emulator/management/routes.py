"""The ARM requests the emulator knows, as data: (method, path template, operation name).

Operation names are the specs' ``operationId`` s (``Vaults_CreateOrUpdate``, ``ResourceGroups_Get``,
``RoleAssignments_Create`` ...). ARM matches path segments case-insensitively (the Azure CLI sends
``resourcegroups``), so every rule is a case-insensitive regular expression. Operations listed here without a
handler are answered with a loud 501 that names them.
"""

from __future__ import annotations

import re

__all__ = ["KEYVAULT_SPEC_OPERATIONS", "ROUTES", "match"]

_SUB = "/subscriptions/{subscriptionId}"
_RG = _SUB + "/resourceGroups/{resourceGroupName}"
_KV = "/providers/Microsoft.KeyVault"
_VAULT = _RG + _KV + "/vaults/{vaultName}"
_HSM = _RG + _KV + "/managedHSMs/{name}"
_AUTHZ = "{scope}/providers/Microsoft.Authorization"

#: Every operation of the Microsoft.KeyVault resource-manager spec (2026-02-01), in spec order.
KEYVAULT_SPEC_OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("GET", "/providers/Microsoft.KeyVault/operations", "Operations_List"),
    ("POST", _SUB + _KV + "/checkMhsmNameAvailability", "ManagedHsms_CheckMhsmNameAvailability"),
    ("POST", _SUB + _KV + "/checkNameAvailability", "Vaults_CheckNameAvailability"),
    ("GET", _SUB + _KV + "/deletedManagedHSMs", "ManagedHsms_ListDeleted"),
    ("GET", _SUB + _KV + "/deletedVaults", "Vaults_ListDeleted"),
    ("GET", _SUB + _KV + "/locations/{location}/deletedManagedHSMs/{name}", "ManagedHsms_GetDeleted"),
    ("POST", _SUB + _KV + "/locations/{location}/deletedManagedHSMs/{name}/purge", "ManagedHsms_PurgeDeleted"),
    ("GET", _SUB + _KV + "/locations/{location}/deletedVaults/{vaultName}", "Vaults_GetDeleted"),
    ("POST", _SUB + _KV + "/locations/{location}/deletedVaults/{vaultName}/purge", "Vaults_PurgeDeleted"),
    ("GET", _SUB + _KV + "/managedHSMs", "ManagedHsms_ListBySubscription"),
    ("GET", _SUB + _KV + "/vaults", "Vaults_ListBySubscription"),
    ("GET", _RG + _KV + "/managedHSMs", "ManagedHsms_ListByResourceGroup"),
    ("GET", _HSM, "ManagedHsms_Get"),
    ("PUT", _HSM, "ManagedHsms_CreateOrUpdate"),
    ("PATCH", _HSM, "ManagedHsms_Update"),
    ("DELETE", _HSM, "ManagedHsms_Delete"),
    ("GET", _HSM + "/keys", "ManagedHsmKeys_List"),
    ("GET", _HSM + "/keys/{keyName}", "ManagedHsmKeys_Get"),
    ("PUT", _HSM + "/keys/{keyName}", "ManagedHsmKeys_CreateIfNotExist"),
    ("GET", _HSM + "/keys/{keyName}/versions", "ManagedHsmKeys_ListVersions"),
    ("GET", _HSM + "/keys/{keyName}/versions/{keyVersion}", "ManagedHsmKeys_GetVersion"),
    ("GET", _HSM + "/privateEndpointConnections", "MHSMPrivateEndpointConnections_ListByResource"),
    ("GET", _HSM + "/privateEndpointConnections/{privateEndpointConnectionName}", "MHSMPrivateEndpointConnections_Get"),
    ("PUT", _HSM + "/privateEndpointConnections/{privateEndpointConnectionName}", "MHSMPrivateEndpointConnections_Put"),
    (
        "DELETE",
        _HSM + "/privateEndpointConnections/{privateEndpointConnectionName}",
        "MHSMPrivateEndpointConnections_Delete",
    ),
    ("GET", _HSM + "/privateLinkResources", "MHSMPrivateLinkResources_ListByMHSMResource"),
    ("GET", _HSM + "/regions", "MHSMRegions_ListByResource"),
    ("GET", _RG + _KV + "/vaults", "Vaults_ListByResourceGroup"),
    ("GET", _VAULT, "Vaults_Get"),
    ("PUT", _VAULT, "Vaults_CreateOrUpdate"),
    ("PATCH", _VAULT, "Vaults_Update"),
    ("DELETE", _VAULT, "Vaults_Delete"),
    ("PUT", _VAULT + "/accessPolicies/{operationKind}", "Vaults_UpdateAccessPolicy"),
    ("GET", _VAULT + "/keys", "Keys_List"),
    ("GET", _VAULT + "/keys/{keyName}", "Keys_Get"),
    ("PUT", _VAULT + "/keys/{keyName}", "Keys_CreateIfNotExist"),
    ("GET", _VAULT + "/keys/{keyName}/versions", "Keys_ListVersions"),
    ("GET", _VAULT + "/keys/{keyName}/versions/{keyVersion}", "Keys_GetVersion"),
    (
        "GET",
        _VAULT + "/networkSecurityPerimeterConfigurations",
        "NetworkSecurityPerimeterConfigurations_ListConfigurations",
    ),
    (
        "GET",
        _VAULT + "/networkSecurityPerimeterConfigurations/{networkSecurityPerimeterConfigurationName}",
        "NetworkSecurityPerimeterConfigurations_GetConfiguration",
    ),
    (
        "POST",
        _VAULT + "/networkSecurityPerimeterConfigurations/{networkSecurityPerimeterConfigurationName}/reconcile",
        "NetworkSecurityPerimeterConfigurations_ReconcileConfiguration",
    ),
    ("GET", _VAULT + "/privateEndpointConnections", "PrivateEndpointConnections_ListByResource"),
    ("GET", _VAULT + "/privateEndpointConnections/{privateEndpointConnectionName}", "PrivateEndpointConnections_Get"),
    ("PUT", _VAULT + "/privateEndpointConnections/{privateEndpointConnectionName}", "PrivateEndpointConnections_Put"),
    (
        "DELETE",
        _VAULT + "/privateEndpointConnections/{privateEndpointConnectionName}",
        "PrivateEndpointConnections_Delete",
    ),
    ("GET", _VAULT + "/privateLinkResources", "PrivateLinkResources_ListByVault"),
    ("GET", _VAULT + "/secrets", "Secrets_List"),
    ("GET", _VAULT + "/secrets/{secretName}", "Secrets_Get"),
    ("PUT", _VAULT + "/secrets/{secretName}", "Secrets_CreateOrUpdate"),
    ("PATCH", _VAULT + "/secrets/{secretName}", "Secrets_Update"),
    ("GET", _SUB + "/resources", "Vaults_List"),
)

#: Role assignments and definitions (Microsoft.Authorization), subscriptions, tenants and resource groups
#: (Microsoft.Resources), and the long-running operations' status URLs. Checked before the Key Vault rules:
#: an authorization scope may itself be a vault's id.
_PLATFORM: tuple[tuple[str, str, str], ...] = (
    ("GET", _AUTHZ + "/roleAssignments", "RoleAssignments_ListForScope"),
    ("GET", _AUTHZ + "/roleAssignments/{assignmentName}", "RoleAssignments_Get"),
    ("PUT", _AUTHZ + "/roleAssignments/{assignmentName}", "RoleAssignments_Create"),
    ("DELETE", _AUTHZ + "/roleAssignments/{assignmentName}", "RoleAssignments_Delete"),
    ("GET", _AUTHZ + "/roleDefinitions", "RoleDefinitions_List"),
    ("GET", _AUTHZ + "/roleDefinitions/{roleDefinitionId}", "RoleDefinitions_Get"),
    ("GET", "/tenants", "Tenants_List"),
    ("GET", "/subscriptions", "Subscriptions_List"),
    ("GET", _SUB, "Subscriptions_Get"),
    ("GET", _SUB + "/locations", "Subscriptions_ListLocations"),
    ("GET", _SUB + "/resourceGroups", "ResourceGroups_List"),
    ("PUT", _SUB + "/resourceGroups/{resourceGroupName}", "ResourceGroups_CreateOrUpdate"),
    ("GET", _SUB + "/resourceGroups/{resourceGroupName}", "ResourceGroups_Get"),
    ("HEAD", _SUB + "/resourceGroups/{resourceGroupName}", "ResourceGroups_CheckExistence"),
    ("PATCH", _SUB + "/resourceGroups/{resourceGroupName}", "ResourceGroups_Update"),
    ("DELETE", _SUB + "/resourceGroups/{resourceGroupName}", "ResourceGroups_Delete"),
    ("GET", _SUB + "/providers/{provider}/locations/{location}/operationResults/{operationId}", "OperationResults_Get"),
    ("GET", _SUB + "/operationResults/{operationId}", "OperationResults_Get"),
    ("GET", _SUB + "/providers", "Providers_List"),
    ("GET", _SUB + "/providers/{provider}", "Providers_Get"),
    ("POST", _SUB + "/providers/{provider}/register", "Providers_Register"),
)

ROUTES: tuple[tuple[str, str, str], ...] = _PLATFORM + KEYVAULT_SPEC_OPERATIONS


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    for piece in re.split(r"(\{\w+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            pattern += "(?P<scope>(?:/[^/]+)*?)" if name == "scope" else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(piece)
    return re.compile(f"^{pattern}/?$", re.IGNORECASE)


_COMPILED = [(method, _compile(template), operation) for method, template, operation in ROUTES]


def match(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation a request names and its path arguments; None when no rule matches."""
    for rule_method, pattern, operation in _COMPILED:
        found = pattern.match(path)
        if found is not None and rule_method == method.upper():
            return operation, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def allowed_methods(path: str) -> list[str]:
    return sorted({method for method, pattern, _ in _COMPILED if pattern.match(path)})
