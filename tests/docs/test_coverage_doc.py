"""docs/coverage.md is generated from the official specs, and the route table names exactly their operations."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from kv_emulator.api import HANDLERS
from kv_emulator.http.routes import OPERATIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "coverage.py"


def _load_script() -> ModuleType:
    # Not imported as "coverage": that name belongs to coverage.py.
    spec = importlib.util.spec_from_file_location("kv_emulator_coverage_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is created
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    return module


script = _load_script()


@pytest.fixture(scope="module")
def specs() -> list:
    specs_dir = script.DEFAULT_SPECS_DIR
    if not specs_dir.is_dir():
        pytest.skip(
            f"the official Key Vault specs are not at {specs_dir} "
            "(CI checks out the shared repository beside this one as ../shared)"
        )
    return script.load_specs(specs_dir)


def test_route_table_matches_the_specs_exactly(specs):
    assert script.route_problems(specs, OPERATIONS, HANDLERS) == []
    spec_ops = [op for spec in specs for op in spec.operations]
    assert sorted(spec_ops) == sorted(OPERATIONS)
    assert len(set(OPERATIONS)) == len(OPERATIONS)


def test_coverage_doc_is_up_to_date(specs):
    expected = script.render(specs, HANDLERS)
    current = script.DEFAULT_OUTPUT.read_text(encoding="utf-8") if script.DEFAULT_OUTPUT.is_file() else ""
    assert current == expected, "docs/coverage.md is out of date: run `python scripts/coverage.py`"


def test_check_mode_agrees(specs, capsys):
    assert script.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_mode_fails_on_a_stale_document(specs, tmp_path, capsys):
    stale = tmp_path / "coverage.md"
    stale.write_text("# Operation coverage\n", encoding="utf-8")
    assert script.main(["--check", "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert script.main(["--output", str(stale)]) == 0
    assert script.main(["--check", "--output", str(stale)]) == 0


def test_route_problems_names_every_difference(specs):
    routes = [op for op in OPERATIONS if op[2] != "GetSecret"] + [("GET", "/secrets/{secret-name}/x", "Made")]
    problems = script.route_problems(specs, routes, ["NoSuchOperation"])
    assert problems == [
        "in the specs but not in the route table: GET /secrets/{secret-name}/{secret-version} (GetSecret)",
        "in the route table but not in the specs: GET /secrets/{secret-name}/x (Made)",
        "HANDLERS has a handler for 'NoSuchOperation', which no spec operation is called",
    ]


def test_mismatch_makes_the_script_fail(specs, monkeypatch, capsys):
    monkeypatch.setattr(script, "load_emulator", lambda: (OPERATIONS[1:], HANDLERS))
    assert script.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "does not match the specs" in err
    assert OPERATIONS[0][2] in err


def test_missing_specs_fail_clearly(tmp_path, capsys):
    assert script.main(["--check", "--specs", str(tmp_path / "nowhere")]) == 1
    assert "specs directory not found" in capsys.readouterr().err


def test_every_spec_operation_is_listed_once_in_the_document(specs):
    text = script.render(specs, HANDLERS)
    for spec in specs:
        for method, template, operation in spec.operations:
            status = script.IMPLEMENTED if operation in HANDLERS else script.NOT_IMPLEMENTED
            assert text.count(f"| `{operation}` | {method} | `{template}` | {status} |") == 1
