"""A schemathesis pass over the three official specs (issue 12), at a size CI can afford.

Every operation gets generated requests with a valid api-version and a bearer token, sent to the
in-process app through its WSGI interface. Each answer must not be a 5xx, an error must be in the Key
Vault shape (``{"error": {"code", "message"}}``), and a 2xx body must match the spec's response schema
(``nextLink: null`` aside, which the service sends). ``KV_EMULATOR_FUZZ_EXAMPLES`` raises the size
(the issue's full pass is about 10,000 cases); ``KV_EMULATOR_SPECS`` points at the specs when the shared
folder is not beside the repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
jsonschema_rs = pytest.importorskip("jsonschema_rs")  # schemathesis's own validator

from hypothesis import HealthCheck, settings  # noqa: E402

from kv_emulator import Emulator  # noqa: E402
from kv_emulator.api.versions import LATEST  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPECS = Path(os.environ.get("KV_EMULATOR_SPECS", ROOT.parent / "shared" / "specs" / "keyvault" / "2026-04-01"))
EXAMPLES = int(os.environ.get("KV_EMULATOR_FUZZ_EXAMPLES", "4"))
VAULT = "https://kv-emulator.vault.azure.net"

if not SPECS.is_dir():
    pytest.skip(f"the official Key Vault specs are not at {SPECS}", allow_module_level=True)

EMULATOR = Emulator()  # one for the module: fuzzed objects pile up like a long-lived vault's would


def _schema(filename: str) -> Any:
    raw = json.loads((SPECS / filename).read_text(encoding="utf-8"))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = EMULATOR.app
    return schema, raw


SECRETS, SECRETS_RAW = _schema("secrets.json")
KEYS, KEYS_RAW = _schema("keys.json")
CERTIFICATES, CERTIFICATES_RAW = _schema("certificates.json")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _without_null_next_links(body: Any) -> Any:
    if isinstance(body, dict):
        kept = {key: value for key, value in body.items() if (key, value) != ("nextLink", None)}
        return {key: _without_null_next_links(value) for key, value in kept.items()}
    if isinstance(body, list):
        return [_without_null_next_links(item) for item in body]
    return body


def _check(case: Any, raw: dict[str, Any]) -> None:
    case.query = {**(case.query or {}), "api-version": LATEST}
    response = case.call(base_url=VAULT, headers={"Authorization": "Bearer fuzz"})
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    body = json.loads(response.text) if response.text else None
    if response.status_code >= 400:
        assert body is not None and set(body) == {"error"}, f"{where}: {response.text[:500]}"
        assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str), where
        return
    declared = case.operation.definition.raw["responses"].get(str(response.status_code))
    assert declared is not None, f"{where}: a status the spec does not declare"
    if "schema" in declared and body is not None:
        schema = {**declared["schema"], "definitions": raw["definitions"]}
        errors = list(jsonschema_rs.Draft4Validator(schema).iter_errors(_without_null_next_links(body)))
        assert not errors, f"{where}: {errors[0].message} at {list(errors[0].instance_path)}"


@SECRETS.parametrize()
@FUZZ
def test_secrets_spec(case):
    _check(case, SECRETS_RAW)


@KEYS.parametrize()
@FUZZ
def test_keys_spec(case):
    _check(case, KEYS_RAW)


@CERTIFICATES.parametrize()
@FUZZ
def test_certificates_spec(case):
    _check(case, CERTIFICATES_RAW)
