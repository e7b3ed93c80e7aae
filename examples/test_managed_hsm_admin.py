"""Managed HSM administration: local RBAC (roles and assignments, enforced) and settings.

Run with ``python -m pytest examples/test_managed_hsm_admin.py``. The unmodified
``azure-keyvault-administration`` clients work against any ``https://<name>.managedhsm.azure.net``; with
``enable_rbac_authorization`` on, the HSM authorizes every key and administration operation by its own role
assignments, as the service does. See docs/managed-hsm.md.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.administration import (
    KeyVaultAccessControlClient,
    KeyVaultRoleScope,
    KeyVaultSetting,
    KeyVaultSettingsClient,
)
from azure.keyvault.keys import KeyClient

HSM_URL = "https://contoso-hsm.managedhsm.azure.net"
APP_ID = "11111111-2222-3333-4444-555555555555"
CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b"  # Managed HSM Crypto User


def test_built_in_roles_and_assignments(keyvault):
    roles = KeyVaultAccessControlClient(HSM_URL, keyvault.credential)
    names = {role.role_name for role in roles.list_role_definitions(KeyVaultRoleScope.GLOBAL)}
    assert "Managed HSM Crypto User" in names

    crypto_user = roles.get_role_definition(KeyVaultRoleScope.GLOBAL, CRYPTO_USER)
    assignment = roles.create_role_assignment(
        KeyVaultRoleScope.KEYS, crypto_user.id, "00000000-0000-0000-0000-0000000000a1"
    )
    assert assignment.properties.scope == "/keys"
    roles.delete_role_assignment(KeyVaultRoleScope.KEYS, assignment.name)


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_the_hsm_enforces_its_roles(keyvault, monkeypatch):
    monkeypatch.delenv("AZURE_CLIENT_ID", raising=False)
    app = keyvault.identity.add_service_principal(APP_ID, secret="s")
    keys = KeyClient(HSM_URL, ClientSecretCredential(keyvault.settings.tenant_id, APP_ID, "s"))

    with pytest.raises(HttpResponseError) as refused:
        keys.create_rsa_key("signing")  # no role yet
    assert refused.value.status_code == 403 and refused.value.error.code == "AccessDenied"

    # keyvault.credential is the HSM's initial administrator: it grants roles (but uses no keys itself).
    roles = KeyVaultAccessControlClient(HSM_URL, keyvault.credential)
    crypto_user = roles.get_role_definition(KeyVaultRoleScope.GLOBAL, CRYPTO_USER)
    roles.create_role_assignment(KeyVaultRoleScope.KEYS, crypto_user.id, app.object_id)
    assert keys.create_rsa_key("signing").name == "signing"

    # Or grant directly, without HTTP: keyvault.vault(HSM_URL).access_control.assign(role_name, principal, scope)


def test_settings(keyvault):
    settings = KeyVaultSettingsClient(HSM_URL, keyvault.credential)
    setting = settings.get_setting("AllowKeyManagementOperationsThroughARM")
    assert setting.getboolean() is False  # off on a new HSM
    settings.update_setting(KeyVaultSetting(name="AllowKeyManagementOperationsThroughARM", value=True))
    assert keyvault.vault(HSM_URL).hsm_settings.get("AllowKeyManagementOperationsThroughARM")[1] == "true"
