"""Managed HSM administration: local RBAC (roles and assignments, enforced) and settings.

Run with ``python -m pytest examples/test_managed_hsm_admin.py``. The unmodified
``azure-keyvault-administration`` clients work against any ``https://<name>.managedhsm.azure.net``; with
``enable_rbac_authorization`` on, the HSM authorizes every key and administration operation by its own role
assignments, as the service does. An HSM created through ARM (``managedHSMs``) is new, as on the service: it
answers nothing but its security domain until an administrator downloads the domain. See docs/managed-hsm.md.
"""

from __future__ import annotations

import base64

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.administration import (
    KeyVaultAccessControlClient,
    KeyVaultRoleScope,
    KeyVaultSetting,
    KeyVaultSettingsClient,
)
from azure.keyvault.certificates import CertificateClient, CertificatePolicy
from azure.keyvault.keys import KeyClient
from azure.keyvault.securitydomain import SecurityDomainClient
from azure.keyvault.securitydomain.models import CertificateInfo, SecurityDomainJsonWebKey
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from cryptography import x509

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


def _wrapping_key(certificates: CertificateClient, name: str) -> SecurityDomainJsonWebKey:
    """A certificate to wrap a share of the security domain to, as a JWK (what ``--sd-wrapping-keys`` sends);
    here a self-signed one the emulator's vault makes, in real life one per security officer."""
    der = certificates.begin_create_certificate(name, CertificatePolicy.get_default()).result().cer
    numbers = x509.load_der_x509_certificate(der).public_key().public_numbers()

    def b64url(number: int) -> str:
        return base64.urlsafe_b64encode(number.to_bytes((number.bit_length() + 7) // 8, "big")).decode().rstrip("=")

    return SecurityDomainJsonWebKey(
        kid=name, kty="RSA", key_ops=["wrapKey"], n=b64url(numbers.n), e=b64url(numbers.e),
        x5_c=[base64.b64encode(der).decode()], alg="RSA-OAEP-256",
    )  # fmt: skip


def test_an_hsm_created_through_arm_is_activated_by_its_security_domain(keyvault):
    sub, me = keyvault.settings.subscription_id, keyvault.credential.principal.object_id
    ResourceManagementClient(keyvault.credential, sub).resource_groups.create_or_update(
        "hsm-rg", {"location": "westus"}
    )
    body = {
        "location": "westus",
        "sku": {"family": "B", "name": "Standard_B1"},
        "properties": {"tenantId": keyvault.settings.tenant_id, "initialAdminObjectIds": [me]},
    }
    arm = KeyVaultManagementClient(keyvault.credential, sub).managed_hsms
    hsm = arm.begin_create_or_update("hsm-rg", "arm-hsm", body).result()
    assert hsm.properties.security_domain_properties.activation_status == "NotActivated"
    with pytest.raises(HttpResponseError):
        KeyClient(hsm.properties.hsm_uri, keyvault.credential).create_rsa_key("too-early")  # 403 until activated

    # The administrator downloads the security domain (3 wrapping keys, any 2 open it): the HSM activates.
    certificates = CertificateClient(keyvault.vault_url, keyvault.credential)
    wrapping = [_wrapping_key(certificates, f"sd-officer-{index}") for index in range(3)]
    SecurityDomainClient(hsm.properties.hsm_uri, keyvault.credential).begin_download(
        certificate_info=CertificateInfo(certificates=wrapping, required=2)
    ).result()  # keep what it returns: the only way to recover the HSM's keys elsewhere
    assert arm.get("hsm-rg", "arm-hsm").properties.security_domain_properties.activation_status == "Active"
    roles = KeyVaultAccessControlClient(hsm.properties.hsm_uri, keyvault.credential)
    assert any(a.properties.principal_id == me for a in roles.list_role_assignments(KeyVaultRoleScope.GLOBAL))
