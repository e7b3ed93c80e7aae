# ruff: noqa: E402  (the example moves to a temporary directory before it starts)
"""Export an emulator's whole state and load it into a fresh one (docs/state.md).

Every version, deleted objects and the keys that make backups restorable travel with the document; then the
same with a server's data directory: ``kv-emulator export`` writes it, ``kv-emulator import`` reads it into
another data directory.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
os.chdir(folder)  # the example writes state.json here

import kv_emulator

with kv_emulator.emulate() as kv:
    kv.vault().secrets.set("db", "v1")
    kv.vault().secrets.set("db", "v2")
    document = kv.export_state()  # plain JSON-able data
    kv.dump("state.json", full=True)  # the same, as a file

again = kv_emulator.Emulator().import_state(document)  # or kv_emulator.Emulator().load("state.json")
assert [v.payload.value for v in again.vault().secrets.list_versions("db")] == ["v1", "v2"]

# A backup taken by the first emulator restores in the second: the sealing key is part of the state.
blob = kv.vault().secrets.backup("db")
fresh = kv_emulator.Emulator().load("state.json")
fresh.vault().secrets.delete("db")
fresh.vault().secrets.purge("db")
assert fresh.vault().secrets.restore_backup(blob).payload.value == "v2"

# A data directory: import the file into one, export it again (no server needs to run).
cli = [sys.executable, "-m", "kv_emulator"]
subprocess.run([*cli, "import", "state.json", "--data-dir", str(folder / "data")], check=True)
subprocess.run([*cli, "export", "exported.json", "--data-dir", str(folder / "data")], check=True)
reloaded = kv_emulator.Emulator().load("exported.json")
assert len(reloaded.vault().secrets.list_versions("db")) == 2

print("state_export: ok")
