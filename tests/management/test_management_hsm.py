"""ARM ``Microsoft.KeyVault/managedHSMs`` through the unmodified management SDK: create (long-running), get,
list, update, soft delete, the deleted list, recover, purge, the name check; the HSM's data plane follows, new and
not activated until its security domain is downloaded, with its initial administrators holding Managed HSM
Administrator."""

from __future__ import annotations

import pytest
from arm_support import GROUP, SUB
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.administration import KeyVaultAccessControlClient, KeyVaultRoleScope
from azure.keyvault.keys import KeyClient
from azure.keyvault.securitydomain import SecurityDomainClient
from azure.keyvault.securitydomain.models import CertificateInfo, SecurityDomainJsonWebKey
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.keyvault.models import ManagedHsm, ManagedHsmProperties, ManagedHsmSku
from azure.mgmt.resource.resources import ResourceManagementClient
from hsm.security_domain_client import certificate_jwk, make_wrapping_key

ADMIN = "a290e904-7015-4bba-90c8-60543313cdb4"
NAME = "contoso-hsm"
URL = f"https://{NAME}.managedhsm.azure.net"


@pytest.fixture
def mgmt(keyvault):
    ResourceManagementClient(keyvault.credential, SUB).resource_groups.create_or_update(GROUP, {"location": "westus"})
    return KeyVaultManagementClient(keyvault.credential, SUB)


@pytest.fixture(scope="module")
def wrapping_keys():
    return [make_wrapping_key(f"sd-{index}") for index in range(3)]


def _activate(keyvault, wrapping_keys, credential=None) -> None:
    """Download the security domain: what a new HSM needs before anything else answers (the service's rule)."""
    jwks = [SecurityDomainJsonWebKey(certificate_jwk(certificate)) for _, certificate in wrapping_keys]
    client = SecurityDomainClient(URL, credential or keyvault.credential)
    client.begin_download(certificate_info=CertificateInfo(certificates=jwks, required=2)).result()


def _create(keyvault, mgmt, admins, **properties):
    body = ManagedHsm(
        location="westus",
        sku=ManagedHsmSku(family="B", name="Standard_B1"),
        properties=ManagedHsmProperties(
            tenant_id=keyvault.settings.tenant_id, initial_admin_object_ids=admins, **properties
        ),
    )
    return mgmt.managed_hsms.begin_create_or_update(GROUP, NAME, body).result()


def test_create_get_and_list(keyvault, mgmt):
    me = keyvault.credential.principal.object_id
    created = _create(keyvault, mgmt, [me], soft_delete_retention_in_days=7)
    assert created.properties.hsm_uri == f"{URL}/"
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.initial_admin_object_ids == [me]
    assert created.id == f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/managedHSMs/{NAME}"
    assert (created.sku.family, created.sku.name) == ("B", "Standard_B1")
    assert mgmt.managed_hsms.get(GROUP, NAME).properties.soft_delete_retention_in_days == 7
    assert [h.name for h in mgmt.managed_hsms.list_by_subscription()] == [NAME]
    assert [h.name for h in mgmt.managed_hsms.list_by_resource_group(GROUP)] == [NAME]
    assert keyvault.vault(URL).managed_hsm
    with pytest.raises(ResourceNotFoundError):
        mgmt.managed_hsms.get(GROUP, "other-hsm")


def test_the_initial_administrators_hold_the_administrator_role(keyvault, mgmt, wrapping_keys):
    """The data plane of an ARM-made HSM is authorized by its local RBAC from the start."""
    me = keyvault.credential.principal.object_id
    _create(keyvault, mgmt, [me, "77777777-0000-0000-0000-000000000007"])
    _activate(keyvault, wrapping_keys)
    roles = KeyVaultAccessControlClient(URL, keyvault.credential)
    admins = sorted(
        a.properties.principal_id
        for a in roles.list_role_assignments(KeyVaultRoleScope.GLOBAL)
        if a.properties.role_definition_id.endswith(ADMIN)
    )
    assert admins == sorted([me, "77777777-0000-0000-0000-000000000007"])
    with pytest.raises(HttpResponseError, match="keys/create"):
        KeyClient(URL, keyvault.credential).create_rsa_key("k")  # an administrator uses no keys
    roles.create_role_assignment(
        KeyVaultRoleScope.GLOBAL,
        roles.get_role_definition(KeyVaultRoleScope.GLOBAL, "21dbd100-6940-42c2-9190-5d6cb909625b").id,
        me,
    )
    assert KeyClient(URL, keyvault.credential).create_rsa_key("k").name == "k"


def test_an_hsm_not_naming_the_caller_refuses_it(keyvault, mgmt, wrapping_keys):
    """Only the initial administrators may download the security domain (Managed HSM Administrator holds
    ``securitydomain/download/action``), and once it is activated, only they may administer it."""
    _create(keyvault, mgmt, ["77777777-0000-0000-0000-000000000007"])
    with pytest.raises(HttpResponseError) as refused:
        _activate(keyvault, wrapping_keys)
    assert refused.value.status_code == 403
    keyvault.vault(URL).security_domain.download([c for _, c in wrapping_keys], 2)  # as the administrator would
    keyvault.clock.advance(5)  # the activation takes a moment
    with pytest.raises(HttpResponseError) as refused:
        list(KeyVaultAccessControlClient(URL, keyvault.credential).list_role_assignments(KeyVaultRoleScope.GLOBAL))
    assert refused.value.status_code == 403 and refused.value.error.code == "AccessDenied"


def test_update_changes_tags_and_keeps_the_rest(keyvault, mgmt):
    _create(keyvault, mgmt, [keyvault.credential.principal.object_id])
    updated = mgmt.managed_hsms.begin_update(
        GROUP, NAME, ManagedHsm(location="westus", tags={"env": "test"}, properties=ManagedHsmProperties())
    ).result()
    assert updated.tags == {"env": "test"}
    assert updated.properties.hsm_uri == f"{URL}/"


def test_delete_is_soft_and_purge_forgets(keyvault, mgmt, wrapping_keys):
    me = keyvault.credential.principal.object_id
    _create(keyvault, mgmt, [me])
    _activate(keyvault, wrapping_keys)
    keyvault.vault(URL).keys.create("k", "RSA-HSM")
    mgmt.managed_hsms.begin_delete(GROUP, NAME).result()
    assert list(mgmt.managed_hsms.list_by_subscription()) == []
    [deleted] = mgmt.managed_hsms.list_deleted()
    assert deleted.name == NAME
    assert deleted.properties.mhsm_id.endswith(f"/managedHSMs/{NAME}")
    assert mgmt.managed_hsms.get_deleted(NAME, "westus").properties.location == "westus"
    with pytest.raises(HttpResponseError) as gone:
        KeyClient(URL, keyvault.credential).get_key("k")
    assert gone.value.status_code == 404  # the host is gone while deleted
    with pytest.raises(HttpResponseError) as conflict:
        _create(keyvault, mgmt, [me])
    assert conflict.value.status_code == 409
    mgmt.managed_hsms.begin_purge_deleted(NAME, "westus").result()
    assert list(mgmt.managed_hsms.list_deleted()) == []
    created = _create(keyvault, mgmt, [me])  # the name is free again, the new HSM empty
    assert created.properties.hsm_uri == f"{URL}/"
    assert "k" not in keyvault.vault(URL).keys


def test_a_body_without_location_or_tenant_is_refused(keyvault, mgmt, wire_for):
    arm = wire_for(keyvault.management, base_url="https://management.azure.com")
    path = f"/subscriptions/{SUB}/resourceGroups/{GROUP}/providers/Microsoft.KeyVault/managedHSMs/{NAME}"
    response = arm.put(path, body={"properties": {}}, api_version="2023-07-01")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "LocationRequired"
    response = arm.put(path, body={"location": "westus", "properties": {}}, api_version="2023-07-01")
    assert response.status_code == 400


def test_a_new_hsm_is_not_activated_until_its_security_domain_is_downloaded(keyvault, mgmt, wrapping_keys):
    """The service provisions a new HSM but does not activate it: GET says ``NotActivated`` with this text
    (recorded: Azure PowerShell's Invoke-AzRest help, a GET of a new HSM, 2024), and its keys answer nothing
    until the security domain is downloaded; then ``Active`` (its text unverified)."""
    me = keyvault.credential.principal.object_id
    created = _create(keyvault, mgmt, [me])
    domain = created.properties.security_domain_properties
    assert domain.activation_status == "NotActivated"
    assert domain.activation_status_message == (
        "Your HSM has been provisioned, but cannot be used for cryptographic operations until it is activated. To "
        "activate the HSM, download the security domain."
    )
    assert created.properties.status_message == "The Managed HSM is provisioned and ready to use."
    with pytest.raises(HttpResponseError) as refused:
        KeyClient(URL, keyvault.credential).create_rsa_key("k")
    assert refused.value.status_code == 403
    _activate(keyvault, wrapping_keys)
    assert mgmt.managed_hsms.get(GROUP, NAME).properties.security_domain_properties.activation_status == "Active"
    assert [
        h.properties.security_domain_properties.activation_status for h in mgmt.managed_hsms.list_by_subscription()
    ] == ["Active"]


def test_the_name_check(keyvault, mgmt):
    """ManagedHsms_CheckMhsmNameAvailability answers as the vault name check does: a bad name is
    ``AccountNameInvalid``, a name held by an HSM (live or soft-deleted) ``AlreadyExists`` (texts unverified)."""
    check = mgmt.managed_hsms.check_mhsm_name_availability
    assert check({"name": NAME}).name_available is True
    invalid = check({"name": "-bad-"})
    assert (invalid.name_available, invalid.reason) == (False, "AccountNameInvalid")
    _create(keyvault, mgmt, [keyvault.credential.principal.object_id])
    taken = check({"name": NAME})
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    assert NAME in taken.message
    mgmt.managed_hsms.begin_delete(GROUP, NAME).result()
    assert check({"name": NAME}).reason == "AlreadyExists"  # a soft-deleted HSM keeps its name
    mgmt.managed_hsms.begin_purge_deleted(NAME, "westus").result()
    assert check({"name": NAME}).name_available is True


def test_recover_brings_the_hsm_back_whole(keyvault, mgmt, wrapping_keys):
    """``createMode: recover`` on PUT brings a soft-deleted HSM back with its keys, roles and activation (the
    spec's ManagedHsmProperties.createMode, as for vaults); without one waiting, a 404 (text unverified)."""
    me = keyvault.credential.principal.object_id
    with pytest.raises(ResourceNotFoundError):
        _create(keyvault, mgmt, [me], create_mode="recover")
    _create(keyvault, mgmt, [me])
    _activate(keyvault, wrapping_keys)
    keyvault.vault(URL).keys.create("k", "RSA-HSM")
    mgmt.managed_hsms.begin_delete(GROUP, NAME).result()
    recovered = _create(keyvault, mgmt, [me], create_mode="recover")
    assert recovered.properties.security_domain_properties.activation_status == "Active"
    assert list(mgmt.managed_hsms.list_deleted()) == []
    assert "k" in keyvault.vault(URL).keys
    admins = [
        a.properties.principal_id
        for a in KeyVaultAccessControlClient(URL, keyvault.credential).list_role_assignments(KeyVaultRoleScope.GLOBAL)
    ]
    assert me in admins


def test_deleting_the_resource_group_deletes_its_hsms(keyvault, mgmt):
    """Deleting a resource group deletes everything in it; an HSM goes to the deleted list, as a vault does."""
    _create(keyvault, mgmt, [keyvault.credential.principal.object_id])
    ResourceManagementClient(keyvault.credential, SUB).resource_groups.begin_delete(GROUP).result()
    assert list(mgmt.managed_hsms.list_by_subscription()) == []
    assert [h.name for h in mgmt.managed_hsms.list_deleted()] == [NAME]


def test_the_name_check_on_the_wire(keyvault, wire_for):
    """The body names the HSM only (CheckMhsmNameAvailabilityParameters); a body without a name is a 400."""
    arm = wire_for(keyvault.management, base_url="https://management.azure.com")
    path = f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/checkMhsmNameAvailability"
    response = arm.post(path, body={"name": "free-hsm"}, api_version="2023-07-01")
    assert (response.status_code, response.get_json()) == (200, {"nameAvailable": True})
    response = arm.post(path, body={}, api_version="2023-07-01")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "BadRequest"
