"""Generate docs/coverage.md: which Key Vault data-plane and control-plane operations kv-emulator implements.

The control-plane table comes from the Microsoft.KeyVault resource-manager spec (api-version 2026-02-01);
``kv_emulator.management.routes.KEYVAULT_SPEC_OPERATIONS`` must name exactly its operations, and one counts
as implemented when ``kv_emulator.management.app.HANDLERS`` has a handler for it.

The list of operations comes from the official specs (secrets.json, keys.json, certificates.json of
api-version 2026-04-01); the route table (``kv_emulator.http.routes.OPERATIONS``) must name exactly the same
(method, path, operationId) triples, and an operation counts as implemented when
``kv_emulator.api.HANDLERS`` has a handler for it.

    python scripts/coverage.py            # write docs/coverage.md
    python scripts/coverage.py --check    # exit 1 if docs/coverage.md is stale or the routes drifted
    python scripts/coverage.py --specs DIR

Exit status: 0 when all is well; 1 when the specs cannot be read, the route table and the specs disagree,
or (with ``--check``) docs/coverage.md is not what would be generated.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS_DIR = REPO_ROOT.parent / "shared" / "specs" / "keyvault" / "2026-04-01"
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "coverage.md"
DEFAULT_ARM_SPEC = REPO_ROOT.parent / "shared" / "specs" / "keyvault-arm" / "2026-02-01" / "openapi.json"

#: The spec files, in the order the document lists them, with their section titles.
SPEC_FILES: tuple[tuple[str, str], ...] = (
    ("secrets.json", "Secrets"),
    ("keys.json", "Keys"),
    ("certificates.json", "Certificates"),
)

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

IMPLEMENTED = "implemented"
NOT_IMPLEMENTED = "not implemented (501)"

Operation = tuple[str, str, str]  # (METHOD, path template, operationId)


class CoverageError(Exception):
    """The specs cannot be read, or they and the emulator's route table disagree."""


@dataclass(frozen=True)
class SpecFile:
    """One spec file's operations, in the order the spec lists them."""

    filename: str
    title: str
    api_version: str
    operations: tuple[Operation, ...]


# -- reading ------------------------------------------------------------------------------------


def load_specs(specs_dir: Path = DEFAULT_SPECS_DIR) -> list[SpecFile]:
    """Read the operations of every spec file; raise :class:`CoverageError` if one is missing or malformed."""
    specs_dir = Path(specs_dir)
    if not specs_dir.is_dir():
        raise CoverageError(f"specs directory not found: {specs_dir}")
    specs: list[SpecFile] = []
    for filename, title in SPEC_FILES:
        path = specs_dir / filename
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CoverageError(f"cannot read spec {path}: {exc}") from exc
        operations: list[Operation] = []
        for template, item in document.get("paths", {}).items():
            for method, operation in item.items():
                if method.lower() not in _HTTP_METHODS:
                    continue  # "parameters" and vendor extensions
                operation_id = operation.get("operationId")
                if not operation_id:
                    raise CoverageError(f"{filename}: {method.upper()} {template} has no operationId")
                operations.append((method.upper(), template, operation_id))
        api_version = str(document.get("info", {}).get("version", "unknown"))
        specs.append(SpecFile(filename, title, api_version, tuple(operations)))
    return specs


def _importable() -> None:
    """Let the emulator's modules be imported, from wherever the script runs (they are read only when needed)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


def load_emulator() -> tuple[tuple[Operation, ...], Mapping[str, object]]:
    """The emulator's route table and handler table."""
    _importable()
    from kv_emulator.api import HANDLERS
    from kv_emulator.http.routes import OPERATIONS

    return tuple(OPERATIONS), HANDLERS


# -- checking -----------------------------------------------------------------------------------


def route_problems(specs: Sequence[SpecFile], routes: Iterable[Operation], handlers: Iterable[str] = ()) -> list[str]:
    """Every way the route table (and handler table) disagrees with the specs; empty when they agree."""
    problems: list[str] = []
    spec_ops = [op for spec in specs for op in spec.operations]
    route_list = [(method.upper(), template, operation) for method, template, operation in routes]

    for label, ops in (("the specs", spec_ops), ("the route table", route_list)):
        seen: set[Operation] = set()
        for op in ops:
            if op in seen:
                problems.append(f"{label} list {_show(op)} twice")
            seen.add(op)

    spec_set, route_set = set(spec_ops), set(route_list)
    problems.extend(f"in the specs but not in the route table: {_show(op)}" for op in spec_ops if op not in route_set)
    problems.extend(f"in the route table but not in the specs: {_show(op)}" for op in route_list if op not in spec_set)

    known_ids = {operation for _, _, operation in spec_ops} | managed_hsm_ids()
    problems.extend(
        f"HANDLERS has a handler for {name!r}, which no spec operation is called"
        for name in sorted(handlers)
        if name not in known_ids
    )
    return problems


def load_arm_spec(path: Path = DEFAULT_ARM_SPEC) -> tuple[str, tuple[Operation, ...]]:
    """(api-version, operations) of the Microsoft.KeyVault resource-manager spec, in spec order."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CoverageError(f"cannot read the control-plane spec {path}: {exc}") from exc
    operations = tuple(
        (method.upper(), template, operation["operationId"])
        for template, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method.lower() in _HTTP_METHODS
    )
    return str(document.get("info", {}).get("version", "unknown")), operations


def control_plane_lines(arm_spec: Path = DEFAULT_ARM_SPEC) -> list[str]:
    """The control-plane section: every spec operation with its status; the route table must match the spec."""
    _importable()
    from kv_emulator.management.app import HANDLERS as ARM_HANDLERS
    from kv_emulator.management.routes import KEYVAULT_SPEC_OPERATIONS

    version, operations = load_arm_spec(arm_spec)
    problems = route_problems(
        [SpecFile("openapi.json", "Control plane", version, operations)], KEYVAULT_SPEC_OPERATIONS
    )
    if problems:
        details = "\n".join(f"  - {problem}" for problem in problems)
        raise CoverageError(f"kv_emulator.management.routes does not match the control-plane spec:\n{details}")
    done = sum(1 for _, _, operation in operations if operation in ARM_HANDLERS)
    lines = [
        "",
        "## Control plane (Azure Resource Manager, `Microsoft.KeyVault` `openapi.json`)",
        "",
        f"The operations of the resource-manager spec (api-version {version}) at `https://management.azure.com`: "
        f"{done} of {len(operations)} implemented. The rest answer HTTP 501 with an ARM-shaped error naming the "
        "operation. Subscriptions, tenants, resource groups and role assignments (other specs) are described in "
        "docs/control-plane.md.",
        "",
        "| operationId | method | path | status |",
        "| --- | --- | --- | --- |",
    ]
    for method, template, operation in operations:
        status = IMPLEMENTED if operation in ARM_HANDLERS else NOT_IMPLEMENTED
        lines.append(f"| `{operation}` | {method} | `{template}` | {status} |")
    return lines


def managed_hsm_ids() -> set[str]:
    """The operationIds of the Managed HSM administration table (handlers may implement them too)."""
    _importable()
    from kv_emulator.http.routes import MANAGED_HSM_OPERATIONS

    return {operation for _, _, operation in MANAGED_HSM_OPERATIONS}


def managed_hsm_lines(implemented: Iterable[str]) -> list[str]:
    """The Managed HSM administration section, from the emulator's own table (its specs are not vendored)."""
    _importable()
    from kv_emulator.api import OPERATION_SINCE
    from kv_emulator.api.operation import FIRST
    from kv_emulator.http.routes import MANAGED_HSM_OPERATIONS

    done = set(implemented)
    count = sum(1 for _, _, operation in MANAGED_HSM_OPERATIONS if operation in done)
    lines = [
        "",
        "## Managed HSM administration (`rbac.json`, `backuprestore.json`, `settings.json`, `securitydomain.json`)",
        "",
        "The administration operations of a Managed HSM (what `azure-keyvault-administration`'s "
        "`KeyVaultAccessControlClient`, `KeyVaultBackupClient` and `KeyVaultSettingsClient` call, and the "
        f"security domain): {count} of {len(MANAGED_HSM_OPERATIONS)} implemented (see docs/managed-hsm.md). They "
        "are routed on Managed HSM hosts (`https://<name>.managedhsm.azure.net`) only, so a client of one not "
        "implemented gets a 501 naming the operation, not a 404 it would read as `ResourceNotFoundError`; on a "
        "vault host their paths are unknown (404), as on the service. The operationIds are the legacy specs' "
        "(`kv_emulator.http.routes.MANAGED_HSM_OPERATIONS`).",
        "",
        "| operationId | method | path | status | since |",
        "| --- | --- | --- | --- | --- |",
    ]
    for method, template, operation in MANAGED_HSM_OPERATIONS:
        status = IMPLEMENTED if operation in done else NOT_IMPLEMENTED
        since = OPERATION_SINCE.get(operation, FIRST)
        lines.append(f"| `{operation}` | {method} | `{template}` | {status} | {since} |")
    return lines


def _show(op: Operation) -> str:
    method, template, operation = op
    return f"{method} {template} ({operation})"


# -- rendering ----------------------------------------------------------------------------------


def render(specs: Sequence[SpecFile], implemented: Iterable[str], arm_spec: Path = DEFAULT_ARM_SPEC) -> str:
    """The Markdown text of docs/coverage.md: deterministic, in spec order."""
    done = set(implemented)
    versions = sorted({spec.api_version for spec in specs})
    lines = [
        "# Operation coverage",
        "",
        "<!-- Generated by scripts/coverage.py from the official specs; do not edit by hand. -->",
        "",
        "Every data-plane operation of the Key Vault REST specs "
        f"(api-version {', '.join(versions)}: {', '.join(f'`{spec.filename}`' for spec in specs)}) "
        "has a route in kv-emulator, named by the spec's `operationId`. An operation marked "
        '"implemented" behaves like the service. An operation marked "not implemented (501)" is still '
        "routed, challenged and journaled, and then answers HTTP 501 with a Key Vault-shaped error body "
        '(`{"error": {"code": "NotImplemented", "message": ...}}`) whose message names the operation, so '
        "a test that reaches it fails loudly instead of getting a silent 404 or a made-up answer. "
        "Regenerate this page with `python scripts/coverage.py`; CI runs it with `--check`.",
        "",
        "## Totals",
        "",
    ]
    grand_done = grand_all = 0
    for spec in specs:
        count = sum(1 for _, _, operation in spec.operations if operation in done)
        grand_done += count
        grand_all += len(spec.operations)
        lines.append(f"- {spec.title}: {count} of {len(spec.operations)} implemented")
    lines.append(f"- All: {grand_done} of {grand_all} implemented")

    from kv_emulator.api import OPERATION_SINCE
    from kv_emulator.api.availability import FIELD_SINCE, FIRST

    lines += [
        "",
        "## Api-versions",
        "",
        "The column *since* is the first api-version that has the operation (its record's `since`, beside its",
        "handler in `kv_emulator/api/`). At an older api-version the request is answered as the service",
        "answers a path it does not know at that version: it is routed again among that version's operations",
        "(`GET /keys/k/rotationpolicy` at 7.2 is `GetKey` of a version called `rotationpolicy`: 404",
        "`KeyNotFound`; `POST /rng` at 7.2: 404). Request fields newer than their operation are ignored at",
        "older api-versions, like any unknown property or parameter, and are not rendered:",
        "",
        "| operation or model | field | since |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{owner}` | `{field}` | {since} |" for (owner, field), since in FIELD_SINCE.items()]

    for spec in specs:
        lines += [
            "",
            f"## {spec.title} (`{spec.filename}`)",
            "",
            "| operationId | method | path | status | since |",
            "| --- | --- | --- | --- | --- |",
        ]
        for method, template, operation in spec.operations:
            status = IMPLEMENTED if operation in done else NOT_IMPLEMENTED
            since = OPERATION_SINCE.get(operation, FIRST)
            lines.append(f"| `{operation}` | {method} | `{template}` | {status} | {since} |")
    lines += managed_hsm_lines(done)
    lines += control_plane_lines(arm_spec)
    return "\n".join(lines) + "\n"


def generate(specs_dir: Path = DEFAULT_SPECS_DIR) -> str:
    """Read everything, check the route table against the specs, and return the document's text."""
    specs = load_specs(specs_dir)
    routes, handlers = load_emulator()
    problems = route_problems(specs, routes, handlers)
    if problems:
        details = "\n".join(f"  - {problem}" for problem in problems)
        raise CoverageError(f"kv_emulator.http.routes.OPERATIONS does not match the specs in {specs_dir}:\n{details}")
    # The control-plane spec sits beside the data-plane ones: <specs>/keyvault/<version> -> <specs>/keyvault-arm.
    arm_spec = Path(specs_dir).parent.parent / "keyvault-arm" / "2026-02-01" / "openapi.json"
    return render(specs, handlers, arm_spec)


# -- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/coverage.md from the Key Vault specs.")
    parser.add_argument(
        "--specs", type=Path, default=DEFAULT_SPECS_DIR, help=f"spec directory (default: {DEFAULT_SPECS_DIR})"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"document to write or check (default: {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the document is not what would be generated"
    )
    args = parser.parse_args(argv)

    try:
        text = generate(args.specs)
    except CoverageError as exc:
        print(f"coverage: {exc}", file=sys.stderr)
        return 1

    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            reason = "does not exist" if current is None else "is out of date"
            print(
                f"coverage: {output} {reason}; regenerate it with `python scripts/coverage.py`.",
                file=sys.stderr,
            )
            return 1
        print(f"coverage: {output} is up to date.")
        return 0

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"coverage: wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
