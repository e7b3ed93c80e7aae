"""``kv-emulator export FILE`` and ``kv-emulator import FILE``: a data dir's state as one JSON document.

``export`` reads ``state.sqlite3`` (a running server's too: SQLite's WAL lets it read a committed snapshot) and
writes the state document (docs/state.md). ``import`` loads a state document, or a seed file, into a fresh
emulator first (so a file that cannot be loaded changes nothing), then replaces the data dir's state with it;
it takes the data dir's lock, so it refuses while a server serves from there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import seed
from .env import RUNTIME_FILE
from .lock import DataDirLock
from .persistence import read_state, write_state

__all__ = ["export_state_file", "import_state_file"]

STATE_FILE = "state.sqlite3"


def export_state_file(data_dir: Path, target: str) -> int:
    """Write the data dir's state to ``target`` (``-``: standard output); 0, or 1 with a message."""
    path = data_dir / STATE_FILE
    if not path.exists():
        print(f"kv-emulator: no state in {data_dir} (no {STATE_FILE}): nothing to export", file=sys.stderr)
        return 1
    try:
        document = read_state(path)
    except (RuntimeError, ValueError) as exc:
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(document, indent=1) + "\n"
    if target == "-":
        sys.stdout.write(text)
    else:
        Path(target).write_text(text, encoding="utf-8")
        vaults = len(document.get("registry", {}).get("vaults", []))
        print(f"kv-emulator: exported {vaults} vault(s) from {data_dir} to {target}", file=sys.stderr)
    return 0


def import_state_file(data_dir: Path, source: str, make_emulator: Callable[[], Any]) -> int:
    """Replace the data dir's state with a state document or seed file; 0, or 1 with a message."""
    try:
        document = seed.load_seed(Path(source))
    except seed.SeedError as exc:
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 1
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = DataDirLock(data_dir, RUNTIME_FILE)
    try:
        lock.acquire()
    except RuntimeError as exc:
        print(f"kv-emulator: cannot import while a server runs: {exc}", file=sys.stderr)
        return 1
    try:
        emulator = make_emulator()
        seed.apply(emulator, document)
        state = emulator.export_state()
        vaults = write_state(data_dir / STATE_FILE, state, make_emulator)
    except (RuntimeError, ValueError) as exc:
        print(f"kv-emulator: {exc}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(f"kv-emulator: imported {vaults} vault(s) from {source} into {data_dir}", file=sys.stderr)
    return 0
