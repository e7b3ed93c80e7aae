"""A Managed HSM's settings: the one the service documents, its type and default, updates, unknown names."""

from __future__ import annotations

import json

import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.keyvault.administration import KeyVaultSetting, KeyVaultSettingsClient, KeyVaultSettingType
from azure.keyvault.administration.aio import KeyVaultSettingsClient as AsyncSettingsClient
from tests_support import error_of

from kv_emulator.objects.hsm_settings import HsmSettings

HSM = "https://contoso-hsm.managedhsm.azure.net"
NAME = "AllowKeyManagementOperationsThroughARM"
APP = "11111111-2222-3333-4444-555555555555"


def test_a_new_hsm_lists_its_setting_off(hsm):
    """Shape of settings.json's ListSettings example (7.5): a string value and its type; false on a new HSM
    (Azure PowerShell live test TestSetting.ps1 turns it on)."""
    response = hsm.get("/settings", api_version="7.5")
    assert response.status_code == 200
    assert response.get_json() == {"settings": [{"name": NAME, "value": "false", "type": "boolean"}]}


def test_update_then_get(hsm, keyvault):
    """UpdateSetting example (7.5): ``PATCH {"value": "true"}`` answers the setting."""
    updated = hsm.patch(f"/settings/{NAME}", body={"value": "true"}, api_version="7.5")
    assert (updated.status_code, updated.get_json()) == (200, {"name": NAME, "value": "true", "type": "boolean"})
    assert hsm.get(f"/settings/{NAME}").get_json() == {"name": NAME, "value": "true", "type": "boolean"}
    assert keyvault.vault(HSM).hsm_settings.get(NAME) == (NAME, "true", "boolean")


def test_an_unknown_setting_and_a_bad_value(hsm):
    missing = hsm.get("/settings/NoSuchSetting")
    assert missing.status_code == 404  # unverified status, code and text
    assert error_of(missing) == {"code": "SettingNotFound", "message": "The setting 'NoSuchSetting' was not found."}
    assert hsm.patch("/settings/NoSuchSetting", body={"value": "true"}).status_code == 404
    bad = hsm.patch(f"/settings/{NAME}", body={"value": "maybe"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "BadParameter"
    assert hsm.patch(f"/settings/{NAME}", body={"value": True}).status_code == 400  # a JSON boolean, not a string
    assert hsm.get(f"/settings/{NAME}").get_json()["value"] == "false"


def test_settings_came_with_7_4(hsm):
    assert hsm.get("/settings", api_version="7.3").status_code == 404


def test_the_sdk_client(keyvault):
    client = KeyVaultSettingsClient(HSM, keyvault.credential)
    [setting] = client.list_settings()
    assert (setting.name, setting.value, setting.setting_type) == (NAME, "false", KeyVaultSettingType.BOOLEAN)
    assert setting.getboolean() is False
    assert client.update_setting(KeyVaultSetting(name=NAME, value=True)).getboolean() is True
    assert client.get_setting(NAME).getboolean() is True
    with pytest.raises(HttpResponseError) as missing:
        client.get_setting("NoSuchSetting")
    assert missing.value.status_code == 404


async def test_the_async_sdk_client(keyvault):
    async with AsyncSettingsClient(HSM, keyvault.async_credential) as client:
        assert [s.name async for s in client.list_settings()] == [NAME]
        await client.update_setting(KeyVaultSetting(name=NAME, value=True))
        assert (await client.get_setting(NAME)).value == "true"


@pytest.mark.keyvault(enable_rbac_authorization=True, strict_auth=True)
def test_settings_need_an_administrator_when_checks_are_on(keyvault, monkeypatch):
    """The data action that guards settings is unverified; the emulator gives it to Managed HSM Administrator."""
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    principal = keyvault.identity.add_service_principal(APP, secret="s")
    stranger = KeyVaultSettingsClient(HSM, ClientSecretCredential(keyvault.settings.tenant_id, APP, "s"))
    with pytest.raises(HttpResponseError) as refused:
        stranger.get_setting(NAME)
    assert refused.value.status_code == 403 and refused.value.error.code == "AccessDenied"
    assert KeyVaultSettingsClient(HSM, keyvault.credential).get_setting(NAME).value == "false"  # the administrator
    keyvault.vault(HSM).access_control.assign("Managed HSM Administrator", principal)
    assert stranger.update_setting(KeyVaultSetting(name=NAME, value=True)).value == "true"


def test_state_round_trips_as_plain_data():
    settings = HsmSettings()
    settings.update(NAME, "TRUE")
    state = json.loads(json.dumps(settings.to_state()))
    assert state == {NAME: "true"}
    assert HsmSettings.from_state(state).get(NAME) == (NAME, "true", "boolean")
