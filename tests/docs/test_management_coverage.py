"""The control-plane table of docs/coverage.md: generated from the Microsoft.KeyVault resource-manager spec,
whose operations the management route table names exactly."""

from __future__ import annotations

import pytest
from test_coverage_doc import script

from kv_emulator.management.app import HANDLERS
from kv_emulator.management.routes import KEYVAULT_SPEC_OPERATIONS, match


@pytest.fixture(scope="module")
def arm_operations():
    if not script.DEFAULT_ARM_SPEC.is_file():
        pytest.skip(f"the control-plane spec is not at {script.DEFAULT_ARM_SPEC} (CI checks out ../shared)")
    return script.load_arm_spec(script.DEFAULT_ARM_SPEC)[1]


def test_route_table_names_the_spec_operations_exactly(arm_operations):
    assert sorted(arm_operations) == sorted(KEYVAULT_SPEC_OPERATIONS)


def test_every_spec_operation_routes_to_its_name():
    for method, template, operation in KEYVAULT_SPEC_OPERATIONS:
        path = template.replace("{subscriptionId}", "00000000-0000-0000-0000-00000000c0de")
        for name in ("resourceGroupName", "vaultName", "name", "location", "keyName", "keyVersion", "secretName"):
            path = path.replace("{" + name + "}", "x1")
        path = path.replace("{operationKind}", "add")
        path = path.replace("{privateEndpointConnectionName}", "c").replace(
            "{networkSecurityPerimeterConfigurationName}", "n"
        )
        assert match(method, path) is not None and match(method, path)[0] == operation, (method, path)


def test_document_lists_each_control_plane_operation_once(arm_operations):
    text = script.DEFAULT_OUTPUT.read_text(encoding="utf-8")
    for method, template, operation in arm_operations:
        status = script.IMPLEMENTED if operation in HANDLERS else script.NOT_IMPLEMENTED
        assert text.count(f"| `{operation}` | {method} | `{template}` | {status} |") == 1
