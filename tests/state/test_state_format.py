"""The state format (kv_emulator.state, docs/state.md): one lossless, versioned JSON document that each model
writes and reads itself. These are the emulator's own guarantees (no Azure counterpart): a dump validates
against the committed JSON Schema, loads into a fresh emulator unchanged, carries every version and deleted
object, and a document this build cannot read (newer format, unknown section) is refused, changing nothing."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from azure.keyvault.secrets import SecretClient
from state_support import populate

import kv_emulator
from kv_emulator.state import FORMAT, StateError, import_state, register_section

SCHEMA = Path(kv_emulator.__file__).parent / "state" / "schema.json"


def validate(document: dict[str, Any]) -> None:
    """Against schema.json (jsonschema_rs comes with schemathesis, a dev dependency)."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    jsonschema_rs.validator_for(json.loads(SCHEMA.read_text())).validate(document)


@pytest.fixture(scope="module")
def populated() -> kv_emulator.Emulator:
    kv = kv_emulator.Emulator(certificate_issuance_time=0)
    populate(kv)
    return kv


def test_a_dump_is_plain_json_and_matches_the_schema(populated: kv_emulator.Emulator) -> None:
    document = populated.export_state()
    assert document["format"] == FORMAT == 1
    assert json.loads(json.dumps(document)) == document  # plain data only: no bytes, sets, objects
    validate(document)
    assert set(document) >= {"format", "clock", "identity", "registry", "management"}


def test_a_schema_violation_is_caught() -> None:
    """The schema check is not a rubber stamp: a version id that is not 32 hex digits fails it."""
    kv = kv_emulator.Emulator()
    kv.vault().secrets.set("s", "v")
    document = kv.export_state()
    document["registry"]["vaults"][0]["secrets"]["objects"][0]["versions"][0]["version"] = "nope"
    with pytest.raises(ValueError):
        validate(document)


def test_a_dump_loads_into_a_fresh_emulator_unchanged(populated: kv_emulator.Emulator) -> None:
    document = json.loads(json.dumps(populated.export_state()))
    again = kv_emulator.Emulator().import_state(document)
    assert again.export_state() == document
    vault = again.vault()
    assert [v.payload.value for v in vault.secrets.list_versions("db")] == ["v1", "v2"]
    assert vault.secrets.get_deleted("gone").obj.latest.payload.value == "bye"
    assert len(vault.keys.list_versions("rsa")) == 2
    assert vault.keys.get_rotation_policy("rsa").expiry_time == "P90D"
    assert vault.certificates.get_operation("merge-me").status == "inProgress"
    assert again.vault("dropped") is not populated.vault("dropped")
    assert again.management.state.deleted["dropped"].vault.secrets.get("inside").payload.value.startswith("a deleted")
    assert again.identity.signing_key.private_numbers() == populated.identity.signing_key.private_numbers()
    assert again.registry.sealer.key == populated.registry.sealer.key
    assert abs(again.clock.time() - populated.clock.time()) < 5


def test_a_backup_from_one_restores_in_the_other(populated: kv_emulator.Emulator) -> None:
    blob = populated.vault().secrets.backup("db")
    again = kv_emulator.Emulator().import_state(populated.export_state())
    again.vault().secrets.purge("gone")
    again.vault().secrets.delete("db")
    again.vault().secrets.purge("db")
    assert again.vault().secrets.restore_backup(blob).payload.value == "v2"


def test_the_sdk_reads_the_same_after_a_load(populated: kv_emulator.Emulator) -> None:
    again = kv_emulator.Emulator().import_state(populated.export_state())
    answers = []
    for kv in (populated, again):
        with kv:
            client = SecretClient(kv.vault_url, kv.credential)
            answers.append(
                (
                    [(p.name, p.version, p.created_on) for p in client.list_properties_of_secret_versions("db")],
                    [(d.name, d.deleted_date, d.scheduled_purge_date) for d in client.list_deleted_secrets()],
                    client.get_secret("db").properties.expires_on,
                )
            )
    assert answers[0] == answers[1]


def test_a_newer_format_is_refused_naming_both() -> None:
    kv = kv_emulator.Emulator()
    kv.vault().secrets.set("kept", "v")
    with pytest.raises(StateError, match=r"state format 2, written by a newer kv-emulator; this build reads .* 1 to 1"):
        kv.import_state({"format": FORMAT + 1})
    assert kv.vault().secrets.get("kept").payload.value == "v"


def test_an_unknown_section_is_refused_not_dropped() -> None:
    kv = kv_emulator.Emulator()
    kv.vault().secrets.set("kept", "v")
    document = {**kv.export_state(), "managed_hsm_admin": {"role_assignments": []}}
    with pytest.raises(StateError, match="'managed_hsm_admin' that this build of kv-emulator does not know"):
        kv_emulator.Emulator().import_state(document)
    with pytest.raises(kv_emulator.SeedError, match="managed_hsm_admin"):
        kv_emulator.Emulator().load(_write(document))


def test_a_registered_section_is_written_and_read() -> None:
    """Other parts (Managed HSM administration) add sections of their own; they travel with the rest."""
    kept: dict[str, Any] = {}
    register_section("test_extra", lambda kv: kept.get("out"), lambda kv, data: kept.__setitem__("in", data))
    try:
        kept["out"] = {"settings": [1, 2]}
        document = kv_emulator.Emulator().export_state()
        assert document["test_extra"] == {"settings": [1, 2]}
        import_state(kv_emulator.Emulator(), document)
        assert kept["in"] == {"settings": [1, 2]}
    finally:
        from kv_emulator.state import _SECTIONS

        _SECTIONS.pop("test_extra")


def test_a_missing_optional_field_reads_as_its_default(populated: kv_emulator.Emulator) -> None:
    """An older build's data lacks the fields a newer build added as optional: it loads unchanged."""
    document = copy.deepcopy(populated.export_state())
    vault = next(v for v in document["registry"]["vaults"] if v["url"] == populated.vault_url)
    for item in vault["secrets"]["objects"]:
        for version in item["versions"]:
            version["attributes"].pop("not_before")
            version.pop("content_type")
            version.pop("tags")
    again = kv_emulator.Emulator().import_state(document)
    assert again.vault().secrets.get("db").payload.content_type is None
    assert again.vault().secrets.get("db").attributes.not_before is None


def _write(document: dict[str, Any]) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "state.json"
    path.write_text(json.dumps(document))
    return path


def test_a_managed_hsms_administration_travels_with_it() -> None:
    """Local RBAC (a custom role, an assignment), settings, the security domain and full-backup storage."""
    from kv_emulator.objects.hsm_backup import BackupFolder
    from kv_emulator.objects.hsm_rbac import HsmRoleAssignment

    kv = kv_emulator.Emulator()
    hsm = kv.vault("https://state-admin.managedhsm.azure.net")
    hsm.hsm_settings.update("AllowKeyManagementOperationsThroughARM", "true")
    role = hsm.access_control.definitions[0].name
    hsm.access_control.add_assignment(HsmRoleAssignment("a1", "/keys", role, "0000-principal"))
    before = hsm.access_control.to_state()
    assert before["assignments"]
    kv.registry.hsm_backups.put(BackupFolder("https://blob.example/backup-1", "state-admin", "domain", 1, []))
    document = json.loads(json.dumps(kv.export_state()))
    validate(document)
    again = kv_emulator.Emulator().import_state(document)
    restored = again.vault("https://state-admin.managedhsm.azure.net")
    assert restored.access_control.to_state() == before
    assert restored.security_domain.to_state() == hsm.security_domain.to_state()
    assert restored.hsm_settings.get("AllowKeyManagementOperationsThroughARM")[1] == "true"
    assert again.registry.hsm_backups.get("https://blob.example/backup-1") is not None
    assert again.export_state() == document


def test_arm_managed_hsms_travel_deleted_ones_with_their_data_plane() -> None:
    from kv_emulator.hosts import VaultAddress
    from kv_emulator.management.state import DeletedManagedHsmRecord, ManagedHsmRecord

    kv = kv_emulator.Emulator()
    record = ManagedHsmRecord("gone-hsm", "rg", "westus", {}, {"name": "Standard_B1"}, {"x": 1}, 1.0, 2.0)
    hsm = kv.vault("https://gone-hsm.managedhsm.azure.net")
    hsm.keys.create("kept", "RSA-HSM")
    kv.registry.remove(VaultAddress("gone-hsm", True), until=4e9)
    kv.management.state.deleted_hsms["gone-hsm"] = DeletedManagedHsmRecord(record, hsm, 3.0, 4e9)
    kv.management.state.hsms["live-hsm"] = dataclasses.replace(record, name="live-hsm")
    document = json.loads(json.dumps(kv.export_state()))
    validate(document)
    again = kv_emulator.Emulator().import_state(document)
    deleted = again.management.state.deleted_hsms["gone-hsm"]
    assert deleted.record == record and deleted.vault.keys.get("kept").payload.material.kty == "RSA-HSM"
    assert again.management.state.hsms["live-hsm"].name == "live-hsm"
    assert again.export_state() == document


def test_a_document_that_cannot_be_loaded_changes_nothing() -> None:
    kv = kv_emulator.Emulator()
    kv.vault().secrets.set("kept", "v")
    other = kv_emulator.Emulator()
    other.vault().keys.create("broken", "EC")
    document = other.export_state()
    document["registry"]["vaults"][0]["keys"]["objects"][0]["versions"][0]["jwk"] = {"kty": "EC"}
    with pytest.raises(ValueError):
        kv.import_state(document)
    assert kv.vault().secrets.get("kept").payload.value == "v"
