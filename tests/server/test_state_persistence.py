"""A persistent server keeps the state format in SQLite, one JSON row per object (docs/state.md), and the
``kv-emulator export``/``import`` commands move it in and out. The emulator's own guarantees (no Azure
counterpart): a restart loads what was stored unchanged; a write stores only what it touched; a data dir of a
newer format, or one that holds pickles, is refused and left untouched; an older document (the committed
format-1 fixture, or a row without a field a later build added as optional) loads."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from state_support import populate

import kv_emulator
from kv_emulator.server import Server, ServerOptions

API = {"api-version": "7.5"}
TOKEN = {"Authorization": "Bearer any-token"}
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "state-format-1.json"
ROOT = Path(__file__).resolve().parents[2]


def options(data_dir: Path) -> ServerOptions:
    return ServerOptions(port=0, proxy_port=0, data_dir=data_dir, write_runtime=False)


def vault(server: Server, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{server.url}{path}", params=API, headers=TOKEN, verify=str(server.ca_path), timeout=10, **kwargs
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_restart_loads_everything_that_was_stored(tmp_path: Path) -> None:
    with Server(kv_emulator.Emulator(certificate_issuance_time=0), options(tmp_path)) as first:
        populate(first.emulator)
        assert vault(first, "PUT", "/secrets/over-http", json={"value": "1"}).status_code == 200
        assert vault(first, "DELETE", "/secrets/db").status_code == 200
        before = first.emulator.export_state()
    with Server(kv_emulator.Emulator(certificate_issuance_time=0), options(tmp_path)) as second:
        after = second.emulator.export_state()
        assert vault(second, "GET", "/deletedsecrets/db").json()["recoveryId"].endswith("/deletedsecrets/db")
    assert abs(after.pop("clock")["offset"] - before.pop("clock")["offset"]) < 1
    assert after == before


def test_the_data_dir_holds_only_json(tmp_path: Path) -> None:
    with Server(kv_emulator.Emulator(), options(tmp_path)) as server:
        server.emulator.vault().secrets.set("s", "v")
        vault(server, "PUT", "/secrets/t", json={"value": "w"})
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    texts = [
        row[0]
        for table in ("state_sections", "state_vaults", "state_objects")
        for row in db.execute(f"SELECT state FROM {table}")
    ]
    assert texts and all(isinstance(json.loads(text), (dict, list)) for text in texts)
    names = {row[0] for row in db.execute("SELECT name FROM state_objects")}
    assert names == {"s", "t"}


def test_a_write_stores_only_what_it_touched(tmp_path: Path) -> None:
    """The cost of a write does not grow with the vault: one set_secret in a vault of 500 writes a handful of
    rows (its object; the vault's and the sections' rows only if they changed), not 500."""
    from kv_emulator.server.persistence import StateStore

    kv = kv_emulator.Emulator()
    for i in range(500):
        kv.vault().secrets.set(f"filler-{i}", "x")
    store = StateStore(tmp_path / "state.sqlite3")
    store.save(kv)
    written = store._db.total_changes
    kv.vault().secrets.set("one-more", "y")
    store.save(kv, "kv-emulator.vault.azure.net")
    assert store._db.total_changes - written <= 3
    kv.vault().secrets.delete("filler-7")
    store.save(kv, "kv-emulator.vault.azure.net")
    stored = json.loads(store._db.execute("SELECT state FROM state_objects WHERE name = 'filler-7'").fetchone()[0])
    assert "deleted" in stored
    store.close()


def test_a_newer_format_is_refused_and_left_untouched(tmp_path: Path) -> None:
    with Server(kv_emulator.Emulator(), options(tmp_path)) as server:
        server.emulator.vault().secrets.set("kept", "v")
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute("UPDATE meta SET value = '7' WHERE name = 'format'")
    db.commit()
    db.close()
    before = digest(tmp_path / "state.sqlite3")
    with pytest.raises(
        RuntimeError,
        match=r"state format 7, written by a newer kv-emulator; this build reads state "
        r"formats 1 to 1.*left untouched",
    ):
        Server(kv_emulator.Emulator(), options(tmp_path)).start()
    assert digest(tmp_path / "state.sqlite3") == before


def test_a_pickled_data_dir_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """The build before the state format pickled its vaults: loading a pickle runs what the file says."""
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema', '1')")
    db.execute("CREATE TABLE vaults (address TEXT PRIMARY KEY, state BLOB NOT NULL)")
    db.execute("INSERT INTO vaults VALUES ('x.vault.azure.net', ?)", (b"\x80\x05cos\nsystem\n.",))
    db.commit()
    db.close()
    before = digest(tmp_path / "state.sqlite3")
    with pytest.raises(RuntimeError, match=r"pickled its state.*never loads pickles"):
        Server(kv_emulator.Emulator(), options(tmp_path)).start()
    assert digest(tmp_path / "state.sqlite3") == before


def test_a_row_without_an_optional_field_loads(tmp_path: Path) -> None:
    """A build that adds an optional model field reads an older data dir unchanged: take fields out of a
    stored row, as an older build would have written it, and start."""
    with Server(kv_emulator.Emulator(), options(tmp_path)) as server:
        server.emulator.vault().secrets.set("older", "v", content_type="text/plain")
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    row = json.loads(db.execute("SELECT state FROM state_objects WHERE name = 'older'").fetchone()[0])
    for version in row["versions"]:
        del version["content_type"], version["tags"], version["attributes"]["expires"]
    db.execute("UPDATE state_objects SET state = ? WHERE name = 'older'", (json.dumps(row),))
    db.commit()
    db.close()
    with Server(kv_emulator.Emulator(), options(tmp_path)) as again:
        answer = vault(again, "GET", "/secrets/older").json()
        assert answer["value"] == "v" and "contentType" not in answer and "exp" not in answer["attributes"]


def test_the_format_1_fixture_loads() -> None:
    """Written by the first build of the format (tests/fixtures/state-format-1.json): every later build loads it."""
    document = json.loads(FIXTURE.read_text())
    assert document["format"] == 1
    kv = kv_emulator.Emulator().load(FIXTURE)
    fixture = kv.vault("fixture")
    assert [v.payload.value for v in fixture.secrets.list_versions("db-password")] == ["first", "second"]
    assert fixture.secrets.get_deleted("old").obj.latest.payload.value == "bye"
    assert fixture.keys.get_rotation_policy("signing").lifetime_actions[0].action == "Rotate"
    assert fixture.certificates.get("web").payload.x509.subject.rfc4514_string() == "CN=web.example"
    assert kv.identity.principals()[0].client_id == "fixture-app"
    assert _within(document, kv.export_state())  # a later build may write more (optional fields), never less


def _within(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` holds everything ``expected`` does (dicts may have more keys)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _within(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(_within, expected, actual))
    return bool(expected == actual)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kv_emulator", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_export_and_import_on_a_data_dir(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    with Server(kv_emulator.Emulator(), options(source)) as server:
        server.emulator.vault().secrets.set("moved", "v1")
        server.emulator.vault().secrets.set("moved", "v2")
        running = _cli("export", str(tmp_path / "live.json"), "--data-dir", str(source))
        assert running.returncode == 0, running.stderr  # a running server's state can be read
        refused = _cli("import", str(FIXTURE), "--data-dir", str(source))
        assert refused.returncode == 1 and "cannot import while a server runs" in refused.stderr
    exported = _cli("export", str(tmp_path / "state.json"), "--data-dir", str(source))
    assert exported.returncode == 0, exported.stderr
    imported = _cli("import", str(tmp_path / "state.json"), "--data-dir", str(target))
    assert imported.returncode == 0 and "imported 1 vault(s)" in imported.stderr, imported.stderr
    with Server(kv_emulator.Emulator(), options(target)) as server:
        versions = vault(server, "GET", "/secrets/moved/versions").json()["value"]
        assert len(versions) == 2 and vault(server, "GET", "/secrets/moved").json()["value"] == "v2"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 99}))
    refused = _cli("import", str(bad), "--data-dir", str(target))
    assert refused.returncode == 1 and "state format 99" in refused.stderr
    missing = _cli("export", "-", "--data-dir", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "nothing to export" in missing.stderr


def test_get_and_put_state_in_full(tmp_path: Path) -> None:
    with Server(kv_emulator.Emulator(), options(tmp_path)) as server:
        base = f"{server.url}/_kv/state"
        server.emulator.vault().secrets.set("v", "1")
        server.emulator.vault().secrets.set("v", "2")
        full = requests.get(base, params={"full": "true"}, verify=str(server.ca_path), timeout=10).json()
        assert full["format"] == 1
        requests.post(f"{server.url}/_kv/reset", verify=str(server.ca_path), timeout=10).raise_for_status()
        put = requests.put(base, json=full, verify=str(server.ca_path), timeout=10)
        assert put.status_code == 200, put.text
        assert len(vault(server, "GET", "/secrets/v/versions").json()["value"]) == 2
        newer = requests.put(base, json={"format": 9}, verify=str(server.ca_path), timeout=10)
        assert newer.status_code == 400 and "state format 9" in newer.json()["error"]["message"]
    with Server(kv_emulator.Emulator(), options(tmp_path)) as again:  # the PUT was stored
        assert len(vault(again, "GET", "/secrets/v/versions").json()["value"]) == 2


def test_a_state_document_is_a_seed_everywhere(tmp_path: Path) -> None:
    """emulate(seed=...), a server's --seed and kv_seed read a state document with the seed loader."""
    with kv_emulator.emulate(seed=FIXTURE) as kv:
        assert kv.vault("fixture").secrets.get("db-password").payload.value == "second"
    seeded = ServerOptions(port=0, proxy_port=0, data_dir=tmp_path, write_runtime=False, seed=FIXTURE)
    with Server(kv_emulator.Emulator(), seeded) as server:
        assert len(server.emulator.vault("fixture").secrets.list_versions("db-password")) == 2
    test = tmp_path / "test_seeded.py"
    test.write_text(
        "def test_seeded(keyvault):\n"
        "    assert keyvault.vault('fixture').secrets.get('db-password').payload.value == 'second'\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(test), "-q", "-p", "no:cacheprovider", "--kv-seed", str(FIXTURE)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_that_fails_midway_leaves_what_was_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``kv-emulator import`` (and an upgrade) replace the stored state in one transaction: an error after the
    old rows would have been deleted (here: a row that cannot be written) leaves the data dir as it was."""
    from kv_emulator.server import persistence

    path = tmp_path / "state.sqlite3"
    kept = kv_emulator.Emulator()
    kept.vault().secrets.set("keep", "me")
    store = persistence.StateStore(path)
    store.save(kept)
    store.close()
    other = kv_emulator.Emulator()
    other.vault().secrets.set("new", "x")
    document = other.export_state()
    monkeypatch.setattr(persistence, "_text", lambda state: object())  # nothing can store this
    with pytest.raises((AttributeError, TypeError, sqlite3.Error)):
        persistence.write_state(path, document, kv_emulator.Emulator)
    monkeypatch.undo()
    vaults = persistence.read_state(path)["registry"]["vaults"]
    assert [item["name"] for vault in vaults for item in vault["secrets"]["objects"]] == ["keep"]
