"""One record per operation (kv_emulator/api/operation.py): every operation declares what routing, availability,
authorization and throttling need, and the pipeline reads it from there alone.

The rule behind the checks: on Key Vault every data-plane operation needs a permission (an access-policy
permission and an Azure RBAC data action on a vault, a local RBAC data action on a Managed HSM; learn.microsoft.com
"Azure Key Vault security" / "Managed HSM local RBAC built-in roles", 2025). An operation the emulator declares
no permission for must therefore be refused, never let through.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest
from werkzeug.exceptions import NotFound

from kv_emulator import api, config
from kv_emulator.api.operation import FIRST, Operation, Throttle
from kv_emulator.api.versions import PUBLISHED, ApiVersion
from kv_emulator.config import TRANSACTION_CLASSES
from kv_emulator.http import routes

HSM = "https://contoso-hsm.managedhsm.azure.net"
APP = "11111111-2222-3333-4444-555555555555"
_KEYS_JSON_ROOTS = ("/keys", "/deletedkeys", "/rng")


def _ids(records: tuple[Operation, ...]) -> list[str]:
    return [record.name for record in records]


# -- every record is complete ---------------------------------------------------------------------------------


@pytest.mark.parametrize("record", [r for r in api.OPERATIONS if r.on_vault], ids=lambda r: r.name)
def test_every_vault_operation_declares_its_permission_and_data_action(record):
    assert record.permission is not None, f"{record.name} declares no access-policy permission"
    kind, permission = record.permission
    assert kind in ("secrets", "keys", "certificates") and permission
    assert record.action and record.action.startswith("Microsoft.KeyVault/vaults/")


@pytest.mark.parametrize("record", [r for r in api.OPERATIONS if r.on_managed_hsm], ids=lambda r: r.name)
def test_every_managed_hsm_operation_declares_its_local_rbac_data_action(record):
    assert record.hsm_action and record.hsm_action.startswith("Microsoft.KeyVault/managedHsm/")


def test_every_record_is_well_formed():
    names = _ids(api.OPERATIONS)
    assert len(names) == len(set(names)), "an operationId is declared twice"
    throttles = set(typing.get_args(Throttle))
    for record in api.OPERATIONS:
        assert record.method in ("GET", "PUT", "POST", "PATCH", "DELETE"), record.name
        assert record.path.startswith("/"), record.name
        assert record.since in PUBLISHED, record.name
        assert record.hosts and record.hosts <= {"vault", "managedhsm"}, record.name
        assert record.throttle in throttles, record.name
        assert record.throttle.startswith("key-") or record.throttle in TRANSACTION_CLASSES, record.name
        # keys.json (and only it) is on both kinds of host, and counts as key transactions
        in_keys_json = record.path.startswith(_KEYS_JSON_ROOTS) and record.on_vault
        assert (record.hosts == {"vault", "managedhsm"}) == in_keys_json, record.name
        assert record.throttle.startswith("key-") == in_keys_json, record.name


def test_the_tables_are_views_of_the_records():
    assert tuple(r.route for r in api.OPERATIONS if r.on_vault) == routes.OPERATIONS
    assert tuple(r.route for r in api.OPERATIONS if not r.on_vault) == routes.MANAGED_HSM_OPERATIONS
    assert {r.name: r.handler for r in api.OPERATIONS} == api.HANDLERS
    assert {r.name: r for r in api.OPERATIONS} == api.RECORDS
    assert {r.name: r.since for r in api.OPERATIONS if r.since != FIRST} == api.OPERATION_SINCE


@pytest.mark.parametrize("version", PUBLISHED)
def test_routing_offers_what_the_records_say_exists_at_each_version(version):
    """At each api-version the route map holds exactly the operations whose record says they exist then."""
    at = ApiVersion(version, version)
    for managed_hsm in (False, True):
        endpoints = {rule.endpoint for rule in routes.build_map(version, managed_hsm).iter_rules()}
        expected = {r.name for r in api.OPERATIONS if r.exists_at(at) and (r.on_vault or managed_hsm)}
        assert endpoints == expected


def test_a_managed_hsm_operation_is_not_routed_on_a_vault_host():
    with pytest.raises(NotFound):
        routes.match_route("/settings", "GET")
    assert routes.match_route("/settings", "GET", None, True)[0] == "GetSettings"


# -- authorization refuses an operation that declares no permission -------------------------------------------


@pytest.fixture
def app_token(keyvault, monkeypatch):
    """A registered principal's bearer token (it holds only what a test grants)."""
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    principal = keyvault.identity.add_service_principal(APP, secret="s")

    def token(resource: str) -> dict[str, str]:
        value, _ = keyvault.identity.issue(principal, resource)
        return {"Authorization": f"Bearer {value}"}

    return principal, token


def _strip(monkeypatch, name: str, **fields) -> None:
    monkeypatch.setitem(api.RECORDS, name, dataclasses.replace(api.RECORDS[name], **fields))


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_rbac_refuses_an_operation_without_a_permission(keyvault, wire, app_token, monkeypatch):
    principal, token = app_token
    keyvault.vault().secrets.set("s", "v")
    keyvault.vault().authorization.assign("Key Vault Administrator", principal)
    headers = token("https://vault.azure.net")
    assert wire.get("/secrets/s", token=False, headers=headers).status_code == 200
    _strip(monkeypatch, "GetSecret", permission=None, action=None)
    refused = wire.get("/secrets/s", token=False, headers=headers)
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert (error["code"], error["innererror"]["code"]) == ("Forbidden", "ForbiddenByRbac")
    assert error["message"] == "The operation declares no permission or data action, so it is refused."


@pytest.mark.keyvault(enable_rbac_authorization=False)
def test_access_policies_refuse_an_operation_without_a_permission(keyvault, wire, app_token, monkeypatch):
    principal, token = app_token
    keyvault.vault().secrets.set("s", "v")
    keyvault.vault().authorization.set_access_policy(principal, secrets=["all"])
    headers = token("https://vault.azure.net")
    assert wire.get("/secrets/s", token=False, headers=headers).status_code == 200
    _strip(monkeypatch, "GetSecret", action=None)
    refused = wire.get("/secrets/s", token=False, headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["innererror"]["code"] == "AccessDenied"


@pytest.mark.keyvault(enable_rbac_authorization=True)
def test_a_managed_hsm_refuses_an_operation_without_a_data_action(keyvault, wire_for, app_token, monkeypatch):
    principal, token = app_token
    hsm = keyvault.vault(HSM)
    hsm.keys.create("k", "RSA-HSM")
    hsm.access_control.assign("Managed HSM Crypto User", principal, scope="/")
    client = wire_for(keyvault.app, base_url=HSM)
    headers = token("https://managedhsm.azure.net")
    assert client.get("/keys/k", token=False, headers=headers).status_code == 200
    _strip(monkeypatch, "GetKey", hsm_action=None)
    refused = client.get("/keys/k", token=False, headers=headers)
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "AccessDenied"
    assert error["message"].startswith("Not authorized to access (an operation that declares no data action) on /")


# -- throttling reads the record ----------------------------------------------------------------------------


@pytest.mark.keyvault(throttling=True, throttle_limits={"vault-other": 1})
def test_throttling_counts_an_operation_in_the_class_its_record_declares(keyvault, wire, monkeypatch):
    keyvault.vault().secrets.set("s", "v")
    assert wire.get("/secrets/s").status_code == 200
    assert wire.get("/secrets/s").status_code == 429  # GetSecret: one "vault-other" transaction per window
    _strip(monkeypatch, "GetSecret", throttle="secret-create")
    assert wire.get("/secrets/s").status_code == 200  # now counted among the creates, which have room


# -- settings are read by their declared types (kv_emulator/config.py) ------------------------------------


def test_every_setting_is_read_by_its_declared_type():
    hints = typing.get_type_hints(config.Settings)
    for field in dataclasses.fields(config.Settings):
        assert hints[field.name] in config._COERCERS, field.name
        assert config.format_words(field.name)
    settings = config.Settings.from_options(
        enable_rbac_authorization="none",
        throttle_retry_after="",
        vaults="aaa, bbb",
        throttle_limits="secret-create=3",
        soft_delete_retention_in_days="7",
        throttle_scale="0.5",
        sku=" standard ",
    )
    assert settings.enable_rbac_authorization is None and settings.throttle_retry_after is None
    assert settings.vaults == ("aaa", "bbb") and settings.throttle_limits == {"secret-create": 3}
    assert (settings.soft_delete_retention_in_days, settings.throttle_scale, settings.sku) == (7, 0.5, "standard")
    with pytest.raises(TypeError, match="option enable_rbac_authorization expects true, false or none, got ''"):
        config.Settings.from_options(enable_rbac_authorization="")
    with pytest.raises(TypeError, match="option throttle_scale expects a number, got None"):
        config.Settings.from_options(throttle_scale=None)


def test_a_setting_of_a_type_without_a_reader_is_an_error(monkeypatch):
    """Before, any type the coercer did not name was read as a tuple of names."""
    monkeypatch.delitem(config._COERCERS, tuple[str, ...])
    config._field_types.cache_clear()
    try:
        with pytest.raises(TypeError, match=r"no reader.*'vaults'"):
            config.Settings.from_options(vaults="aaa")
    finally:
        monkeypatch.undo()
        config._field_types.cache_clear()
    assert config.Settings.from_options(vaults="aaa").vaults == ("aaa",)
