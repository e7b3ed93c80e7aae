"""docs/errors.md against kv_emulator/errors.py: every error kind has its row, and every kind the code calls
verified says where the service was seen sending it.

Complements ``tests/docs/test_examples.py::test_docs_list_every_error_kind`` (which only asks for the name somewhere
on the page): here the kind must be a row of the "Error kinds" table, and the row's evidence must agree with the
class's ``verified`` flag.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from kv_emulator import errors

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
KINDS = sorted(
    name
    for name in errors.__all__
    if inspect.isclass(getattr(errors, name)) and issubclass(getattr(errors, name), errors.KeyVaultError)
)
VERIFIED = [name for name in KINDS if getattr(errors, name).verified]
# What a source looks like in a docstring: a recording, a log, an issue number, an SDK's tests or Microsoft's docs.
SOURCE = re.compile(r"recorded|recording|\blogs?\b|#\d+|\bSDK\b|docs", re.IGNORECASE)
NO_EVIDENCE = ("none found", "emulator's own", "—")


def _kind_rows() -> dict[str, list[list[str]]]:
    """The rows of the "Error kinds" table, by kind, each split into its cells."""
    text = DOC.read_text()
    table = text[text.index("## Error kinds") :]
    table = table[: table.index("\n\n", table.index("| Kind |"))]
    rows: dict[str, list[list[str]]] = {}
    for line in table.splitlines():
        match = re.match(r"\| `(\w+)` \|", line)
        if match:
            rows.setdefault(match.group(1), []).append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_the_kinds_table_has_a_row_for_every_error_kind():
    rows = _kind_rows()
    assert KINDS, "no error kinds found in kv_emulator.errors"
    missing = [name for name in KINDS if name not in rows]
    assert not missing, f"docs/errors.md's Error kinds table has no row for: {missing}"
    unknown = sorted(set(rows) - set(KINDS))
    assert not unknown, f"docs/errors.md lists kinds kv_emulator.errors does not have: {unknown}"


@pytest.mark.parametrize("name", KINDS)
def test_a_kinds_row_shows_its_status_and_code(name):
    """The status and error.code of the class are those its rows show (a kind whose code varies by object,
    like SecretNotFound/KeyNotFound, shows the variants in its code cell)."""
    kind = getattr(errors, name)
    for row in _kind_rows()[name]:
        assert row[1] == str(kind.status), (name, row[1])
        if name not in ("ObjectNotFound", "DeletedObjectNotFound", "HsmRbacNotFound"):  # the code is per object kind
            assert f"`{kind.code}`" in row[2], (name, row[2])


@pytest.mark.parametrize("name", VERIFIED)
def test_a_verified_kind_names_its_source(name):
    """``verified = True`` is a claim about the real service: the docstring says where it was seen, and the
    doc's row gives evidence other than "none found" or "emulator's own"."""
    doc = inspect.getdoc(getattr(errors, name)) or ""
    assert SOURCE.search(doc), f"{name} is verified but its docstring names no source: {doc!r}"
    evidence = [row[-1] for row in _kind_rows()[name]]
    assert any(not cell.startswith(NO_EVIDENCE) for cell in evidence), (name, evidence)


def test_an_emulator_only_kind_is_not_marked_verified():
    """Conversely, a kind whose every row says "emulator's own" has nothing to verify against."""
    own = [name for name, rows in _kind_rows().items() if all(row[-1].startswith("emulator's own") for row in rows)]
    assert own, "the doc should mark the emulator's own kinds"
    claimed = [name for name in own if getattr(errors, name).verified]
    assert not claimed, f"verified, yet the doc says they are the emulator's own: {claimed}"
